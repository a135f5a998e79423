// PublicSuffixList: the Public Suffix List (publicsuffix.org, Debian package `publicsuffix`) and
// the Organizational Domain of RFC 7489 section 3.2 derived from it, the optional alternative to
// DMARCbis's DNS tree walk. The list's text is trusted local data; names looked up are not.
#pragma once

#include <string>
#include <string_view>
#include <unordered_set>

#include "base/error.h"

namespace tern::mailauth {

// Where Debian's `publicsuffix` package installs the list.
inline constexpr std::string_view kDefaultPublicSuffixFile =
    "/usr/share/publicsuffix/public_suffix_list.dat";

class PublicSuffixList {
  public:
    // Reads the list's text format: one rule a line, "//" comments, "*." wildcards, "!"
    // exceptions, Unicode rules converted to A-labels. Lines that are no rule are skipped.
    static PublicSuffixList parse(std::string_view text);

    // Reads and parses the file at `path` (kNotFound when it does not exist).
    static Result<PublicSuffixList> load(const std::string& path);

    // The public suffix of `domain` (lower-case A-labels) by the list's algorithm: an exception
    // rule prevails, else the matching rule with the most labels, else the last label ("*").
    std::string_view public_suffix(std::string_view domain) const;

    // RFC 7489 section 3.2: the public suffix and one more label; `domain` itself when it is a
    // public suffix.
    std::string_view organizational_domain(std::string_view domain) const;

    std::size_t size() const { return rules_.size() + wildcards_.size() + exceptions_.size(); }

  private:
    std::unordered_set<std::string> rules_;       // "co.uk"
    std::unordered_set<std::string> wildcards_;   // "ck" for the rule "*.ck"
    std::unordered_set<std::string> exceptions_;  // "www.ck" for the rule "!www.ck"
};

}  // namespace tern::mailauth
