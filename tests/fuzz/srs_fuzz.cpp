// libFuzzer target for the SRS reverse parser (src/delivery/srs.h) over arbitrary RCPT addresses.
// Besides "no crash": the verdict does not depend on letter case (hops lower-case addresses), an
// address valid at a time is valid without the age check, and any sender forwards and reverses.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/text.h"
#include "delivery/srs.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using tern::fuzz::check;
    using namespace tern::delivery;
    static const SrsCodec codec(SrsOptions{{"fuzz-secret", "older"}, 4, 21, '='});
    constexpr std::int64_t kNow = 1764550800;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto dated = codec.reverse(text, kNow);
    auto undated = codec.reverse(text, std::nullopt);
    if (dated) check(undated && *undated == *dated);
    check(codec.reverse(tern::ascii_lower(text), kNow).has_value() == dated.has_value());
    check(codec.reverse(tern::ascii_upper(text), kNow).has_value() == dated.has_value());
    // Whatever the sender, what forward makes reverses to something (SRS1 to the SRS0 part).
    auto made = codec.forward(text, "forwarder.example", kNow);
    if (made && *made != text) check(codec.reverse(*made, kNow).has_value());
    return 0;
}
