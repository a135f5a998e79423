// Authentication-Results (RFC 8601) as data: the parsed form of one field, the parser of the
// section 2.2 grammar (CFWS, comments, versions) for fields that arrive, and the test of section
// 5 for incoming fields that claim Tern's own authserv-id. Input is untrusted message text.
#pragma once

#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tern::mailauth {

// propspec: ptype "." property "=" pvalue, e.g. header.d=example.com.
struct AuthProperty {
    std::string ptype;     // smtp, header, body, policy
    std::string property;  // mailfrom, helo, d, s, b, from, dmarc...
    std::string value;     // unquoted
    bool operator==(const AuthProperty&) const = default;
};

// resinfo: one method's result, e.g. "dkim=pass header.d=example.com".
struct ResultInfo {
    std::string method;          // spf, dkim, dmarc, arc...
    std::string method_version;  // "" when absent (version 1)
    std::string result;          // pass, fail... (registered per method, so kept as text)
    std::string comment;         // the comment after the result, without parentheses
    std::string reason;          // reason=, unquoted
    std::vector<AuthProperty> properties;
    bool operator==(const ResultInfo&) const = default;
};

struct AuthenticationResults {
    std::string authserv_id;
    std::string version;              // authres-version; "" when absent (version 1)
    std::vector<ResultInfo> results;  // empty: "none", no method was evaluated
    bool operator==(const AuthenticationResults&) const = default;
};

// Parses the value of an Authentication-Results field (the text after the colon; folding
// allowed). The error says what was expected where.
std::expected<AuthenticationResults, std::string> parse_authentication_results(
    std::string_view value);

// The authserv-id alone, when the value at least begins with one: enough to decide whether a
// field claims an identity even when the rest is malformed.
std::optional<std::string> parse_authserv_id(std::string_view value);

// True when `raw` ("Name: value CRLF") is an Authentication-Results field whose authserv-id is
// one of `ours` (compared case-insensitively): such a field arriving from outside must be removed
// (RFC 8601 section 5), however malformed the rest of it.
bool claims_authserv_id(std::string_view raw, std::span<const std::string> ours);

}  // namespace tern::mailauth
