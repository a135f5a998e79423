// MimeReader: line by line over views of the text; a multipart's parts are found by their
// boundary lines, then read the same way, one level deeper, until the limits say stop.
#include "message/mime_reader.h"

#include "base/base64.h"
#include "base/text.h"

namespace tern::message {
namespace {

bool is_blank(char c) {
    return c == ' ' || c == '\t';
}

// The line at `pos` without its end (LF or CRLF); `next` is set to the start of the next line.
std::string_view line_at(std::string_view text, std::size_t pos, std::size_t& next) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) {
        next = text.size();
        end = text.size();
    } else {
        next = end + 1;
    }
    std::string_view line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
}

// "type/subtype; a=b; c="d"" into the entity's type and parameters.
void read_content_type(std::string_view value, MimeEntity& e) {
    std::size_t semi = value.find(';');
    std::string type = ascii_lower(trim_space(value.substr(0, semi)));
    if (auto paren = type.find('('); paren != std::string::npos) type.resize(paren);
    if (type.find('/') != std::string::npos) e.type = std::string(trim_space(type));
    while (semi != std::string_view::npos) {
        value.remove_prefix(semi + 1);
        std::size_t eq = value.find('=');
        if (eq == std::string_view::npos) break;
        std::string name = ascii_lower(trim_space(value.substr(0, eq)));
        value.remove_prefix(eq + 1);
        while (!value.empty() && is_blank(value.front()))
            value.remove_prefix(1);
        std::string v;
        if (!value.empty() && value.front() == '"') {
            std::size_t i = 1;
            for (; i < value.size() && value[i] != '"'; ++i) {
                if (value[i] == '\\' && i + 1 < value.size()) ++i;
                v += value[i];
            }
            value.remove_prefix(std::min(value.size(), i + 1));
            semi = value.find(';');
        } else {
            semi = value.find(';');
            v = std::string(trim_space(value.substr(0, semi)));
        }
        if (!name.empty()) e.params.emplace_back(std::move(name), std::move(v));
    }
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

class Reader {
  public:
    explicit Reader(const MimeLimits& limits) : limits_(limits) {}

    MimeEntity read(std::string_view text, std::size_t depth) {
        ++entities_;
        MimeEntity e;
        std::string_view body;
        e.fields = read_fields(text, &body);
        e.body = body;
        if (const auto* ct = e.field("Content-Type")) read_content_type(*ct, e);
        if (const auto* cte = e.field("Content-Transfer-Encoding"))
            e.encoding = ascii_lower(trim_space(*cte));
        if (depth >= limits_.max_depth) return e;
        if (e.type.starts_with("multipart/")) {
            std::string boundary = e.param("boundary");
            if (!boundary.empty()) split(e, boundary, depth);
        } else if (e.type == "message/rfc822" || e.type == "message/global") {
            if (entities_ < limits_.max_parts) {
                // An encoded message part (not allowed, but seen) is read once decoded: its
                // text must outlive the entity, so only identity encodings are read here.
                if (e.encoding.empty() || e.encoding == "7bit" || e.encoding == "8bit" ||
                    e.encoding == "binary")
                    e.parts.push_back(read(body, depth + 1));
            }
        }
        return e;
    }

  private:
    void split(MimeEntity& e, const std::string& boundary, std::size_t depth) {
        std::string_view text = e.body;
        std::string dash = "--" + boundary;
        std::size_t pos = 0;
        std::size_t part_start = std::string_view::npos;
        while (pos < text.size()) {
            std::size_t next = 0;
            std::string_view line = line_at(text, pos, next);
            if (line.starts_with(dash)) {
                std::string_view tail = line.substr(dash.size());
                bool closing = tail.starts_with("--");
                if (closing) tail.remove_prefix(2);
                if (trim_space(tail).empty()) {
                    if (part_start != std::string_view::npos) {
                        // The line end before the boundary line belongs to the boundary.
                        std::size_t end = pos;
                        if (end > part_start && text[end - 1] == '\n') --end;
                        if (end > part_start && text[end - 1] == '\r') --end;
                        if (!add_part(e, text.substr(part_start, end - part_start), depth)) return;
                    }
                    if (closing) return;
                    part_start = next;
                }
            }
            pos = next;
        }
        // No closing boundary: the last part runs to the end.
        if (part_start != std::string_view::npos && part_start < text.size())
            add_part(e, text.substr(part_start), depth);
    }

    bool add_part(MimeEntity& e, std::string_view text, std::size_t depth) {
        if (entities_ >= limits_.max_parts) return false;
        e.parts.push_back(read(text, depth + 1));
        return true;
    }

    const MimeLimits& limits_;
    std::size_t entities_ = 0;
};

}  // namespace

std::vector<MimeField> read_fields(std::string_view text, std::string_view* rest) {
    std::vector<MimeField> fields;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t next = 0;
        std::string_view line = line_at(text, pos, next);
        if (line.empty()) {
            pos = next;
            break;
        }
        if (is_blank(line.front())) {
            // A continuation; one before any field (a broken message) is dropped.
            if (!fields.empty()) {
                std::string_view more = trim_space(line);
                if (!more.empty()) {
                    if (!fields.back().value.empty()) fields.back().value += ' ';
                    fields.back().value += more;
                }
            }
        } else if (auto colon = line.find(':'); colon != std::string_view::npos && colon > 0) {
            fields.push_back({std::string(trim_space(line.substr(0, colon))),
                              std::string(trim_space(line.substr(colon + 1)))});
        } else if (fields.empty() && line.starts_with("From ")) {
            // An mbox "From " line before the fields.
        } else {
            // Not a field: the header section has ended without its empty line.
            break;
        }
        pos = next;
    }
    if (rest) *rest = text.substr(std::min(pos, text.size()));
    return fields;
}

const std::string* find_field(const std::vector<MimeField>& fields, std::string_view name) {
    for (const auto& f : fields)
        if (ascii_iequals(f.name, name)) return &f.value;
    return nullptr;
}

std::string MimeEntity::param(std::string_view name) const {
    for (const auto& [n, v] : params)
        if (n == name) return v;
    return {};
}

std::string MimeEntity::decoded() const {
    if (encoding == "base64") {
        std::string clean;
        clean.reserve(body.size());
        for (char c : body)
            if (c != '\r' && c != '\n' && !is_blank(c)) clean += c;
        if (auto d = base64_decode(clean)) return *std::move(d);
        // Padded wrongly or cut short: padding as it should be, a lone last character dropped.
        while (!clean.empty() && clean.back() == '=')
            clean.pop_back();
        if (clean.size() % 4 == 1) clean.pop_back();
        if (clean.size() % 4 != 0) clean.append(4 - clean.size() % 4, '=');
        if (auto d = base64_decode(clean)) return *std::move(d);
        return std::string(body);
    }
    if (encoding == "quoted-printable") return decode_quoted_printable(body);
    return std::string(body);
}

MimeEntity read_mime(std::string_view text, const MimeLimits& limits) {
    Reader reader(limits);
    return reader.read(text, 0);
}

std::string decode_quoted_printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c != '=') {
            out += c;
            continue;
        }
        // A soft line break: "=" then optional blanks then the line end.
        std::size_t j = i + 1;
        while (j < text.size() && is_blank(text[j]))
            ++j;
        if (j < text.size() && (text[j] == '\n' || text[j] == '\r')) {
            if (text[j] == '\r' && j + 1 < text.size() && text[j + 1] == '\n') ++j;
            i = j;
            continue;
        }
        if (j == text.size()) {
            i = j;
            continue;
        }
        if (i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
            out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
            i += 2;
            continue;
        }
        out += c;
    }
    return out;
}

}  // namespace tern::message
