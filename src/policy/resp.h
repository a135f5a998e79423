// RESP2, the Redis serialization protocol: commands encoded as arrays of bulk strings, and a
// sans-I/O parser of the server's replies. Trusts nothing of the input: sizes and depth bounded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tern::policy::resp {

// One reply. Errors ("-ERR ...") are values too: the caller decides what they mean.
struct Value {
    enum class Type { kSimple, kError, kInteger, kBulk, kNull, kArray };
    Type type = Type::kNull;
    std::string text;          // kSimple, kError, kBulk
    std::int64_t integer = 0;  // kInteger
    std::vector<Value> items;  // kArray
    bool operator==(const Value&) const = default;
};

// `args` as one command ("*N\r\n$len\r\narg\r\n..."), binary-safe.
std::string encode_command(const std::vector<std::string>& args);

struct ParserLimits {
    std::size_t max_bulk = 1 << 20;   // bytes in one bulk string
    std::size_t max_items = 1 << 16;  // elements in one array
    std::size_t max_depth = 8;        // arrays within arrays
    std::size_t max_line = 64 << 10;  // bytes of a simple string, error or length line
};

// Takes bytes as they arrive, in any split, and gives back whole replies in order. After
// malformed input it stays failed: the connection must be dropped.
class Parser {
  public:
    explicit Parser(ParserLimits limits = {}) : limits_(limits) {}
    void feed(std::string_view bytes);
    // The next whole reply, or nullopt when more bytes are needed (or failed()).
    std::optional<Value> next();
    bool failed() const { return failed_; }
    const std::string& error() const { return error_; }

  private:
    enum class Step { kDone, kMore, kBad };
    Step parse(std::size_t& pos, std::size_t depth, Value& out);
    Step line(std::size_t& pos, std::string_view& out);

    ParserLimits limits_;
    std::string buffer_;
    bool failed_ = false;
    std::string error_;
};

}  // namespace tern::policy::resp
