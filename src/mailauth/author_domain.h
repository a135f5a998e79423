// The Author Domain of DMARC (DMARCbis section 5.3.1): the domain of the RFC5322.From address,
// taken from the message's header fields as they arrive. Input is untrusted message text.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tern::mailauth {

struct AuthorDomain {
    std::optional<std::string> domain;  // lower-case A-labels; nullopt when there is not one
    std::string problem;                // why there is not one, for reasons and logs
    std::vector<std::string> domains;   // every distinct domain the From field(s) named
};

// Collects the From header fields of one message and finds its Author Domain: there must be
// exactly one From field, and its addresses (RFC 5322 section 3.4, with the obsolete forms and
// RFC 6532 UTF-8) must name exactly one domain; several mailboxes at one domain are one Author
// Domain, as section 5.3.1 counts domains. A U-label domain becomes its A-label.
class AuthorDomainFinder {
  public:
    // One header field whole and raw ("Name: value CRLF", with its folding); fields other than
    // From are ignored.
    void header_field(std::string_view raw);

    AuthorDomain result() const;

  private:
    std::vector<std::string> from_values_;
    std::size_t from_fields_ = 0;
};

// The Author Domain of one From field value (the text after the colon).
AuthorDomain author_domain_of(std::string_view from_value);

}  // namespace tern::mailauth
