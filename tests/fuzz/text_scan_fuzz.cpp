// libFuzzer target for smtp::TextScan: arbitrary message text, scanned whole and cut at a point
// the input chooses. Besides "no crash": the hop count and NUL count do not depend on the cut,
// stripping leaves no NUL and removes nothing else, and accepting changes nothing.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "smtp/text_scan.h"

namespace {

struct Scanned {
    std::size_t hops;
    std::uint64_t nuls;
    std::string text;
};

Scanned scan(std::string_view text, std::size_t cut, tern::smtp::NulOctets mode) {
    tern::smtp::TextScan s(mode);
    std::string a(text.substr(0, cut)), b(text.substr(cut));
    s.scan(a);
    s.scan(b);
    return {s.received_fields(), s.nul_octets(), a + b};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using tern::fuzz::check;
    using tern::smtp::NulOctets;
    if (size < 1) return 0;
    std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    std::size_t cut = text.empty() ? 0 : data[0] % (text.size() + 1);
    auto whole = scan(text, text.size(), NulOctets::kAccept);
    auto split = scan(text, cut, NulOctets::kAccept);
    check(whole.hops == split.hops);                  // else the hop count depends on the cut
    check(whole.nuls == split.nuls);                  // else the NUL count depends on the cut
    check(whole.text == text && split.text == text);  // else accepting changed the text
    // Every NUL octet counted.
    check(whole.nuls == static_cast<std::uint64_t>(std::count(text.begin(), text.end(), '\0')));
    auto stripped = scan(text, cut, NulOctets::kStrip);
    std::string expected(text);
    std::erase(expected, '\0');
    check(stripped.text == expected);    // else stripping removed other octets or left a NUL
    check(stripped.hops == whole.hops);  // else stripping changed the hop count
    return 0;
}
