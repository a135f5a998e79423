// The header half of a DKIM or ARC signature (RFC 6376 sections 3.7 and 5.4.2): choosing the
// header field instances that a list of names designates, and hashing them, canonicalised,
// followed by the signature field itself with its b= value removed.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mailauth/canonical.h"
#include "mailauth/sha256.h"

namespace tern::mailauth {

// For each name of `names` (an h= list), the index in `fields` (raw fields, top first) of the
// instance it designates: a name listed k times takes the last k instances from the bottom
// up; a listing with no instance left is nullopt (a nonexistent field, hashed as nothing,
// which is how oversigning stops fields from being added). Names compare case-insensitively.
// `skip` is a field that is never chosen (the signature being verified).
std::vector<std::optional<std::size_t>> select_fields(std::span<const std::string> fields,
                                                      std::span<const std::string> names,
                                                      std::optional<std::size_t> skip = {});

// A tag-list field (DKIM-Signature, ARC-Message-Signature, ARC-Seal), raw, with everything
// between "b=" and the ';' that ends that tag (or the end of the field) removed, so that it can
// be hashed as section 3.7 says. Unchanged when there is no b= tag or the list does not parse.
std::string without_signature_value(std::string_view raw_field);

// The hash the signature covers: the designated fields in order, then the signature field.
class HeaderHasher {
  public:
    explicit HeaderHasher(Canon canon) : canon_(canon) {}

    // One raw header field (with its CRLF), canonicalised.
    void add_field(std::string_view raw_field);

    // The signature field, raw, already without its b= value (without_signature_value, or as
    // a signer builds it): canonicalised, without the CRLF that ends it.
    void add_signature_field(std::string_view raw_field_without_b);

    // The 32-octet digest; the object is spent afterwards.
    std::string finish() { return hash_.finish(); }

  private:
    Canon canon_;
    Sha256 hash_;
};

// Convenience for the common case: the digest of the fields `names` designate in `fields`,
// then `signature_field_without_b`.
std::string header_digest(std::span<const std::string> fields, std::span<const std::string> names,
                          Canon canon, std::string_view signature_field_without_b,
                          std::optional<std::size_t> skip = {});

}  // namespace tern::mailauth
