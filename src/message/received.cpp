// The Received: trace header (RFC 5321 section 4.4, RFC 5322 section 3.6.7) and RFC 5322 dates.
// Every value is untrusted: each keeps only what its place may hold, so none can end the field.
#include "message/received.h"

#include <fmt/format.h>

#include <array>
#include <string_view>
#include <vector>

#include "message/header_text.h"

namespace tern::message {
namespace {

bool is_alnum(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// `value` with controls dropped, the characters `keep` accepts left as they are, well-formed
// UTF-8 kept when `utf8`, and everything else replaced by '?'.
template <class Keep>
std::string restrict_to(std::string_view value, bool utf8, Keep keep) {
    std::string out;
    for (std::size_t i = 0; i < value.size();) {
        auto c = static_cast<unsigned char>(value[i]);
        if (c < 0x20 || c == 0x7F) {
            ++i;
        } else if (c < 0x80) {
            out += keep(c) ? static_cast<char>(c) : '?';
            ++i;
        } else if (std::size_t n = utf8_sequence_length(value, i); utf8 && n > 0) {
            out += value.substr(i, n);
            i += n;
        } else {
            out += '?';
            i += n > 0 ? n : 1;
        }
    }
    return out;
}

// A host name or the HELO argument, which may be an address literal. Parentheses, spaces,
// quotes and semicolons could open a comment or end the clause, so they become '?'.
std::string host_word(std::string_view value, bool utf8, bool literal) {
    return restrict_to(value, utf8, [literal](unsigned char c) {
        if (is_alnum(c) || c == '-' || c == '.' || c == '_') return true;
        return literal && (c == '[' || c == ']' || c == ':');
    });
}

// The client address as an address literal of RFC 5321 section 4.1.3: "[192.0.2.1]" or
// "[IPv6:2001:db8::1]", the form Postfix writes too.
std::string address_literal(std::string_view ip) {
    if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
    std::string clean =
        restrict_to(ip, false, [](unsigned char c) { return is_alnum(c) || c == '.' || c == ':'; });
    bool tagged = clean.size() > 5 && (clean.starts_with("IPv6:") || clean.starts_with("ipv6:"));
    if (!tagged && clean.find(':') != std::string::npos) clean.insert(0, "IPv6:");
    return "[" + clean + "]";
}

// A keyword or an id: RFC 5322 atext, which holds no space, parenthesis or semicolon.
std::string atom_word(std::string_view value) {
    return restrict_to(value, false, [](unsigned char c) {
        return c > 0x20 && c < 0x7F &&
               std::string_view("()<>[]:;@\\,.\"").find(static_cast<char>(c)) ==
                   std::string_view::npos;
    });
}

// Text inside a comment: no parenthesis or backslash, so the comment cannot end early.
std::vector<std::string> comment_words(std::string_view value, bool utf8) {
    std::string clean = clean_header_text(value, utf8);
    for (char& c : clean) {
        if (c == '(' || c == ')' || c == '\\') c = '?';
    }
    std::vector<std::string> words;
    std::size_t start = 0;
    while (start < clean.size()) {
        std::size_t space = clean.find(' ', start);
        if (space == std::string::npos) space = clean.size();
        words.push_back(clean.substr(start, space - start));
        start = space + 1;
    }
    return words;
}

// The recipient as a Path "<local@domain>"; brackets, semicolons and comment delimiters
// inside it become '?', since a parser looks for the last ';' to find the date.
std::string recipient_path(std::string_view value, bool utf8) {
    std::string clean = clean_header_text(value, utf8);
    if (clean.size() >= 2 && clean.front() == '<' && clean.back() == '>') {
        clean = clean.substr(1, clean.size() - 2);
    }
    for (char& c : clean) {
        if (c == '<' || c == '>' || c == ';' || c == '(' || c == ')' || c == '\\') c = '?';
    }
    return "<" + clean + ">";
}

// Joins the words of each line, starting every line on a new physical line and wrapping a
// line at its spaces when it would pass kFoldLine. A word is never split.
std::string fold_lines(const std::vector<std::vector<std::string>>& lines) {
    std::string out;
    for (const auto& words : lines) {
        if (words.empty()) continue;
        std::size_t width = 0;
        if (!out.empty()) {
            out += "\r\n\t";
            width = 1;
        }
        bool first = true;
        for (const std::string& word : words) {
            if (!first && width + 1 + word.size() > kFoldLine) {
                out += "\r\n\t";
                width = 1;
            } else if (!first) {
                out += ' ';
                ++width;
            }
            out += word;
            width += word.size();
            first = false;
        }
    }
    out += "\r\n";
    return out;
}

}  // namespace

std::string received_header(const ReceivedInfo& info) {
    // RFC 6531 section 3.7.4: the UTF8* protocol keywords mark a message that may carry UTF-8.
    const bool utf8 = info.protocol.starts_with("UTF8");

    std::vector<std::vector<std::string>> lines;

    std::string helo = host_word(info.helo, utf8, true);
    std::vector<std::string> from = {"Received:", "from", helo.empty() ? "unknown" : helo};
    std::string host = host_word(info.client_host, utf8, false);
    std::string ip = info.client_ip.empty() ? "" : address_literal(info.client_ip);
    if (!host.empty() && !ip.empty()) {
        from.push_back("(" + host);
        from.push_back(ip + ")");
    } else if (!host.empty() || !ip.empty()) {
        from.push_back("(" + host + ip + ")");
    }
    lines.push_back(std::move(from));

    std::string by_host = host_word(info.by_host, utf8, false);
    std::vector<std::string> by = {"by", by_host.empty() ? "localhost" : by_host, "(Tern)"};
    if (std::string protocol = atom_word(info.protocol); !protocol.empty()) {
        by.push_back("with");
        by.push_back(protocol);
    }
    if (std::string id = atom_word(info.queue_id); !id.empty()) {
        by.push_back("id");
        by.push_back(id);
    }
    lines.push_back(std::move(by));

    if (std::vector<std::string> tls = comment_words(info.tls, utf8); !tls.empty()) {
        tls.front().insert(0, "(");
        tls.back() += ")";
        lines.push_back(std::move(tls));
    }

    if (std::string rcpt = clean_header_text(info.for_recipient, utf8); !rcpt.empty()) {
        lines.push_back({"for", recipient_path(rcpt, utf8)});
    }

    lines.back().back() += ";";
    lines.back().push_back(rfc5322_date(info.when));
    return fold_lines(lines);
}

std::string rfc5322_date(std::chrono::system_clock::time_point when) {
    static constexpr std::array<std::string_view, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                              "Thu", "Fri", "Sat"};
    static constexpr std::array<std::string_view, 12> kMonths = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    using namespace std::chrono;
    auto secs = floor<seconds>(when);
    auto day = floor<days>(secs);
    year_month_day ymd{day};
    hh_mm_ss hms{secs - day};
    return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} +0000",
                       kDays[weekday{day}.c_encoding()], static_cast<unsigned>(ymd.day()),
                       kMonths[static_cast<unsigned>(ymd.month()) - 1],
                       static_cast<int>(ymd.year()), hms.hours().count(), hms.minutes().count(),
                       hms.seconds().count());
}

}  // namespace tern::message
