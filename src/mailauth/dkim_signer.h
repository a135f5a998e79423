// DkimSigner: makes the DKIM-Signature fields of one message (RFC 6376 section 5, rsa-sha256
// and ed25519-sha256 of RFC 8463), sans-I/O: header fields and body chunks in, the fields to
// prepend out. Several keys (dual signing: RSA and Ed25519 for one domain) share one pass over
// the body and one selection of header fields.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "mailauth/body_hash.h"
#include "mailauth/canonical.h"
#include "mailauth/dkim_keys.h"

namespace tern::mailauth {

struct SigningKey {
    std::string domain;                     // d=
    std::string selector;                   // s=
    std::shared_ptr<const PrivateKey> key;  // its type gives a=
    std::string identity;                   // i=, "" for none (then "@" + d= is implied)
};

// The fields signed by default. Oversigned ones are listed once more than they occur, so that
// no instance can be added after signing (RFC 6376 section 8.15); the others when present.
std::vector<std::string> default_oversigned_fields();
std::vector<std::string> default_signed_fields();

struct DkimSignOptions {
    Canon header_canon = Canon::kRelaxed;
    Canon body_canon = Canon::kRelaxed;
    std::vector<std::string> oversigned = default_oversigned_fields();
    std::vector<std::string> signed_fields = default_signed_fields();
    std::optional<std::int64_t> expire_after;  // seconds: x= is t= plus this
    bool body_length = false;                  // write l= (the whole canonical body)
};

// Use: header() for each field in order, end_headers(), body() for each chunk, end_body(),
// then signatures(). The body may also come first: the pipeline's signing stage hashes it as
// it streams and gives the header fields at the end, after the edits of earlier stages. The message
// must have a From field (RFC 6376 section 5.4).
class DkimSigner {
  public:
    // `now`: unix seconds, for t=.
    DkimSigner(DkimSignOptions options, std::vector<SigningKey> keys, std::int64_t now);

    void header(std::string_view field);
    void end_headers();
    void body(std::string_view chunk);
    void end_body();

    // Makes ARC-Message-Signature fields of ARC instance `instance` (RFC 8617 section 4.1.2:
    // i= in place of v=, no AUID) instead of DKIM-Signature fields. Before signatures().
    void set_arc_instance(unsigned instance) { arc_instance_ = instance; }

    // One DKIM-Signature field per key, in the order of the keys, each folded at 78 columns
    // and ending in CRLF, to be prepended to the message.
    Result<std::vector<std::string>> signatures();

  private:
    std::string field_without_b(const SigningKey& key, const std::string& body_hash,
                                std::uint64_t body_length) const;

    DkimSignOptions options_;
    std::vector<SigningKey> keys_;
    std::int64_t now_;
    std::vector<std::string> fields_;  // until end_headers()
    std::vector<std::string> h_;       // the h= names
    std::string signed_text_;          // the chosen fields, canonicalised, in h= order
    bool has_from_ = false;
    unsigned arc_instance_ = 0;  // set: ARC-Message-Signature fields of this instance
    bool headers_done_ = false;
    bool body_done_ = false;
    BodyHasher body_;
    std::size_t body_handle_ = 0;
};

// `start` ("DKIM-Signature:") and the tag words, each after a space, folded with CRLF and a
// space where a line would pass 78 columns. Exposed for ARC, whose fields fold the same way.
class FieldFolder {
  public:
    // `start` may already hold folded lines; the width counts from its last one.
    explicit FieldFolder(std::string_view start);

    // `word` after a space (or after a fold) when `space`, else right after what precedes.
    void word(std::string_view word, bool space = true);

    // `value` (base64) cut across lines wherever the width is reached.
    void spread(std::string_view value);

    // The field text, with its final CRLF when `crlf`.
    std::string text(bool crlf = true) const { return crlf ? text_ + "\r\n" : text_; }

  private:
    std::string text_;
    std::size_t line_;  // octets on the last line
};

}  // namespace tern::mailauth
