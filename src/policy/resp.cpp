// RESP2 codec: the command encoder and a reply parser that reparses from the start of a reply
// until it is whole (replies here are small: an integer or a short array).
#include "policy/resp.h"

#include <charconv>

namespace tern::policy::resp {

std::string encode_command(const std::vector<std::string>& args) {
    std::string out = "*" + std::to_string(args.size()) + "\r\n";
    for (const auto& a : args) {
        out += "$" + std::to_string(a.size()) + "\r\n";
        out += a;
        out += "\r\n";
    }
    return out;
}

void Parser::feed(std::string_view bytes) {
    if (!failed_) buffer_.append(bytes);
}

std::optional<Value> Parser::next() {
    if (failed_ || buffer_.empty()) return std::nullopt;
    std::size_t pos = 0;
    Value v;
    switch (parse(pos, 0, v)) {
        case Step::kDone:
            buffer_.erase(0, pos);
            return v;
        case Step::kMore:
            return std::nullopt;
        case Step::kBad:
            failed_ = true;
            buffer_.clear();
            return std::nullopt;
    }
    return std::nullopt;
}

Parser::Step Parser::line(std::size_t& pos, std::string_view& out) {
    auto end = buffer_.find("\r\n", pos);
    if (end == std::string::npos) {
        if (buffer_.size() - pos > limits_.max_line) {
            error_ = "line too long";
            return Step::kBad;
        }
        return Step::kMore;
    }
    if (end - pos > limits_.max_line) {
        error_ = "line too long";
        return Step::kBad;
    }
    out = std::string_view(buffer_).substr(pos, end - pos);
    pos = end + 2;
    return Step::kDone;
}

namespace {

std::optional<std::int64_t> number(std::string_view s) {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
}

}  // namespace

Parser::Step Parser::parse(std::size_t& pos, std::size_t depth, Value& out) {
    if (pos >= buffer_.size()) return Step::kMore;
    char kind = buffer_[pos];
    std::size_t at = pos + 1;
    std::string_view text;
    if (auto s = line(at, text); s != Step::kDone) return s;
    auto bad = [&](const char* why) {
        error_ = why;
        return Step::kBad;
    };
    switch (kind) {
        case '+':
        case '-':
            out.type = kind == '+' ? Value::Type::kSimple : Value::Type::kError;
            out.text = std::string(text);
            pos = at;
            return Step::kDone;
        case ':': {
            auto n = number(text);
            if (!n) return bad("bad integer");
            out.type = Value::Type::kInteger;
            out.integer = *n;
            pos = at;
            return Step::kDone;
        }
        case '$': {
            auto n = number(text);
            if (!n || *n < -1) return bad("bad bulk length");
            if (*n == -1) {
                out.type = Value::Type::kNull;
                pos = at;
                return Step::kDone;
            }
            auto len = static_cast<std::size_t>(*n);
            if (len > limits_.max_bulk) return bad("bulk string too long");
            if (buffer_.size() - at < len + 2) return Step::kMore;
            if (buffer_.compare(at + len, 2, "\r\n") != 0) return bad("bulk string not ended");
            out.type = Value::Type::kBulk;
            out.text = buffer_.substr(at, len);
            pos = at + len + 2;
            return Step::kDone;
        }
        case '*': {
            auto n = number(text);
            if (!n || *n < -1) return bad("bad array length");
            if (*n == -1) {
                out.type = Value::Type::kNull;
                pos = at;
                return Step::kDone;
            }
            if (static_cast<std::uint64_t>(*n) > limits_.max_items) return bad("array too long");
            if (depth + 1 > limits_.max_depth) return bad("arrays nested too deep");
            out.type = Value::Type::kArray;
            out.items.clear();
            for (std::int64_t i = 0; i < *n; ++i) {
                Value item;
                if (auto s = parse(at, depth + 1, item); s != Step::kDone) return s;
                out.items.push_back(std::move(item));
            }
            pos = at;
            return Step::kDone;
        }
        default:
            return bad("unknown reply type");
    }
}

}  // namespace tern::policy::resp
