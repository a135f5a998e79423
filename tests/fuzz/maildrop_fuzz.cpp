// libFuzzer target for the maildrop file decoder (src/spool/maildrop.h): files any local user
// may put in the maildrop. Besides "no crash": what decodes encodes back to a file that decodes
// to the same message.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "spool/maildrop.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using tern::fuzz::check;
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    auto m = tern::spool::decode_maildrop(bytes);
    if (!m) return 0;
    check(!m->recipients.empty());
    auto again = tern::spool::decode_maildrop(tern::spool::encode_maildrop(*m));
    check(again.has_value());
    check(again->sender == m->sender && again->recipients == m->recipients &&
          again->notify == m->notify && again->ret == m->ret && again->envid == m->envid &&
          again->text == m->text);
    return 0;
}
