// Finding "TLS-Required: No" (RFC 8689 section 3) among the header fields of a message: fields
// are cut and unfolded by the shared header code, names compared without regard to case.
#include "message/tls_required.h"

#include <string>

#include "base/text.h"
#include "message/header_split.h"
#include "message/header_text.h"

namespace tern::message {

bool tls_required_no(std::string_view text) {
    std::string crlf;
    if (has_bare_lf(text)) text = crlf = to_crlf(text);
    for (const std::string& field : split_header(text).fields) {
        auto colon = field.find(':');
        if (colon == std::string::npos) continue;
        std::string_view name = std::string_view(field).substr(0, colon);
        // RFC 5322 3.6.8 has no white space before the colon; RFC 822's obsolete form may.
        while (!name.empty() && (name.back() == ' ' || name.back() == '\t'))
            name.remove_suffix(1);
        if (!ascii_iequals(name, "TLS-Required")) continue;
        if (ascii_iequals(clean_header_text(field.substr(colon + 1), false), "No")) return true;
    }
    return false;
}

}  // namespace tern::message
