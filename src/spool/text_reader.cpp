// TextReader: without edits a window on the file; with edits the received header section is
// split into fields, edited (message::apply_edits) and served from memory, the rest (the received
// body, or the one that replaced it) from the file.
#include "spool/text_reader.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "message/header_splitter.h"

namespace tern::spool {
namespace {

constexpr std::size_t kChunk = 64 * 1024;

std::size_t pread_some(int fd, char* buf, std::size_t n, std::uint64_t offset) {
    std::size_t got = 0;
    while (got < n) {
        ssize_t r = ::pread(fd, buf + got, n - got, static_cast<off_t>(offset + got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += static_cast<std::size_t>(r);
    }
    return got;
}

// Gathers the fields and the separator of a header section.
struct Section : message::HeaderSink {
    std::vector<std::string> fields;
    std::string separator;
    std::uint64_t octets = 0;  // fields and separator: where the body starts
    bool done = false;
    void on_field(std::string_view raw) override {
        fields.emplace_back(raw);
        octets += raw.size();
    }
    void on_end_of_headers(std::string_view sep) override {
        separator = sep;
        octets += sep.size();
        done = true;
    }
    void on_body(std::string_view) override {}
};

}  // namespace

TextReader::TextReader(int fd, const Message& m)
    : fd_(fd), rest_(m.body_offset), end_(m.body_offset + m.body_length) {
    if (m.edits.empty() && !m.body_replaced) return;
    message::HeaderSplitter splitter;
    Section section;
    std::string buf(kChunk, '\0');
    for (std::uint64_t done = 0; done < m.body_length && !section.done;) {
        auto want = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, m.body_length - done));
        auto got = pread_some(fd, buf.data(), want, m.body_offset + done);
        if (got == 0) {
            failed_ = true;
            return;
        }
        splitter.feed(std::string_view(buf.data(), got), section);
        done += got;
    }
    if (!section.done) splitter.finish(section);
    if (splitter.too_large()) {
        failed_ = true;  // the pipeline refuses such a section: this file is not one it made
        return;
    }
    message::apply_edits(section.fields, m.edits);
    for (const auto& f : section.fields)
        head_ += f;
    head_ += section.separator;
    rest_ = m.body_offset + section.octets;
    if (m.body_replaced) {
        // The new body follows the header section; a text that had no separator gets one
        // before it (pipeline::MessageOutcome::body_delta counts it).
        if (section.separator.empty() && m.replaced_length > 0) head_ += "\r\n";
        rest_ = m.replaced_offset;
        end_ = m.replaced_offset + m.replaced_length;
    }
}

std::size_t TextReader::read_at(std::uint64_t pos, char* buf, std::size_t n) const {
    std::size_t got = 0;
    if (pos < head_.size()) {
        got = std::min<std::size_t>(n, head_.size() - static_cast<std::size_t>(pos));
        std::copy_n(head_.data() + pos, got, buf);
        pos += got;
    }
    if (got == n) return got;
    std::uint64_t file_pos = rest_ + (pos - head_.size());
    if (file_pos >= end_) return got;
    auto want = static_cast<std::size_t>(std::min<std::uint64_t>(n - got, end_ - file_pos));
    return got + pread_some(fd_, buf + got, want, file_pos);
}

}  // namespace tern::spool
