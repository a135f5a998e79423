// libFuzzer target for what the dashboard reads of a request's header fields before it trusts
// it: the Cookie header (cookie_value) and the Origin and Host pair (same_origin).
//
// Input layout: split at the first '\0': Cookie header (or Origin) before it, the cookie name
// (or Host) after it. Besides "no crash": a value found lies inside the header and holds no ';';
// a cookie written as "NAME=VALUE" after other pairs is found again; an origin matches for one
// scheme at most, and never an empty Host.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "admin/dashboard_sessions.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using tern::fuzz::check;
    std::string_view input(reinterpret_cast<const char*>(data), size);
    auto nul = input.find('\0');
    std::string_view first = input.substr(0, nul);
    std::string_view second = nul == std::string_view::npos ? "" : input.substr(nul + 1);

    if (auto value = tern::admin::cookie_value(first, second)) {
        check(value->data() >= first.data() &&
              value->data() + value->size() <= first.data() + first.size());
        check(value->find(';') == std::string_view::npos);
    }
    bool plain_name = !second.empty() && second != "x" &&
                      second.find_first_of("=; \t\"") == std::string_view::npos;
    if (plain_name) {
        std::string header = "x=1; " + std::string(second) + "=v42";
        auto again = tern::admin::cookie_value(header, second);
        check(again && *again == "v42");
    }

    bool plain = tern::admin::same_origin(first, second, false);
    bool secure = tern::admin::same_origin(first, second, true);
    check(!(plain && secure));  // one scheme or the other, never both
    if (plain || secure) check(!second.empty());
    return 0;
}
