// VerpCodec: PREFIX-ID-TAG-LOCAL=DOMAIN or PREFIX-ID-TAG; the recipient's local part may hold '-'
// and '=' itself, so the id and tag are read from the left and the domain from the last '='.
#include "feedback/verp.h"

#include "auth/crypto.h"
#include "base/text.h"

namespace tern::feedback {
namespace {

bool is_dot_atom_text(std::string_view s) {
    if (s.empty() || s.front() == '.' || s.back() == '.') return false;
    for (char c : s) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  std::string_view("!#$%&'*+/=?^_`{|}~.-").find(c) != std::string_view::npos;
        if (!ok) return false;
    }
    return s.find("..") == std::string_view::npos;
}

bool is_alnum(std::string_view s) {
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return false;
    return !s.empty();
}

}  // namespace

VerpCodec::VerpCodec(VerpOptions options) : options_(std::move(options)) {
    options_.domain = ascii_lower(options_.domain);
    options_.prefix = ascii_lower(options_.prefix);
}

bool VerpCodec::is_bounce_domain(std::string_view domain) const {
    return enabled() && ascii_iequals(domain, options_.domain);
}

std::string VerpCodec::tag(const std::string& secret, std::string_view id,
                           std::string_view recipient) const {
    std::string data = ascii_lower(id) + "\n" + ascii_lower(recipient);
    return hex_lower(auth::hmac_sha256(secret, data)).substr(0, kTagLength);
}

std::optional<std::string> VerpCodec::encode(std::string_view id, std::string_view recipient,
                                             bool compact) const {
    if (!enabled() || !is_alnum(id)) return std::nullopt;
    auto at = recipient.rfind('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == recipient.size()) return std::nullopt;
    std::string_view local = recipient.substr(0, at);
    std::string_view domain = recipient.substr(at + 1);
    if (!is_dot_atom_text(local) || !is_dns_name(domain)) return std::nullopt;
    std::string head = options_.prefix + "-" + ascii_lower(id) + "-" +
                       tag(options_.secrets.front(), id, recipient);
    std::string full = head + "-" + ascii_lower(local) + "=" + ascii_lower(domain);
    if (full.size() <= kMaxLocalPart) return full + "@" + options_.domain;
    if (compact && head.size() <= kMaxLocalPart) return head + "@" + options_.domain;
    return std::nullopt;
}

bool VerpCodec::holds(const VerpTarget& target, std::string_view recipient) const {
    for (const auto& secret : options_.secrets)
        if (auth::equal_constant_time(tag(secret, target.id, recipient), target.tag)) return true;
    return false;
}

std::optional<VerpTarget> VerpCodec::decode(std::string_view local, std::string_view domain) const {
    if (!is_bounce_domain(domain)) return std::nullopt;
    std::string l = ascii_lower(local);
    std::string_view rest = l;
    if (!rest.starts_with(options_.prefix + "-")) return std::nullopt;
    rest.remove_prefix(options_.prefix.size() + 1);
    auto dash = rest.find('-');
    if (dash == std::string_view::npos) return std::nullopt;
    std::string_view id = rest.substr(0, dash);
    rest.remove_prefix(dash + 1);
    if (!is_alnum(id) || rest.size() < kTagLength) return std::nullopt;
    std::string_view given = rest.substr(0, kTagLength);
    for (char c : given)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
    if (rest.size() == kTagLength) {
        // The compact form, taken at RCPT on its form alone: a queue id's (16 characters of
        // its alphabet, no I, L, O, U) and a tag's.
        std::string upper = ascii_upper(id);
        if (upper.size() != 16 ||
            upper.find_first_not_of("0123456789ABCDEFGHJKMNPQRSTVWXYZ") != std::string::npos)
            return std::nullopt;
        return VerpTarget{upper, "", std::string(given)};
    }
    if (rest[kTagLength] != '-') return std::nullopt;
    rest.remove_prefix(kTagLength + 1);
    auto eq = rest.rfind('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == rest.size()) return std::nullopt;
    std::string recipient =
        std::string(rest.substr(0, eq)) + "@" + std::string(rest.substr(eq + 1));
    VerpTarget target{ascii_upper(id), "", std::string(given)};
    if (!holds(target, recipient)) return std::nullopt;
    target.recipient = std::move(recipient);
    return target;
}

std::optional<VerpTarget> VerpCodec::decode(std::string_view address) const {
    auto at = address.rfind('@');
    if (at == std::string_view::npos) return std::nullopt;
    return decode(address.substr(0, at), address.substr(at + 1));
}

}  // namespace tern::feedback
