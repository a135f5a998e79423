// Fuzz target: a report that came back (feedback/report.h, message/mime_reader.h) and the VERP
// address it came to. No crash, no hang, every recipient block within the limit.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "feedback/report.h"
#include "feedback/verp.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    tern::feedback::ReportLimits limits;
    auto report = tern::feedback::read_report(text, limits);
    tern::fuzz::check(report.recipients.size() <= limits.max_recipients);
    tern::fuzz::check(report.kind != tern::feedback::ReportKind::kNone ||
                      report.recipients.empty());
    static const tern::feedback::VerpCodec verp(
        {"bounces.example.com", {"fuzz secret 0123456789"}, "b"});
    auto line = text.substr(0, text.find('\n'));
    if (auto target = verp.decode(line)) {
        // Only an address the codec made can decode: it encodes back to a tag that holds.
        auto again = verp.encode(target->id, target->recipient);
        tern::fuzz::check(again.has_value() && verp.decode(*again).has_value());
    }
    return 0;
}
