// Sha256 on OpenSSL's EVP digest interface. Failures of the EVP calls can only come from
// memory exhaustion, which ends the process as any other allocation failure does.
#include "mailauth/sha256.h"

#include <openssl/evp.h>

#include <cstdlib>

namespace tern::mailauth {
namespace {

EVP_MD_CTX* must(EVP_MD_CTX* ctx) {
    if (ctx == nullptr) std::abort();
    return ctx;
}

}  // namespace

void Sha256::Free::operator()(evp_md_ctx_st* ctx) const {
    EVP_MD_CTX_free(ctx);
}

Sha256::Sha256() : ctx_(must(EVP_MD_CTX_new())) {
    if (EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1) std::abort();
}

Sha256::Sha256(const Sha256& other) : ctx_(must(EVP_MD_CTX_new())) {
    if (EVP_MD_CTX_copy_ex(ctx_.get(), other.ctx_.get()) != 1) std::abort();
}

Sha256::~Sha256() = default;

void Sha256::update(std::string_view data) {
    if (!data.empty()) EVP_DigestUpdate(ctx_.get(), data.data(), data.size());
}

std::string Sha256::finish() {
    std::string out(kSha256Size, '\0');
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_.get(), reinterpret_cast<unsigned char*>(out.data()), &len);
    return out;
}

}  // namespace tern::mailauth
