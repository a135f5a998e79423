// DKIM canonicalisation (RFC 6376 section 3.4): "simple" and "relaxed" for header fields and
// for the body, the body streamed in chunks of any size. Shared by DKIM and ARC (RFC 8617).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tern::mailauth {

enum class Canon { kSimple, kRelaxed };

// "simple" or "relaxed".
std::string_view canon_name(Canon canon);

// The word of a c= tag half, case-sensitive as RFC 6376 writes it; nullopt for anything else.
std::optional<Canon> parse_canon(std::string_view word);

// The name of a raw header field ("Subject" of "Subject : hi\r\n"), without the white space
// that the obsolete syntax allows before the colon; "" when the field has no colon.
std::string_view field_name(std::string_view raw_field);

// The value of a raw header field: what follows the colon, folds kept, without the final CRLF;
// "" when the field has no colon.
std::string_view field_value(std::string_view raw_field);

// One header field, given raw (name, colon, value with its folds, final CRLF), in the form
// that is hashed. simple: unchanged. relaxed (section 3.4.2): the name in lower case, folds
// unfolded, runs of WSP made one space, WSP removed at the ends of the value and around the
// colon; "name:value\r\n". A field given without its final CRLF comes back without one.
std::string canonical_header(std::string_view raw_field, Canon canon);

// The body canonicalisation (sections 3.4.3 and 3.4.4) as a stream: feed() the body in any
// chunks, then finish(); what comes out is the same whatever the chunking. Empty lines at the
// end are held back until text follows them, so output lags input by those lines (and by a
// final CR or trailing white space). A body with no CRLF at its end gets one, except that the
// relaxed form of an empty body is empty while the simple one is a single CRLF.
class BodyCanonicalizer {
  public:
    explicit BodyCanonicalizer(Canon canon) : canon_(canon) {}

    // Appends the canonical form of what `chunk` completes to `out`.
    void feed(std::string_view chunk, std::string& out);

    // Appends what the end of the body completes to `out`; nothing may be fed afterwards.
    void finish(std::string& out);

  private:
    void content(char c, std::string& out);
    void line_end(std::string& out);

    Canon canon_;
    bool pending_cr_ = false;   // the last octet fed was a CR; an LF may follow
    bool pending_wsp_ = false;  // relaxed: WSP seen after text on this line, not yet written
    bool line_has_text_ = false;
    bool wrote_anything_ = false;
    std::uint64_t held_lines_ = 0;  // empty lines seen and not yet written
};

}  // namespace tern::mailauth
