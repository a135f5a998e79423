// HeaderSplitter: line by line through the header section (a field is known complete when the
// next line is not a continuation), then the body passed on as it comes, without copies.
#include "message/header_splitter.h"

namespace tern::message {
namespace {

bool is_wsp(char c) {
    return c == ' ' || c == '\t';
}

// The line without its line end ("\r\n", "\n").
std::string_view content_of(std::string_view line) {
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
}

}  // namespace

bool starts_field(std::string_view line) {
    std::size_t i = 0;
    while (i < line.size() && line[i] >= 33 && line[i] <= 126 && line[i] != ':')
        ++i;
    if (i == 0) return false;
    while (i < line.size() && is_wsp(line[i]))  // obsolete syntax: WSP before the colon
        ++i;
    return i < line.size() && line[i] == ':';
}

std::string_view field_name(std::string_view raw) {
    auto colon = raw.find(':');
    std::string_view name = raw.substr(0, colon);
    while (!name.empty() && is_wsp(name.back()))
        name.remove_suffix(1);
    return name;
}

std::string_view field_value(std::string_view raw) {
    auto colon = raw.find(':');
    return colon == std::string_view::npos ? std::string_view{} : raw.substr(colon + 1);
}

void HeaderSplitter::feed(std::string_view bytes, HeaderSink& sink) {
    while (!bytes.empty()) {
        if (state_ == State::kBody) {
            sink.on_body(bytes);
            return;
        }
        auto lf = bytes.find('\n');
        std::string_view part =
            bytes.substr(0, lf == std::string_view::npos ? bytes.size() : lf + 1);
        bytes.remove_prefix(part.size());
        if (field_.size() + line_.size() + part.size() > max_field_) {
            // A field beyond any sane size: stop splitting; what is held becomes body.
            too_large_ = true;
            std::string held = std::move(field_);
            held += line_;
            field_.clear();
            line_.clear();
            to_body(sink, {});
            sink.on_body(held);
            sink.on_body(part);
            continue;
        }
        line_.append(part);
        if (lf != std::string_view::npos) line_complete(sink);
    }
}

void HeaderSplitter::line_complete(HeaderSink& sink) {
    std::string_view content = content_of(line_);
    header_octets_ += line_.size();
    if (content.empty()) {  // the empty line between header section and body
        std::string separator = std::move(line_);
        line_.clear();
        to_body(sink, separator);
        return;
    }
    if (is_wsp(line_[0]) && !field_.empty()) {  // a continuation of the field (folding)
        field_ += line_;
        line_.clear();
        return;
    }
    if (!field_.empty()) {
        sink.on_field(field_);
        field_.clear();
    }
    if (starts_field(content)) {
        field_ = std::move(line_);
        line_.clear();
        return;
    }
    // Neither a field nor a continuation: the header section ends without an empty line, and
    // this line is the first of the body (as Postfix's cleanup reads such a message).
    header_octets_ -= line_.size();
    std::string first = std::move(line_);
    line_.clear();
    to_body(sink, {});
    sink.on_body(first);
}

void HeaderSplitter::to_body(HeaderSink& sink, std::string_view separator) {
    if (!field_.empty()) {
        sink.on_field(field_);
        field_.clear();
    }
    state_ = State::kBody;
    sink.on_end_of_headers(separator);
}

void HeaderSplitter::finish(HeaderSink& sink) {
    if (state_ == State::kBody) return;
    if (!line_.empty()) {
        // A last line without a line end: a field (or continuation) if it looks like one.
        if ((is_wsp(line_[0]) && !field_.empty()) || starts_field(line_)) {
            header_octets_ += line_.size();
            if (is_wsp(line_[0]) && !field_.empty()) {
                field_ += line_;
            } else {
                if (!field_.empty()) sink.on_field(field_);
                field_ = std::move(line_);
            }
            line_.clear();
        }
    }
    std::string rest = std::move(line_);
    line_.clear();
    to_body(sink, {});
    if (!rest.empty()) sink.on_body(rest);
}

}  // namespace tern::message
