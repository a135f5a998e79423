// libFuzzer target for the milter response decoder (src/filter/milter_protocol.h): arbitrary
// bytes from a filter, fed whole and cut at a point the input chooses. Besides "no crash": the
// responses and the error do not depend on the cut, and reply codes parse or are refused cleanly.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "filter/milter_protocol.h"
#include "fuzz_check.h"

namespace {

using tern::filter::milter::FrameDecoder;
using tern::filter::milter::Response;

struct Outcome {
    std::vector<Response> responses;
    bool broken = false;
};

Outcome decode(std::string_view bytes, std::size_t cut, std::size_t max_frame) {
    FrameDecoder d(max_frame);
    Outcome out;
    for (std::string_view piece : {bytes.substr(0, cut), bytes.substr(cut)}) {
        d.feed(piece);
        while (!out.broken) {
            auto r = d.next();
            if (!r) {
                out.broken = true;
            } else if (!*r) {
                break;
            } else {
                out.responses.push_back(**r);
            }
        }
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using tern::fuzz::check;
    if (size < 2) return 0;
    std::size_t max_frame = 8 + data[0] * 4;  // small, so the oversize path is reached too
    std::string_view bytes(reinterpret_cast<const char*>(data) + 2, size - 2);
    std::size_t cut = bytes.empty() ? 0 : data[1] % (bytes.size() + 1);
    Outcome whole = decode(bytes, bytes.size(), max_frame);
    Outcome parts = decode(bytes, cut, max_frame);
    check(whole.broken == parts.broken);
    check(whole.responses == parts.responses);
    for (const auto& r : whole.responses) {
        if (r.kind != Response::Kind::kReplyCode) continue;
        auto reply = tern::filter::milter::parse_reply_code(r.text);
        if (reply) check(reply->code >= 400 && reply->code <= 599);
    }
    return 0;
}
