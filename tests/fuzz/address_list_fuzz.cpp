// libFuzzer target for the address-list parser and the local submission (src/message/): header
// text from any local program. Besides "no crash": every address found has an '@' with text on
// both sides, and no Bcc field survives in the prepared text.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "message/address_list.h"
#include "message/local_submission.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using tern::fuzz::check;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto list = tern::message::parse_address_list(text);
    for (const auto& a : list.addresses) {
        auto at = a.rfind('@');
        check(at != std::string::npos && at > 0 && at + 1 < a.size());
    }
    tern::message::LocalSubmissionOptions o;
    o.extract_recipients = true;
    o.sender = "fuzz@localhost";
    o.hostname = "fuzz.example";
    auto out = tern::message::prepare_local_submission(text, o);
    auto end = out.text.find("\r\n\r\n");
    check(end != std::string::npos);
    std::string_view head(out.text.data(), end + 2);
    check(head.find("\r\nBcc:") == std::string_view::npos && !head.starts_with("Bcc:"));
    return 0;
}
