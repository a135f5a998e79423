// libFuzzer target for Authentication-Results (RFC 8601) and the From field: arbitrary bytes as
// the value of an Authentication-Results field and of a From field. A field that parses must,
// written again by Tern's builder, parse to the same methods, results and properties and fit
// RFC 5322's line limit; the authserv-id test must agree with the parser; From parsing must
// give one A-label domain or a reason.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "mailauth/auth_results.h"
#include "mailauth/auth_results_builder.h"
#include "mailauth/author_domain.h"
#include "message/header_text.h"

namespace tern::mailauth {
namespace {

using fuzz::check;

// A value the builder writes unchanged: what clean_header_text keeps, within its bound.
bool survives_cleaning(const std::string& v) {
    return v.size() <= 200 && message::clean_header_text(v, false) == v;
}

void check_lines(const std::string& field) {
    std::size_t start = 0;
    while (start < field.size()) {
        std::size_t end = field.find("\r\n", start);
        check(end != std::string::npos);
        check(end - start <= message::kMaxLine);
        check(field.substr(start, end - start).find_first_of("\r\n") == std::string::npos);
        start = end + 2;
    }
}

void check_authentication_results(std::string_view value) {
    auto parsed = parse_authentication_results(value);
    auto id = parse_authserv_id(value);
    std::string raw = "Authentication-Results:" + std::string(value) + "\r\n";
    if (id) {
        std::vector<std::string> ours{*id};
        check(claims_authserv_id(raw, ours));
    }
    if (!parsed) return;
    check(id && *id == parsed->authserv_id);
    std::string written = format_authentication_results(*parsed);
    check_lines(written);
    check(written.starts_with("Authentication-Results: "));
    auto again = parse_authentication_results(
        std::string_view(written).substr(std::string_view("Authentication-Results:").size()));
    check(again.has_value());
    check(again->version == parsed->version);
    check(again->results.size() == parsed->results.size());
    for (std::size_t i = 0; i < parsed->results.size(); ++i) {
        const ResultInfo& a = parsed->results[i];
        const ResultInfo& b = again->results[i];
        check(a.method == b.method && a.method_version == b.method_version && a.result == b.result);
        check(a.properties.size() == b.properties.size());
        for (std::size_t j = 0; j < a.properties.size(); ++j) {
            check(a.properties[j].ptype == b.properties[j].ptype);
            check(a.properties[j].property == b.properties[j].property);
            if (survives_cleaning(a.properties[j].value))
                check(a.properties[j].value == b.properties[j].value);
        }
        if (survives_cleaning(a.reason)) check(a.reason == b.reason);
    }
    if (survives_cleaning(parsed->authserv_id) && !parsed->authserv_id.empty())
        check(again->authserv_id == parsed->authserv_id);
}

void check_from(std::string_view value) {
    AuthorDomain author = author_domain_of(value);
    check(author.domain.has_value() == author.problem.empty());
    if (author.domain) {
        check(author.domains.size() == 1 && author.domains[0] == *author.domain);
        for (char c : *author.domain)
            check((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                  c == '.');
    }
}

}  // namespace
}  // namespace tern::mailauth

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    tern::mailauth::check_authentication_results(text);
    tern::mailauth::check_from(text);
    return 0;
}
