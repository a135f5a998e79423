// DNS answers for the libFuzzer targets of the mail authentication evaluators: a TXT record's
// rdata in wire form, as the resolver hands it to them.
#pragma once

#include <string>
#include <string_view>

namespace tern::fuzz {

// One TXT record's rdata: character-strings of at most 255 octets (one, empty, for "").
inline std::string txt_rdata(std::string_view text) {
    std::string out;
    do {
        std::string_view part = text.substr(0, 255);
        out += static_cast<char>(part.size());
        out += part;
        text.remove_prefix(part.size());
    } while (!text.empty());
    return out;
}

}  // namespace tern::fuzz
