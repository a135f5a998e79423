// libFuzzer target for Url::parse (the HTTP client's URLs: an ACME directory and the URLs its
// answers name). Besides "no crash": a parsed URL prints to a string that parses to the same URL.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "http/client.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using tern::fuzz::check;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto url = tern::http::Url::parse(text);
    if (!url) return 0;
    auto again = tern::http::Url::parse(url->str());
    check(again.has_value());
    check(again->https == url->https && again->host == url->host && again->port == url->port &&
          again->target == url->target);
    return 0;
}
