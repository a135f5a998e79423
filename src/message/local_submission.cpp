// Local submissions: the text is cut at the first empty line (a message whose first line is not
// a header field is all body), the header is judged as Postfix's cleanup does for "sendmail -t".
#include "message/local_submission.h"

#include <random>

#include "base/text.h"
#include "message/address_list.h"
#include "message/header_split.h"
#include "message/received.h"

namespace tern::message {
namespace {

// The input up to a lone "." line (when `dot_ends`), with CRLF line ends.
std::string normalised(std::string_view input, bool dot_ends) {
    std::string out;
    out.reserve(input.size() + input.size() / 32 + 2);
    std::size_t pos = 0;
    while (pos < input.size()) {
        auto nl = input.find('\n', pos);
        std::string_view line =
            input.substr(pos, nl == std::string_view::npos ? input.npos : nl - pos);
        pos = nl == std::string_view::npos ? input.size() : nl + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (dot_ends && line == ".") break;
        out += line;
        out += "\r\n";
    }
    return out;
}

// The field's name, when `raw` starts a header field ("Name:"); empty otherwise.
std::string_view field_name(std::string_view raw) {
    auto colon = raw.find(':');
    if (colon == std::string_view::npos || colon == 0) return {};
    std::string_view name = trim_blanks(raw.substr(0, colon));
    for (char c : name)
        if (c <= 32 || c >= 127) return {};
    return name;
}

bool has_field(const std::vector<std::string>& fields, std::string_view name) {
    for (const auto& f : fields)
        if (ascii_iequals(field_name(f), name)) return true;
    return false;
}

std::string message_id(const LocalSubmissionOptions& o) {
    std::random_device random;
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(o.now.time_since_epoch());
    return "<" + std::to_string(micros.count()) + "." + std::to_string(random()) + "@" +
           (o.hostname.empty() ? std::string("localhost") : o.hostname) + ">";
}

}  // namespace

std::string display_name(std::string_view name) {
    auto atom_or_space = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == ' ' ||
               std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
    };
    bool atoms = !name.empty();
    for (char c : name)
        if (!atom_or_space(c)) atoms = false;
    if (atoms) return std::string(name);
    std::string out = "\"";
    for (char c : name) {
        if (c == '\r' || c == '\n') continue;
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

LocalSubmission prepare_local_submission(std::string_view input,
                                         const LocalSubmissionOptions& options) {
    std::string text = normalised(input, options.dot_ends);
    // A first line that is no header field makes the whole text the body.
    bool has_header = !text.empty() && !field_name(text.substr(0, text.find("\r\n"))).empty();
    std::vector<std::string> fields;
    std::string body;
    if (has_header) {
        auto split = split_header(text);
        fields = std::move(split.fields);
        body = std::string(split.body);
    } else {
        body = text;
    }
    LocalSubmission out;
    if (options.extract_recipients) {
        bool resent = has_field(fields, "Resent-To") || has_field(fields, "Resent-Cc") ||
                      has_field(fields, "Resent-Bcc");
        for (std::string_view name :
             resent ? std::vector<std::string_view>{"Resent-To", "Resent-Cc", "Resent-Bcc"}
                    : std::vector<std::string_view>{"To", "Cc", "Bcc"}) {
            for (const auto& value : field_values(fields, name)) {
                auto list = parse_address_list(value);
                for (auto& a : list.addresses)
                    out.recipients.push_back(std::move(a));
                for (auto& i : list.invalid)
                    out.invalid.push_back(std::move(i));
            }
        }
    }
    // Blind copies stay blind: the field goes, whoever it named.
    std::erase_if(fields, [](const std::string& f) {
        auto name = field_name(f);
        return ascii_iequals(name, "Bcc") || ascii_iequals(name, "Resent-Bcc");
    });
    std::vector<std::string> added;
    if (!has_field(fields, "From") && !options.sender.empty()) {
        std::string from = options.full_name.empty()
                               ? options.sender
                               : display_name(options.full_name) + " <" + options.sender + ">";
        added.push_back("From: " + from + "\r\n");
    }
    if (!has_field(fields, "Date")) added.push_back("Date: " + rfc5322_date(options.now) + "\r\n");
    if (!has_field(fields, "Message-ID"))
        added.push_back("Message-ID: " + message_id(options) + "\r\n");
    for (const auto& f : fields)
        out.text += f;
    for (const auto& f : added)
        out.text += f;
    out.text += "\r\n";
    out.text += body;
    return out;
}

}  // namespace tern::message
