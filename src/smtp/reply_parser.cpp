// ReplyParser: line splitting on CRLF (a bare LF is tolerated from servers), code checks, and
// extraction of RFC 2034 enhanced status codes.
#include "smtp/reply_parser.h"

namespace tern::smtp {
namespace {

bool digit(char c) {
    return c >= '0' && c <= '9';
}

// "x.y.z " at the start of `text` with x matching the reply class.
std::size_t status_length(std::string_view text, int code) {
    if (text.size() < 5 || !digit(text[0]) || text[0] != static_cast<char>('0' + code / 100) ||
        text[1] != '.')
        return 0;
    std::size_t i = 2, n = 0;
    while (i < text.size() && digit(text[i]) && n < 3)
        ++i, ++n;
    if (n == 0 || i >= text.size() || text[i] != '.') return 0;
    ++i;
    n = 0;
    while (i < text.size() && digit(text[i]) && n < 3)
        ++i, ++n;
    if (n == 0) return 0;
    if (i < text.size() && text[i] != ' ') return 0;
    return i;
}

}  // namespace

void ReplyParser::feed(std::string_view bytes) {
    if (pos_ > 0 && pos_ == buffer_.size()) {
        buffer_.clear();
        pos_ = 0;
    }
    buffer_.append(bytes);
}

std::optional<Reply> ReplyParser::next() {
    while (!broken_) {
        std::string_view rest(buffer_.data() + pos_, buffer_.size() - pos_);
        auto lf = rest.find('\n');
        if (lf == std::string_view::npos) {
            // A CR at the end may be the first half of the line's CRLF: it is not counted.
            if (rest.size() > kMaxLine + (rest.ends_with('\r') ? 1 : 0)) {
                broken_ = true;
                error_ = "reply line too long";
            }
            return std::nullopt;
        }
        std::string_view line = rest.substr(0, lf);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        pos_ += lf + 1;
        if (line.size() > kMaxLine || line.size() < 3 || !digit(line[0]) || !digit(line[1]) ||
            !digit(line[2]) || line[0] < '2' || line[0] > '5' ||
            (line.size() > 3 && line[3] != ' ' && line[3] != '-')) {
            broken_ = true;
            error_ = "malformed reply line: " + std::string(line.substr(0, 80));
            return std::nullopt;
        }
        int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
        if (!lines_.empty() && code != code_) {
            broken_ = true;
            error_ = "reply code changed inside a multi-line reply";
            return std::nullopt;
        }
        code_ = code;
        lines_.emplace_back(line.size() > 4 ? line.substr(4) : std::string_view{});
        if (lines_.size() > kMaxLines) {
            broken_ = true;
            error_ = "reply has too many lines";
            return std::nullopt;
        }
        bool last = line.size() == 3 || line[3] == ' ';
        if (!last) continue;
        Reply r;
        r.code = code_;
        // The enhanced code counts only when every line starts with the same one; it is then
        // removed from every line. Otherwise the text is kept as the server sent it.
        std::size_t sl = status_length(lines_.front(), code_);
        if (sl > 0) r.status = lines_.front().substr(0, sl);
        for (const auto& l : lines_)
            if (sl > 0 && (status_length(l, code_) != sl || l.compare(0, sl, r.status) != 0)) {
                sl = 0;
                r.status.clear();
            }
        for (std::size_t i = 0; i < lines_.size(); ++i) {
            std::string_view text = lines_[i];
            if (sl > 0) {
                text.remove_prefix(sl);
                if (!text.empty() && text[0] == ' ') text.remove_prefix(1);
            }
            if (i > 0) r.text += '\n';
            r.text += text;
        }
        lines_.clear();
        code_ = 0;
        if (pos_ == buffer_.size()) {
            buffer_.clear();
            pos_ = 0;
        }
        return r;
    }
    return std::nullopt;
}

std::string reply_line(const Reply& reply) {
    std::string out = std::to_string(reply.code);
    if (!reply.status.empty()) out += " " + reply.status;
    if (!reply.text.empty()) {
        out += ' ';
        for (char c : reply.text)
            out += c == '\n' ? ' ' : c;
    }
    return out;
}

}  // namespace tern::smtp
