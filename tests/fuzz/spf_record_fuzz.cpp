// libFuzzer target for SPF records (RFC 7208): arbitrary bytes through parse_spf_record, then a
// whole check_host() evaluation in which every TXT question is answered with those bytes.
//
// Input layout: byte 0 picks how the other questions are answered (and the client family),
// the rest is the record text ("v=spf1 " is put in front when bit 7 of byte 0 is set).
// Besides "no crash", it checks what callers rely on: a parsed record's domain-specs and CIDR
// lengths are valid, and every evaluation ends, within a bounded number of DNS questions, in one
// of the seven results, with an explanation only for fail.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "fuzz_dns.h"
#include "mailauth/spf.h"

namespace tern::mailauth {
namespace {

using fuzz::check;
using fuzz::txt_rdata;

std::string wire_name(std::string_view name) {
    std::string out;
    while (!name.empty()) {
        std::size_t dot = name.find('.');
        std::string_view label = name.substr(0, dot).substr(0, 63);
        out += static_cast<char>(label.size());
        out += label;
        name = dot == std::string_view::npos ? std::string_view{} : name.substr(dot + 1);
    }
    return out + '\0';
}

// Answers so that every mechanism has something to chew on; `mode` varies the outcome.
dns::Answer answer(const dns::Query& q, std::string_view record, std::uint8_t mode) {
    dns::Answer a;
    a.status = dns::Answer::Status::kOk;
    std::size_t h = std::hash<std::string>{}(q.name) + mode;
    if (h % 7 == 0) {
        a.status = dns::Answer::Status::kNxDomain;
        return a;
    }
    if ((mode & 0x40) && h % 11 == 0) {
        a.status = dns::Answer::Status::kTempFail;
        return a;
    }
    switch (q.type) {
        case dns::RecordType::kTxt:
            a.rdata.push_back(txt_rdata(record));
            break;
        case dns::RecordType::kA:
            a.rdata.push_back(std::string("\xc0\x00\x02\x01", 4));
            break;
        case dns::RecordType::kAaaa:
            a.rdata.push_back(std::string(15, '\x20') + '\x01');
            break;
        case dns::RecordType::kMx:
            for (int i = 0; i < 1 + static_cast<int>(h % 12); ++i)
                a.rdata.push_back(std::string("\x00\x0a", 2) +
                                  wire_name("mx" + std::to_string(i) + "." + q.name));
            break;
        case dns::RecordType::kPtr:
            for (int i = 0; i < 1 + static_cast<int>(h % 12); ++i)
                a.rdata.push_back(wire_name("host" + std::to_string(i) + ".example.com"));
            break;
        default:
            a.status = dns::Answer::Status::kNoData;
            break;
    }
    return a;
}

void check_record(const SpfRecord& record) {
    for (const auto& d : record.directives) {
        check(d.cidr4 <= 32 && d.cidr6 <= 128);
        if (!d.domain_spec.empty()) check(check_domain_spec(d.domain_spec).has_value());
        check(!d.text.empty());
    }
    if (record.redirect) check(check_domain_spec(*record.redirect).has_value());
    if (record.exp) check(check_domain_spec(*record.exp).has_value());
}

}  // namespace
}  // namespace tern::mailauth

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace tern::mailauth;
    if (size < 1) return 0;
    std::uint8_t mode = data[0];
    std::string record(reinterpret_cast<const char*>(data) + 1, size - 1);
    if (mode & 0x80) record = "v=spf1 " + record;

    if (auto parsed = parse_spf_record(record)) check_record(*parsed);

    SpfRequest request;
    request.client = *IpAddress::parse(mode & 0x01 ? "2020::1" : "192.0.2.1");
    request.helo = "helo.example.org";
    request.sender = mode & 0x02 ? "" : "user@example.com";
    SpfCheck spf(request);
    // 10 terms, each with at most 10 names, the validation of 10 PTR names, the explanation.
    int questions = 0;
    while (auto q = spf.next_query()) {
        check(++questions <= 200);
        check(!q->name.empty() && q->name.size() <= 253);
        spf.feed(answer(*q, record, mode));
    }
    const SpfOutcome& o = spf.outcome();
    check(spf.done());
    check(o.result != AuthResult::kPolicy);
    check(!o.explanation || o.result == AuthResult::kFail);
    check(o.dns_terms <= 11 && o.void_lookups <= 3);
    check(!o.reason.empty());
    return 0;
}
