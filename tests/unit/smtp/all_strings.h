// all_strings(): every short input over a small alphabet, for the exhaustive checks of the
// body codecs (DataDecoder, DataEncoder) against their plain reference models.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tern::smtp::test {

// Every string of up to `max_len` octets over `alphabet`, shortest first.
inline std::vector<std::string> all_strings(std::string_view alphabet, std::size_t max_len) {
    std::vector<std::string> out{""};
    std::size_t from = 0;
    for (std::size_t len = 1; len <= max_len; ++len) {
        std::size_t to = out.size();
        for (std::size_t i = from; i < to; ++i)
            for (char c : alphabet)
                out.push_back(out[i] + c);
        from = to;
    }
    return out;
}

}  // namespace tern::smtp::test
