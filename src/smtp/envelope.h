// The envelope of one SMTP transaction: sender, recipients and the ESMTP parameters that
// travel with them (SIZE, BODY, SMTPUTF8 of RFC 1870/6152/6531; RET, ENVID, NOTIFY, ORCPT of RFC
// 3461; REQUIRETLS of RFC 8689).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "smtp/address.h"

namespace tern::smtp {

enum class BodyType : std::uint8_t { kUnspecified, k7Bit, k8BitMime, kBinaryMime };
enum class DsnRet : std::uint8_t { kUnspecified, kFull, kHeaders };

// RFC 3461 NOTIFY as a set; an empty set means "not given" (the default, FAILURE and DELAY).
struct DsnNotify {
    bool never = false;
    bool success = false;
    bool failure = false;
    bool delay = false;

    bool given() const { return never || success || failure || delay; }
    // Whether a notice of this kind is wanted, applying RFC 3461's default when NOTIFY is absent.
    bool wants_success() const { return success; }
    bool wants_failure() const { return !never && (failure || !given()); }
    bool wants_delay() const { return !never && (delay || !given()); }
    // "SUCCESS,FAILURE" or "NEVER"; empty when not given.
    std::string str() const;
    bool operator==(const DsnNotify&) const = default;
};

struct MailParams {
    std::optional<std::uint64_t> size;  // SIZE=, octets as declared by the client
    BodyType body = BodyType::kUnspecified;
    bool smtputf8 = false;
    DsnRet ret = DsnRet::kUnspecified;
    std::string envid;        // ENVID, decoded from xtext
    std::string auth;         // AUTH= of RFC 4954 section 5, decoded; "<>" when unknown
    bool requiretls = false;  // REQUIRETLS (RFC 8689): relay only over verified TLS
};

struct RcptParams {
    DsnNotify notify;
    std::string orcpt;  // ORCPT as "addr-type;address", address decoded from xtext
};

struct Recipient {
    ForwardPath path;
    RcptParams params;
};

struct Envelope {
    ReversePath sender;
    MailParams mail;
    std::vector<Recipient> recipients;  // accepted recipients only, in RCPT order
};

// RFC 3461 section 4: xtext decoding ("+2B" -> "+"); nullopt when `text` is not valid xtext.
std::optional<std::string> decode_xtext(std::string_view text);
// The inverse of decode_xtext, for passing DSN parameters on to the next hop.
std::string encode_xtext(std::string_view text);

}  // namespace tern::smtp
