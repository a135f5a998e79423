// SrsCodec: SRS0/SRS1 addresses as Mail::SRS::Guarded (0.31) and python3-srs make and read them,
// so that an address made here reverses there and the other way (tests/integration/test_srs.py).
#include "delivery/srs.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>

#include "base/base64.h"
#include "base/text.h"

namespace tern::delivery {
namespace {

constexpr std::string_view kBase32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr std::int64_t kSecondsPerDay = 86400;
constexpr std::int64_t kTimestampSlots = 1024;  // two base32 characters
constexpr char kSeparator = '=';                // every separator but the one after the tag

enum class Tag { kNone, kSrs0, kSrs1 };

Tag tag_of(std::string_view local) {
    if (local.size() < 5 || !ascii_iequals(local.substr(0, 3), "SRS")) return Tag::kNone;
    char sep = local[4];
    if (sep != '=' && sep != '+' && sep != '-') return Tag::kNone;
    if (local[3] == '0') return Tag::kSrs0;
    if (local[3] == '1') return Tag::kSrs1;
    return Tag::kNone;
}

// Splits at the first n-1 '=' (as Perl's split with a limit): the last part keeps the rest.
std::vector<std::string_view> split_limit(std::string_view s, std::size_t n) {
    std::vector<std::string_view> parts;
    while (parts.size() + 1 < n) {
        auto eq = s.find(kSeparator);
        if (eq == std::string_view::npos) break;
        parts.push_back(s.substr(0, eq));
        s.remove_prefix(eq + 1);
    }
    parts.push_back(s);
    return parts;
}

struct Split {
    std::string_view local;
    std::string_view domain;
};

std::optional<Split> split_address(std::string_view address) {
    auto at = address.rfind('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == address.size()) return std::nullopt;
    return Split{address.substr(0, at), address.substr(at + 1)};
}

}  // namespace

std::string_view srs_error_text(SrsError error) {
    switch (error) {
        case SrsError::kNotSrs:
            return "not an SRS address";
        case SrsError::kMalformed:
            return "malformed SRS address";
        case SrsError::kBadHash:
            return "invalid SRS signature";
        case SrsError::kExpired:
            return "SRS address expired";
    }
    return "SRS error";
}

bool is_srs_local_part(std::string_view local) {
    return tag_of(local) != Tag::kNone;
}

SrsCodec::SrsCodec(SrsOptions options) : options_(std::move(options)) {}

std::string SrsCodec::timestamp(std::int64_t now) {
    std::int64_t days = now / kSecondsPerDay;
    std::string out;
    out += kBase32[static_cast<std::size_t>((days >> 5) & 31)];
    out += kBase32[static_cast<std::size_t>(days & 31)];
    return out;
}

namespace {

// HMAC-SHA1 over the parts lower-cased and concatenated (Mail::SRS adds each part to the HMAC),
// in standard base64 without its padding: 27 characters.
std::string full_hash(std::string_view secret, std::initializer_list<std::string_view> parts) {
    std::string data;
    for (auto p : parts)
        data += ascii_lower(p);
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    HMAC(EVP_sha1(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data(), &length);
    std::string b64 =
        base64_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), length));
    while (!b64.empty() && b64.back() == '=')
        b64.pop_back();
    return b64;
}

}  // namespace

std::string SrsCodec::hash(std::string_view secret,
                           std::initializer_list<std::string_view> parts) const {
    return full_hash(secret, parts).substr(0, options_.hash_length);
}

// A hash at least hash_length long that is a prefix of a secret's full hash, compared without
// case: a hop that smashed the local part's case (RFC 5321 says it must not) breaks nothing.
bool SrsCodec::hash_ok(std::string_view given,
                       std::initializer_list<std::string_view> parts) const {
    if (given.size() < options_.hash_length) return false;
    for (const auto& secret : options_.secrets) {
        std::string valid = full_hash(secret, parts);
        if (given.size() <= valid.size() && ascii_iequals(given, valid.substr(0, given.size())))
            return true;
    }
    return false;
}

bool SrsCodec::timestamp_ok(std::string_view stamp, std::int64_t now) const {
    if (stamp.size() != 2) return false;
    std::int64_t then = 0;
    for (char c : stamp) {
        auto pos = kBase32.find(static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c));
        if (pos == std::string_view::npos) return false;
        then = then * 32 + static_cast<std::int64_t>(pos);
    }
    std::int64_t today = (now / kSecondsPerDay) % kTimestampSlots;
    if (today < then) today += kTimestampSlots;  // the day counter wrapped since
    return today <= then + static_cast<std::int64_t>(options_.max_age_days);
}

std::expected<std::string, SrsError> SrsCodec::forward(std::string_view sender,
                                                       std::string_view forwarder_domain,
                                                       std::int64_t now) const {
    auto parts = split_address(sender);
    if (!parts) return std::unexpected(SrsError::kMalformed);
    auto [user, host] = *parts;
    // A '=' in the domain would move the border between the signed parts.
    if (host.find(kSeparator) != std::string_view::npos)
        return std::unexpected(SrsError::kMalformed);
    if (ascii_iequals(host, forwarder_domain)) return std::string(sender);
    const std::string& secret = options_.secrets.front();
    std::string tag1 = std::string("SRS1") + options_.separator;
    std::string at = "@" + std::string(forwarder_domain);
    switch (tag_of(user)) {
        case Tag::kSrs1: {
            // Re-forwarding an SRS1 address: keep its first forwarder, sign the part again.
            auto p = split_limit(user.substr(5), 3);
            if (p.size() == 3 && !p[1].empty() && !p[2].empty()) {
                return tag1 + hash(secret, {p[1], p[2]}) + "=" + std::string(p[1]) + "=" +
                       std::string(p[2]) + at;
            }
            break;  // not well formed: wrapped as an ordinary sender below
        }
        case Tag::kSrs0: {
            // The SRS0 part loses its tag but keeps its separator: "SRS1=HHHH=host==HHHH=TT=...".
            std::string_view rest = user.substr(4);
            return tag1 + hash(secret, {host, rest}) + "=" + std::string(host) + "=" +
                   std::string(rest) + at;
        }
        case Tag::kNone:
            break;
    }
    std::string stamp = timestamp(now);
    return std::string("SRS0") + options_.separator + hash(secret, {stamp, host, user}) + "=" +
           stamp + "=" + std::string(host) + "=" + std::string(user) + at;
}

std::expected<std::string, SrsError> SrsCodec::reverse(std::string_view address,
                                                       std::optional<std::int64_t> now) const {
    auto parts = split_address(address);
    if (!parts) return std::unexpected(SrsError::kNotSrs);
    std::string_view user = parts->local;
    Tag tag = tag_of(user);
    if (tag == Tag::kNone) return std::unexpected(SrsError::kNotSrs);
    std::string_view rest = user.substr(5);
    if (tag == Tag::kSrs1) {
        // SRS1=HHHH=host=<sep>HHHH=TT=...: the previous forwarder's SRS0 address.
        auto p = split_limit(rest, 3);
        if (p.size() != 3 || p[0].empty() || p[1].empty() || p[2].empty())
            return std::unexpected(SrsError::kMalformed);
        if (!hash_ok(p[0], {p[1], p[2]})) return std::unexpected(SrsError::kBadHash);
        return "SRS0" + std::string(p[2]) + "@" + std::string(p[1]);
    }
    auto p = split_limit(rest, 4);
    if (p.size() != 4 || p[0].empty() || p[1].empty() || p[2].empty() || p[3].empty())
        return std::unexpected(SrsError::kMalformed);
    if (!hash_ok(p[0], {p[1], p[2], p[3]})) return std::unexpected(SrsError::kBadHash);
    if (now && !timestamp_ok(p[1], *now)) return std::unexpected(SrsError::kExpired);
    return std::string(p[3]) + "@" + std::string(p[2]);
}

}  // namespace tern::delivery
