// libFuzzer target for the TLS-Required field search (RFC 8689 section 3) over arbitrary header
// text. Besides "no crash": whatever follows an empty line is body and never counts; a field
// "TLS-Required: No" followed by a complete field is found whatever comes after.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "message/tls_required.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using tern::fuzz::check;
    using tern::message::tls_required_no;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    bool found = tls_required_no(text);
    check(found == tls_required_no(std::string(text)));
    check(!tls_required_no("Subject: x\r\n\r\n" + std::string(text)));
    check(!tls_required_no("\n" + std::string(text)));
    check(tls_required_no("TLS-Required: No\r\nX: y\r\n" + std::string(text)));
    return 0;
}
