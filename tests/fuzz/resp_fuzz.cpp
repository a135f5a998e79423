// libFuzzer target for the RESP2 reply parser (src/policy/resp.h), which reads what a Redis
// server sends. Byte 0 picks a split point; besides "no crash" the target checks that the
// replies do not depend on how the bytes were split into reads, and that a reply encoded as a
// command's arguments (bulk strings) parses back to itself.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_check.h"
#include "policy/resp.h"

namespace tern::policy::resp {
namespace {

using fuzz::check;

struct Outcome {
    std::vector<Value> replies;
    bool failed = false;
};

Outcome parse(const std::vector<std::string_view>& parts) {
    Outcome out;
    Parser p;
    for (auto part : parts) {
        p.feed(part);
        while (auto v = p.next())
            out.replies.push_back(std::move(*v));
    }
    out.failed = p.failed();
    return out;
}

}  // namespace
}  // namespace tern::policy::resp

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace tern::policy::resp;
    if (size < 1) return 0;
    std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
    std::size_t cut = data[0] % (input.size() + 1);
    auto whole = parse({input});
    auto split = parse({input.substr(0, cut), input.substr(cut)});
    std::vector<std::string_view> bytes;
    for (std::size_t i = 0; i < input.size(); ++i)
        bytes.push_back(input.substr(i, 1));
    auto one_by_one = parse(bytes);
    check(whole.failed == split.failed && whole.replies == split.replies);
    check(whole.failed == one_by_one.failed && whole.replies == one_by_one.replies);
    // A command is an array of bulk strings: it must parse back to exactly its arguments.
    std::vector<std::string> args{std::string(input.substr(0, cut)), std::string(input)};
    Parser p;
    p.feed(encode_command(args));
    auto back = p.next();
    check(back.has_value() && back->type == Value::Type::kArray && back->items.size() == 2);
    check(back->items[0].text == args[0] && back->items[1].text == args[1]);
    return 0;
}
