// Milter frames: encoding the MTA's commands, decoding a filter's responses strictly (every
// string NUL-terminated, nothing left over), and the frame reassembly with its size limit.
#include "filter/milter_protocol.h"

#include <algorithm>

namespace tern::filter::milter {
namespace {

void put_u32(std::string& out, std::uint32_t v) {
    out.push_back(static_cast<char>((v >> 24) & 0xff));
    out.push_back(static_cast<char>((v >> 16) & 0xff));
    out.push_back(static_cast<char>((v >> 8) & 0xff));
    out.push_back(static_cast<char>(v & 0xff));
}

std::uint32_t get_u32(std::string_view in) {
    auto b = [&](std::size_t i) {
        return static_cast<std::uint32_t>(static_cast<unsigned char>(in[i]));
    };
    return b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
}

void put_string(std::string& out, std::string_view s) {
    out.append(s);
    out.push_back('\0');
}

std::string strings(const std::vector<std::string>& args) {
    std::string data;
    for (const auto& a : args)
        put_string(data, a);
    return data;
}

// Reads NUL-terminated strings off the front of a response's data.
class Reader {
  public:
    explicit Reader(std::string_view data) : rest_(data) {}
    bool u32(std::uint32_t& v) {
        if (rest_.size() < 4) return false;
        v = get_u32(rest_);
        rest_.remove_prefix(4);
        return true;
    }
    bool string(std::string& s) {
        auto nul = rest_.find('\0');
        if (nul == std::string_view::npos) return false;
        s.assign(rest_.substr(0, nul));
        rest_.remove_prefix(nul + 1);
        return true;
    }
    bool done() const { return rest_.empty(); }

  private:
    std::string_view rest_;
};

std::unexpected<Error> malformed(char command, std::string_view what) {
    std::string name = command >= 0x21 && command < 0x7f
                           ? std::string(1, command)
                           : std::to_string(static_cast<unsigned char>(command));
    return fail(ErrorCode::kInvalid,
                "malformed milter response '" + name + "': " + std::string(what));
}

Result<Response> decode_negotiation(std::string_view data) {
    Response r;
    r.kind = Response::Kind::kOptionNegotiation;
    Reader in(data);
    if (!in.u32(r.version) || !in.u32(r.actions) || !in.u32(r.steps))
        return malformed('O', "shorter than 12 octets");
    while (!in.done()) {
        std::pair<std::uint32_t, std::string> list;
        if (!in.u32(list.first) || !in.string(list.second)) return malformed('O', "bad macro list");
        r.macro_lists.push_back(std::move(list));
    }
    return r;
}

}  // namespace

std::string frame(char command, std::string_view data) {
    std::string out;
    out.reserve(5 + data.size());
    put_u32(out, static_cast<std::uint32_t>(data.size() + 1));
    out.push_back(command);
    out.append(data);
    return out;
}

std::string encode_optneg(std::uint32_t version, std::uint32_t actions, std::uint32_t steps) {
    std::string data;
    put_u32(data, version);
    put_u32(data, actions);
    put_u32(data, steps);
    return frame('O', data);
}

std::string encode_connect(std::string_view hostname, Family family, std::uint16_t port,
                           std::string_view address) {
    std::string data;
    put_string(data, hostname);
    data.push_back(static_cast<char>(family));
    if (family != Family::kUnknown) {
        data.push_back(static_cast<char>(port >> 8));
        data.push_back(static_cast<char>(port & 0xff));
        put_string(data, address);
    }
    return frame('C', data);
}

std::string encode_helo(std::string_view name) {
    std::string data;
    put_string(data, name);
    return frame('H', data);
}

std::string encode_mail(const std::vector<std::string>& args) {
    return frame('M', strings(args));
}
std::string encode_rcpt(const std::vector<std::string>& args) {
    return frame('R', strings(args));
}
std::string encode_data() {
    return frame('T', {});
}

std::string encode_header(std::string_view name, std::string_view value) {
    std::string data;
    put_string(data, name);
    put_string(data, value);
    return frame('L', data);
}

std::string encode_end_of_headers() {
    return frame('N', {});
}

void encode_body(std::string_view bytes, std::string& out) {
    while (!bytes.empty()) {
        std::size_t n = std::min(bytes.size(), kMaxBodyChunk);
        out += frame('B', bytes.substr(0, n));
        bytes.remove_prefix(n);
    }
}

std::string encode_end_of_body() {
    return frame('E', {});
}
std::string encode_abort() {
    return frame('A', {});
}
std::string encode_quit() {
    return frame('Q', {});
}
std::string encode_quit_new_connection() {
    return frame('K', {});
}

std::string encode_macros(Command step,
                          const std::vector<std::pair<std::string, std::string>>& macros) {
    std::string data(1, static_cast<char>(step));
    for (const auto& [name, value] : macros) {
        put_string(data, name);
        put_string(data, value);
    }
    return frame('D', data);
}

Result<Response> decode_response(char command, std::string_view data) {
    using Kind = Response::Kind;
    Response r;
    Reader in(data);
    switch (command) {
        case 'O':
            return decode_negotiation(data);
        case '4':
        case 'a':
        case 'c':
        case 'd':
        case 'f':
        case 'p':
        case 'r':
        case 's':
        case 't':
            if (!data.empty()) return malformed(command, "unexpected data");
            r.kind = static_cast<Kind>(command);
            return r;
        case 'b':
            r.kind = Kind::kReplaceBody;
            r.value.assign(data);
            return r;
        case '+':
        case '-':
        case 'q':
        case 'y':
            r.kind = static_cast<Kind>(command);
            if (!in.string(r.text) || !in.done()) return malformed(command, "expected one string");
            return r;
        case '2':
        case 'e':
            // An address, then optionally its ESMTP arguments.
            r.kind = static_cast<Kind>(command);
            if (!in.string(r.text)) return malformed(command, "expected an address");
            if (!in.done() && !in.string(r.value)) return malformed(command, "bad arguments");
            if (!in.done()) return malformed(command, "data after the arguments");
            return r;
        case 'h':
            r.kind = Kind::kAddHeader;
            if (!in.string(r.text) || !in.string(r.value) || !in.done())
                return malformed(command, "expected a name and a value");
            return r;
        case 'i':
        case 'm':
            r.kind = static_cast<Kind>(command);
            if (!in.u32(r.index) || !in.string(r.text) || !in.string(r.value) || !in.done())
                return malformed(command, "expected an index, a name and a value");
            return r;
        default:
            return malformed(command, "unknown response");
    }
}

Result<smtp::Reply> parse_reply_code(std::string_view text) {
    auto bad = [&](std::string_view why) {
        return fail(ErrorCode::kInvalid, "bad milter reply code: " + std::string(why));
    };
    if (text.size() < 3 || (text[0] != '4' && text[0] != '5') || text[1] < '0' || text[1] > '9' ||
        text[2] < '0' || text[2] > '9')
        return bad("not a 4xx or 5xx code");
    smtp::Reply reply;
    reply.code = (text[0] - '0') * 100 + (text[1] - '0') * 10 + (text[2] - '0');
    std::string code(text.substr(0, 3));
    std::vector<std::string_view> lines;
    for (std::size_t pos = 0; pos <= text.size();) {
        auto end = text.find("\r\n", pos);
        if (end == std::string_view::npos) end = text.size();
        lines.push_back(text.substr(pos, end - pos));
        pos = end + 2;
    }
    std::string joined;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        std::string_view line = lines[i];
        bool last = i + 1 == lines.size();
        if (line.substr(0, 3) != code) return bad("lines with different codes");
        line.remove_prefix(3);
        if (!line.empty()) {
            if (line[0] != (last ? ' ' : '-')) return bad("bad separator after the code");
            line.remove_prefix(1);
        } else if (!last) {
            return bad("bad separator after the code");
        }
        if (std::ranges::any_of(line, [](char c) {
                auto u = static_cast<unsigned char>(c);
                return u < 0x20 || u == 0x7f;
            }))
            return bad("control characters in the text");
        // x.y.z with the code's class, on each line; kept once.
        auto space = line.find(' ');
        std::string_view first = line.substr(0, space);
        bool is_status =
            first.size() >= 5 && first[0] == code[0] && first[1] == '.' &&
            std::ranges::all_of(first.substr(2),
                                [](char c) { return c == '.' || (c >= '0' && c <= '9'); }) &&
            std::ranges::count(first, '.') == 2;
        if (is_status) {
            if (reply.status.empty()) reply.status = first;
            line = space == std::string_view::npos ? std::string_view{} : line.substr(space + 1);
        }
        if (i > 0) joined += '\n';
        joined += line;
    }
    reply.text = std::move(joined);
    return reply;
}

Result<std::optional<Response>> FrameDecoder::next() {
    if (broken_) return std::unexpected(*broken_);
    std::string_view rest = std::string_view(buffer_).substr(start_);
    if (rest.size() < 4) return std::nullopt;
    std::uint32_t length = get_u32(rest);
    if (length == 0) {
        broken_ = Error{ErrorCode::kInvalid, "milter frame of length 0"};
        return std::unexpected(*broken_);
    }
    if (length - 1 > max_frame_) {
        broken_ = Error{ErrorCode::kInvalid, "milter frame of " + std::to_string(length - 1) +
                                                 " octets over the limit of " +
                                                 std::to_string(max_frame_)};
        return std::unexpected(*broken_);
    }
    if (rest.size() - 4 < length) return std::nullopt;
    auto response = decode_response(rest[4], rest.substr(5, length - 1));
    start_ += 4 + length;
    if (start_ == buffer_.size()) {
        buffer_.clear();
        start_ = 0;
    } else if (start_ > 65536 && start_ * 2 > buffer_.size()) {
        buffer_.erase(0, start_);
        start_ = 0;
    }
    if (!response) {
        broken_ = response.error();
        return std::unexpected(*broken_);
    }
    return std::optional<Response>(std::move(*response));
}

}  // namespace tern::filter::milter
