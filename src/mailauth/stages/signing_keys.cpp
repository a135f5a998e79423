// SigningKeys: key files read with the standard library, new ones created through open(2) for
// the mode and O_EXCL; generated keys are named DOMAIN.SELECTOR.key like `tern dkim keygen`'s.
#include "mailauth/stages/signing_keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <iterator>

#include "base/text.h"
#include "base/unique_fd.h"
#include "mailauth/key_record.h"

namespace tern::mailauth {

Result<PrivateKey> load_private_key(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::unexpected(Error::from_errno(errno, "cannot read " + path));
    std::string pem(std::istreambuf_iterator<char>(in), {});
    auto key = PrivateKey::from_pem(pem);
    if (!key) return fail(ErrorCode::kInvalid, path + ": " + key.error().message);
    return key;
}

Result<void> write_new_file(const std::string& path, std::string_view data) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!fd.valid()) return std::unexpected(Error::from_errno(errno, "cannot create " + path));
    while (!data.empty()) {
        ssize_t n = ::write(fd.get(), data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return std::unexpected(Error::from_errno(errno, "cannot write " + path));
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    if (::fsync(fd.get()) != 0)
        return std::unexpected(Error::from_errno(errno, "cannot sync " + path));
    return {};
}

namespace {

// A key the daemon signs with: readable, and not an RSA key verifiers refuse (RFC 8301).
Result<PrivateKey> load_signing_key(const std::string& path) {
    auto key = load_private_key(path);
    if (key && key->type() == KeyType::kRsa && key->bits() < 1024)
        return fail(ErrorCode::kInvalid,
                    path + ": an RSA key of " + std::to_string(key->bits()) +
                        " bits; verifiers refuse keys under 1024 bits (RFC 8301)");
    return key;
}

// The generated key of `domain` for `type`: read when an earlier start made it, else made now.
Result<SigningKey> generated_key(const std::string& dir, const std::string& domain, KeyType type,
                                 std::vector<GeneratedKey>* generated) {
    std::string selector = type == KeyType::kRsa ? "tern-rsa" : "tern-ed25519";
    std::string path = dir + "/" + domain + "." + selector + ".key";
    auto key = load_signing_key(path);
    if (!key && key.error().code != ErrorCode::kNotFound) return std::unexpected(key.error());
    if (!key) {
        auto made = PrivateKey::generate(type, 2048);
        if (!made) return std::unexpected(made.error());
        if (auto w = write_new_file(path, made->to_pem()); !w) return std::unexpected(w.error());
        if (generated)
            generated->push_back(GeneratedKey{path, selector + "._domainkey." + domain,
                                              key_record_text(made->public_key())});
        key = std::move(*made);
    }
    return SigningKey{domain, selector, std::make_shared<const PrivateKey>(std::move(*key)), ""};
}

}  // namespace

Result<SigningKeys> SigningKeys::load(const SigningKeysSetup& setup,
                                      std::vector<GeneratedKey>* generated) {
    SigningKeys out;
    for (const std::string& entry : setup.keys) {
        auto words = split_blanks(entry);
        if (words.size() != 3)
            return fail(ErrorCode::kInvalid,
                        "dkim.keys: \"" + entry + "\" is not \"domain selector key-file\"");
        auto key = load_signing_key(std::string(words[2]));
        if (!key) return fail(ErrorCode::kInvalid, "dkim.keys: " + key.error().message);
        std::string domain = ascii_lower(words[0]);
        out.keys_[domain].push_back(SigningKey{domain, std::string(words[1]),
                                               std::make_shared<const PrivateKey>(std::move(*key)),
                                               ""});
    }
    if (!setup.generate) return out;
    bool dir_made = false;
    for (const std::string& name : setup.domains) {
        std::string domain = ascii_lower(name);
        if (out.keys_.contains(domain)) continue;
        if (!dir_made) {
            if (::mkdir(setup.key_dir.c_str(), 0700) != 0 && errno != EEXIST)
                return std::unexpected(Error::from_errno(errno, "cannot create " + setup.key_dir));
            dir_made = true;
        }
        for (KeyType type : {KeyType::kRsa, KeyType::kEd25519}) {
            auto key = generated_key(setup.key_dir, domain, type, generated);
            if (!key) return fail(ErrorCode::kInvalid, "dkim: " + key.error().message);
            out.keys_[domain].push_back(std::move(*key));
        }
    }
    return out;
}

const std::vector<SigningKey>& SigningKeys::for_domain(std::string_view domain) const {
    static const std::vector<SigningKey> none;
    std::string name = ascii_lower(domain);
    std::string_view d = name;
    while (!d.empty()) {
        if (auto it = keys_.find(d); it != keys_.end()) return it->second;
        auto dot = d.find('.');
        if (dot == std::string_view::npos) break;
        d.remove_prefix(dot + 1);
    }
    return none;
}

}  // namespace tern::mailauth
