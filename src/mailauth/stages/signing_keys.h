// SigningKeys: the daemon's DKIM keys per signing domain, loaded at start-up from [dkim] keys and
// made for domains that have none ([dkim] generate_keys): an RSA-2048 and an Ed25519 key, so
// that mail is dual-signed (RFC 8463 section 1: an Ed25519 signature beside the RSA one).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/error.h"
#include "mailauth/dkim_signer.h"

namespace tern::mailauth {

// A key made at start-up and the record that publishes it, for the operator's log.
struct GeneratedKey {
    std::string path;
    std::string record_name;   // "tern-rsa._domainkey.example.com"
    std::string record_value;  // "v=DKIM1; k=rsa; p=..."
};

struct SigningKeysSetup {
    std::vector<std::string> domains;  // signing domains
    std::vector<std::string> keys;     // "domain selector key-file"
    bool generate = true;              // domains without a key get tern-rsa and tern-ed25519
    std::string key_dir;               // where generated keys are written (mode 0700)
};

class SigningKeys {
  public:
    // Reads every key file; makes the missing keys (listed in `generated`). A key file that
    // cannot be read or is no usable key stops start-up.
    static Result<SigningKeys> load(const SigningKeysSetup& setup,
                                    std::vector<GeneratedKey>* generated = nullptr);

    // The keys for mail whose From domain is `domain`: its own, else those of the nearest parent
    // domain that has keys (d= of a parent still aligns under DMARC's relaxed mode). Empty when
    // none.
    const std::vector<SigningKey>& for_domain(std::string_view domain) const;

    bool empty() const { return keys_.empty(); }
    // Every key, by domain (for the dashboard's DKIM status).
    std::vector<SigningKey> all() const {
        std::vector<SigningKey> out;
        for (const auto& [domain, keys] : keys_)
            out.insert(out.end(), keys.begin(), keys.end());
        return out;
    }

  private:
    std::map<std::string, std::vector<SigningKey>, std::less<>> keys_;
};

// A PEM private key file (RSA of at least 1024 bits or Ed25519); the error names the file.
Result<PrivateKey> load_private_key(const std::string& path);

// Creates `path` with mode 0600 and O_EXCL, writes `data` and syncs it: an existing file (a key
// in use, or published) is never replaced; that failure has ErrorCode::kExists.
Result<void> write_new_file(const std::string& path, std::string_view data);

}  // namespace tern::mailauth
