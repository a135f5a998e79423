// ArcSealer: adds this host's ARC set to a message it forwards (RFC 8617 section 5.1), sans-I/O:
// header fields and body chunks in; the ARC-Seal, ARC-Message-Signature and
// ARC-Authentication-Results of the next instance out, the seal carrying the chain's cv=.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "mailauth/arc_verifier.h"
#include "mailauth/dkim_signer.h"

namespace tern::mailauth {

// The fields the ARC-Message-Signature signs when present: DKIM's, and the DKIM-Signature
// fields (RFC 8617 section 4.1.2 allows them; ARC-Seal it forbids).
std::vector<std::string> default_arc_signed_fields();

struct ArcSealOptions {
    std::vector<std::string> oversigned = default_oversigned_fields();
    std::vector<std::string> signed_fields = default_arc_signed_fields();
};

// Use: header() for each field in order, end_headers(), body() for each chunk, end_body(), then
// seal() with the result of the ArcVerifier that saw the same message. The body may also come
// first (as it streams in) and the header fields at the end (as the pipeline's stages left them):
// the header fields given before end_headers() (or end_body()) are the ones sealed.
class ArcSealer {
  public:
    // `key`: d=, s= and the private key (RSA: rsa-sha256, Ed25519: ed25519-sha256); its
    // identity is not used. `now`: unix seconds, for t=.
    ArcSealer(ArcSealOptions options, SigningKey key, std::int64_t now);

    void header(std::string_view field);
    void end_headers();
    void body(std::string_view chunk);
    void end_body();

    // The instance the new set gets: one more than the highest found. After end_headers().
    unsigned instance() const { return highest_instance_ + 1; }

    // The new set's fields, each folded and ending in CRLF, in the order to prepend them (the
    // ARC-Seal on top): ARC-Seal, ARC-Message-Signature, ARC-Authentication-Results.
    // `cv`: the chain validation status (ArcResult::chain_status()); with fail the seal signs
    // only the new set (section 5.1.2). `authserv_id` and `results`: the payload of this
    // host's Authentication-Results ("spf=pass smtp.mailfrom=...; dkim=..."; "" for none).
    // Fails when the newest seal already says cv=fail (section 5.1: nothing to add), when the
    // chain has 50 sets, when cv does not fit the chain found (pass without a sound chain, none
    // with ARC fields), on a bad authserv-id or results text, or without a From field.
    Result<std::vector<std::string>> seal(ChainStatus cv, std::string_view authserv_id,
                                          std::string_view results);

  private:
    std::string results_field(std::string_view authserv_id, std::string_view results) const;
    std::string seal_field_without_b(ChainStatus cv) const;

    SigningKey key_;
    std::int64_t now_;
    DkimSigner signer_;                // makes the ARC-Message-Signature
    std::vector<std::string> fields_;  // until end_headers()
    std::vector<std::string> chain_;   // the sets found, AAR, AMS, AS each, instance 1 first
    bool chain_sound_ = false;
    bool has_arc_fields_ = false;
    bool newest_seal_failed_ = false;
    unsigned highest_instance_ = 0;
    bool headers_done_ = false;
};

}  // namespace tern::mailauth
