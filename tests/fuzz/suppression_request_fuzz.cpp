// libFuzzer target for the suppression list's HTTP requests (src/api/suppressions_api.h): PUT
// bodies and the percent-encoded addresses of paths and queries, from any holder of an API key.
// The input's first octet chooses the form: a body for many entries, or an address (the rest up
// to a NUL, percent-decoded as a path is) with an optional body. Besides "no crash": accepted
// entries have a normalized address and a short detail; refusals name a field.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/query.h"
#include "api/suppressions_api.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using tern::fuzz::check;
    if (size == 0) return 0;
    std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
    std::string address;
    std::string_view body = bytes;
    if (data[0] & 1) {
        auto nul = bytes.find('\0');
        auto decoded = tern::api::percent_decode(bytes.substr(0, nul));
        if (!decoded || decoded->empty()) return 0;
        check(decoded->find('\0') == std::string::npos);
        address = *decoded;
        body = nul == std::string_view::npos ? std::string_view() : bytes.substr(nul + 1);
    }
    auto r = tern::api::parse_suppression_request(body, address, 20, 8);
    if (!r) {
        check(!r.error().field.empty() && !r.error().message.empty());
        return 0;
    }
    check(!r->empty() && r->size() <= 20);
    for (const auto& s : *r) {
        check(!s.address.empty() && s.address == tern::suppress::normalize_address(s.address));
        check(s.detail.size() <= 1000);
        tern::api::suppression_json(s).dump(-1, ' ', false,
                                            nlohmann::json::error_handler_t::replace);
    }
    return 0;
}
