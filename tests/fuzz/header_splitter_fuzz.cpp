// libFuzzer target for message::HeaderSplitter: arbitrary message text, fed whole and cut at a
// point the input chooses. Besides "no crash": the fields, separator and body do not depend on
// the cut, and fields + separator + body give back exactly the text that went in.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_check.h"
#include "message/header_splitter.h"

namespace {

struct Collected : tern::message::HeaderSink {
    std::vector<std::string> fields;
    std::string separator;
    std::string body;
    int ends = 0;
    void on_field(std::string_view raw) override { fields.emplace_back(raw); }
    void on_end_of_headers(std::string_view sep) override {
        separator = sep;
        ++ends;
    }
    void on_body(std::string_view bytes) override { body += bytes; }
};

Collected split(std::string_view text, std::size_t cut, std::size_t max_field) {
    tern::message::HeaderSplitter s(max_field);
    Collected c;
    s.feed(text.substr(0, cut), c);
    s.feed(text.substr(cut), c);
    s.finish(c);
    return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using tern::fuzz::check;
    if (size < 2) return 0;
    std::size_t max_field = 16 + data[0];  // small, so the oversize path is reached too
    std::string_view text(reinterpret_cast<const char*>(data) + 2, size - 2);
    std::size_t cut = text.empty() ? 0 : data[1] % (text.size() + 1);
    Collected whole = split(text, text.size(), max_field);
    Collected parts = split(text, cut, max_field);
    check(whole.fields == parts.fields);
    check(whole.separator == parts.separator);
    check(whole.body == parts.body);
    check(whole.ends == 1 && parts.ends == 1);
    std::string joined;
    for (const auto& f : whole.fields)
        joined += f;
    joined += whole.separator;
    joined += whole.body;
    check(joined == text);
    return 0;
}
