// Mailbox, ReversePath and ForwardPath: envelope addresses as RFC 5321 section 4.1.2 defines
// them, extended with UTF-8 local parts and domains by RFC 6531. Input is untrusted client text.
#pragma once

#include <cstddef>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

namespace tern::smtp {

// Size limits of RFC 5321 section 4.5.3.1.
inline constexpr std::size_t kMaxLocalPart = 64;
inline constexpr std::size_t kMaxDomain = 255;
inline constexpr std::size_t kMaxPath = 256;

struct Mailbox {
    std::string local;   // as sent: a Dot-string, or a Quoted-string with its quotes
    std::string domain;  // a domain, or an address literal with its brackets
    bool utf8 = false;   // holds non-ASCII octets (needs SMTPUTF8)

    // "local@domain"
    std::string str() const;
    // The local part without quoting: "\"a b\"" -> "a b".
    std::string unquoted_local() const;
    // The domain in lower case; address literals are left as sent.
    std::string domain_lower() const;
    bool operator==(const Mailbox&) const = default;
};

struct ReversePath {
    std::optional<Mailbox> mailbox;  // empty for the null sender "<>"
    bool null() const { return !mailbox.has_value(); }
    // "<>" or "<local@domain>"
    std::string str() const;
};

struct ForwardPath {
    Mailbox mailbox;               // for "<Postmaster>" the domain is empty
    bool bare_postmaster = false;  // "<Postmaster>" without a domain (RFC 5321 section 4.1.1.3)
    std::string str() const;
};

enum class PathError {
    kSyntax,    // not a path at all
    kTooLong,   // over a limit of section 4.5.3.1
    kNonAscii,  // UTF-8 where SMTPUTF8 was not given
};

// Parses a path at the start of `text` ("<...>") and advances `text` past it.
// Source routes ("<@a,@b:user@c>") are accepted and dropped, as section 4.1.1.3 allows.
std::expected<ReversePath, PathError> parse_reverse_path(std::string_view& text, bool allow_utf8);
std::expected<ForwardPath, PathError> parse_forward_path(std::string_view& text, bool allow_utf8);

// Parses a bare mailbox "local@domain" (no angle brackets), all of `text`.
std::expected<Mailbox, PathError> parse_mailbox(std::string_view text, bool allow_utf8);

// True when `domain` is a syntactically valid domain (RFC 5321 Domain, or a U-label domain
// when allow_utf8) or an address literal.
bool valid_domain_or_literal(std::string_view domain, bool allow_utf8);

// True when `s` is well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
bool valid_utf8(std::string_view s);

// True when every octet of `s` is 7-bit ASCII.
bool is_ascii(std::string_view s);

// The domain of a stored address "local@domain", lower-cased (ASCII); empty when it has no '@'.
std::string domain_of(std::string_view address);

}  // namespace tern::smtp
