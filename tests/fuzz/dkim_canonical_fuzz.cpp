// libFuzzer target for DKIM canonicalisation and verification as a stream: the canonical body
// (both algorithms) and a whole DkimVerifier run must not depend on where the body is cut into
// chunks; relaxed output has no WSP runs or trailing WSP, and canonicalising twice changes
// nothing. Input layout: bytes 0-1 and 2-3 are two cut points, the rest is a message (header,
// empty line, body) whose signatures are checked against the RFC 8463 keys.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dns/answer.h"
#include "fuzz_check.h"
#include "fuzz_dns.h"
#include "mailauth/canonical.h"
#include "mailauth/dkim_verifier.h"
#include "message/header_split.h"

namespace tern::mailauth {
namespace {

using fuzz::check;

std::string canonical(std::string_view body, Canon canon, std::vector<std::size_t> cuts) {
    BodyCanonicalizer c(canon);
    std::string out;
    std::size_t from = 0;
    for (std::size_t cut : cuts) {
        c.feed(body.substr(from, cut - from), out);
        from = cut;
    }
    c.feed(body.substr(from), out);
    c.finish(out);
    return out;
}

void check_relaxed_form(std::string_view out) {
    check(out.empty() || out.ends_with("\r\n"));
    check(out.find("  ") == std::string_view::npos);
    check(out.find(" \r\n") == std::string_view::npos);
    check(out.find('\t') == std::string_view::npos);
    check(!out.ends_with("\r\n\r\n"));
}

dns::Answer txt(std::string_view text) {
    dns::Answer a;
    a.status = dns::Answer::Status::kOk;
    a.rdata.push_back(fuzz::txt_rdata(text));
    return a;
}

std::vector<std::string> verify(const message::SplitMessage& m, std::vector<std::size_t> cuts) {
    DkimVerifier v({}, 1528637909);
    for (const std::string& f : m.fields)
        v.header(f);
    v.end_headers();
    while (auto q = v.next_query()) {
        if (q->name.starts_with("brisbane."))
            v.feed(txt("v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="));
        else
            v.feed(dns::Answer{dns::Answer::Status::kNxDomain, false, {}, {}, {}});
    }
    std::size_t from = 0;
    for (std::size_t cut : cuts) {
        v.body(m.body.substr(from, cut - from));
        from = cut;
    }
    v.body(m.body.substr(from));
    v.end_body();
    std::vector<std::string> out;
    for (const DkimResult& r : v.results())
        out.push_back(std::string(result_name(r.result)) + " " + r.reason);
    return out;
}

}  // namespace
}  // namespace tern::mailauth

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace tern::mailauth;
    if (size < 4) return 0;
    std::string_view input(reinterpret_cast<const char*>(data) + 4, size - 4);
    std::size_t a = (std::size_t(data[0]) << 8 | data[1]) % (input.size() + 1);
    std::size_t b = (std::size_t(data[2]) << 8 | data[3]) % (input.size() + 1);
    if (a > b) std::swap(a, b);

    for (Canon canon : {Canon::kSimple, Canon::kRelaxed}) {
        std::string whole = canonical(input, canon, {});
        check(canonical(input, canon, {a, b}) == whole);
        check(canonical(whole, canon, {}) == whole);  // idempotent
        if (canon == Canon::kRelaxed) check_relaxed_form(whole);
        if (canon == Canon::kSimple) check(whole.ends_with("\r\n"));
        std::string header = canonical_header(input, canon);
        check(canonical_header(header, canon) == header);
    }

    auto message = tern::message::split_header(input);
    std::size_t n = message.body.size();
    auto whole = verify(message, {});
    check(verify(message, {a % (n + 1), std::max(a % (n + 1), b % (n + 1))}) == whole);
    return 0;
}
