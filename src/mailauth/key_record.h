// DKIM key records (RFC 6376 section 3.6.1, RFC 8463 for k=ed25519): the TXT record published
// at SELECTOR._domainkey.DOMAIN, parsed from untrusted DNS data, and written for publishing.
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "mailauth/dkim_keys.h"

namespace tern::mailauth {

struct KeyRecord {
    KeyType type = KeyType::kRsa;       // k=, rsa when absent
    std::string key;                    // p=, decoded; empty: the key has been revoked
    std::vector<std::string> hashes;    // h=; empty: every hash algorithm
    std::vector<std::string> services;  // s=; empty: "*"
    bool testing = false;               // t=y: the domain is testing DKIM
    bool strict_identity = false;       // t=s: i= must be in d= itself, not a subdomain

    bool revoked() const { return key.empty(); }
    bool allows_sha256() const;  // h= absent or naming sha256
    bool allows_email() const;   // s= absent or naming "email" or "*"
};

// Parses the record text (the TXT strings joined). Fails, with the reason, on a tag-list
// syntax error, v= present but not first or not "DKIM1", a k= that is neither rsa nor ed25519,
// a missing p=, or a p= that is not base64. Unknown tags and flags are ignored.
[[nodiscard]] std::expected<KeyRecord, std::string> parse_key_record(std::string_view text);

// "v=DKIM1; k=rsa; p=..." for `key`, with "; t=y" when `testing`.
std::string key_record_text(const PublicKey& key, bool testing = false);

// `text` cut into the strings of at most 255 octets that a TXT record is made of.
std::vector<std::string> txt_strings(std::string_view text);

}  // namespace tern::mailauth
