// VerpCodec: the return path Tern gives each recipient's delivery of mail it sends for others
// (VERP, docs/feedback.md), so that a bounce names the message and the recipient by the address
// it comes back to, whatever its text says: b-QUEUEID-TAG-LOCAL=DOMAIN@BOUNCE.DOMAIN, where TAG
// is an HMAC-SHA256 of the queue id and the recipient under the operator's secret (no one can
// make an address that suppresses a recipient of their choice). When that local part would be
// longer than SMTP's 64 octets, the compact b-QUEUEID-TAG: the recipient is then found among the
// message's recipients (the sent index) as the one whose tag it is. Case is not kept: mail
// systems may change it, so the parts are compared and returned in lower case (the queue id in
// upper).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tern::feedback {

struct VerpOptions {
    std::string domain;                // the bounce domain (its MX is this server); empty: off
    std::vector<std::string> secrets;  // the first signs, every one verifies (key rotation)
    std::string prefix = "b";          // the local part's first word
};

struct VerpTarget {
    std::string id;         // the queue id of the message sent
    std::string recipient;  // the recipient it was sent to, in lower case; empty: compact form
    std::string tag;        // as given (a compact address's is checked by holds())
};

class VerpCodec {
  public:
    static constexpr std::size_t kTagLength = 10;  // hex digits of the HMAC kept (40 bits)

    explicit VerpCodec(VerpOptions options);

    bool enabled() const { return !options_.domain.empty() && !options_.secrets.empty(); }
    const std::string& domain() const { return options_.domain; }
    bool is_bounce_domain(std::string_view domain) const;

    // Octets of a local part SMTP promises to carry (RFC 5321 4.5.3.1.1).
    static constexpr std::size_t kMaxLocalPart = 64;

    // The return path for `recipient` of message `id`; the compact form when the full one would
    // be too long and `compact` is allowed (the message's recipients are in the sent index);
    // nullopt when VERP is off or the address cannot be carried (quoted, not ASCII, too long).
    std::optional<std::string> encode(std::string_view id, std::string_view recipient,
                                      bool compact = false) const;

    // What a VERP address of ours (local part and domain) stands for; nullopt when it is not one
    // or (full form) its tag does not hold under any secret. A compact address's recipient is
    // empty: holds() says which recipient of the message it is.
    std::optional<VerpTarget> decode(std::string_view local, std::string_view domain) const;
    std::optional<VerpTarget> decode(std::string_view address) const;

    // Whether `target`'s tag is the one of `recipient` of its message, under any secret.
    bool holds(const VerpTarget& target, std::string_view recipient) const;

  private:
    std::string tag(const std::string& secret, std::string_view id,
                    std::string_view recipient) const;

    VerpOptions options_;
};

}  // namespace tern::feedback
