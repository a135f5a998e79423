// UnsubscribeTokens: base64url without padding (URL-safe, no escaping needed anywhere); the tag
// is over a domain-separated text, so a VERP tag never serves as one.
#include "feedback/unsubscribe_token.h"

#include "auth/crypto.h"
#include "base/base64.h"
#include "base/text.h"

namespace tern::feedback {
namespace {

constexpr std::size_t kTagOctets = 16;

std::string tag(const std::string& secret, const std::string& payload) {
    std::string mac = auth::hmac_sha256(secret, "unsubscribe\n" + payload);
    return base64url_encode(mac.substr(0, kTagOctets));
}

std::string payload_of(const Unsubscriber& u) {
    return u.key + "\n" + ascii_lower(u.address);
}

}  // namespace

std::string UnsubscribeTokens::make(const Unsubscriber& u) const {
    std::string payload = u.key + "\n" + u.address;
    return base64url_encode(payload) + "." + tag(secrets_.front(), payload_of(u));
}

std::optional<Unsubscriber> UnsubscribeTokens::read(std::string_view token) const {
    if (token.size() > 2048) return std::nullopt;
    auto dot = token.find('.');
    if (dot == std::string_view::npos) return std::nullopt;
    auto payload = base64url_decode(token.substr(0, dot));
    if (!payload) return std::nullopt;
    auto nl = payload->find('\n');
    if (nl == std::string::npos) return std::nullopt;
    Unsubscriber u{payload->substr(0, nl), payload->substr(nl + 1)};
    if (u.address.find('@') == std::string::npos || u.address.find('\n') != std::string::npos)
        return std::nullopt;
    std::string_view given = token.substr(dot + 1);
    for (const auto& secret : secrets_)
        if (auth::equal_constant_time(tag(secret, payload_of(u)), given)) return u;
    return std::nullopt;
}

}  // namespace tern::feedback
