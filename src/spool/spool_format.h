// The spool's on-disk formats (docs/spool.md): the envelope block at the head of a message
// file, the commit trailer at its end, and the lines of the per-message state log.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "message/header_edit.h"
#include "spool/message.h"

namespace tern::spool {

inline constexpr std::string_view kEnvelopeMagic = "TERN-SPOOL 1\n";
inline constexpr std::string_view kTrailerMagic = "TERNEND1";
inline constexpr std::size_t kTrailerSize = 32;  // magic(8) env_len(8) body_len(8) crc(4) crc(4)
// Version 2, for a message whose header section was edited: an edits block lies between the
// text and the trailer. magic(8) env_len(8) text_len(8) edits_len(8) crc(4) crc(4).
inline constexpr std::string_view kTrailerMagic2 = "TERNEND2";
inline constexpr std::size_t kTrailer2Size = 40;
inline constexpr std::string_view kEditsMagic = "TERN-EDITS 1\n";
// Version 3, for a message whose envelope or body the pipeline changed (a milter): after the text
// the edits block (always, perhaps without edits), the changed envelope (an envelope block, or
// nothing) and the replacement body (kBodyMagic and the body's octets, or nothing). magic(8)
// env_len(8) text_len(8) edits_len(8) new_env_len(8) body_block_len(8) crc(4) crc(4).
inline constexpr std::string_view kTrailerMagic3 = "TERNEND3";
inline constexpr std::size_t kTrailer3Size = 56;
inline constexpr std::string_view kBodyMagic = "TERN-BODY 1\n";

// The commit mark (as Postfix marks a finished queue file): a message file is created, or taken
// for reuse, with kWritingMode and gets kCommittedMode once the sync that follows its trailer has
// succeeded, before the 250. A mark on disk thus proves the content reached the disk first: a
// file that fails to load with the mark was damaged after it was acknowledged (quarantined); one
// without it may be half-written (removed), and a complete one loads with or without it.
inline constexpr mode_t kWritingMode = S_IRUSR | S_IWUSR;
inline constexpr mode_t kCommittedMode = S_IRUSR | S_IWUSR | S_IXUSR;
inline bool has_commit_mark(mode_t mode) {
    return (mode & S_IXUSR) != 0;
}

// The envelope block: "TERN-SPOOL 1", then one "key value" line per field, values in xtext,
// then "end". Recipient lines: "rcpt <address> <original> <orcpt|-> <notify|->".
std::string encode_envelope(const Message& message);

// Parses an envelope block; nullopt when it is malformed. Sets everything but the body fields.
std::optional<Message> decode_envelope(std::string_view block);

// The trailer proving the file complete: lengths and a CRC-32 of everything before it.
std::string encode_trailer(std::uint64_t envelope_length, std::uint64_t body_length,
                           std::uint32_t crc);
// The version 2 trailer, with the length of the edits block before it.
std::string encode_trailer2(std::uint64_t envelope_length, std::uint64_t body_length,
                            std::uint64_t edits_length, std::uint32_t crc);

// The version 3 trailer, with the lengths of the changed envelope and replacement body blocks.
std::string encode_trailer3(std::uint64_t envelope_length, std::uint64_t body_length,
                            std::uint64_t edits_length, std::uint64_t new_envelope_length,
                            std::uint64_t body_block_length, std::uint32_t crc);

struct Trailer {
    std::uint64_t envelope_length;
    std::uint64_t body_length;
    std::uint32_t crc;
    std::uint64_t edits_length = 0;         // versions 2 and 3
    std::size_t size = kTrailerSize;        // octets of the trailer itself
    std::uint64_t new_envelope_length = 0;  // version 3 only
    std::uint64_t body_block_length = 0;    // version 3 only

    // Octets of the blocks after the text.
    std::uint64_t after_text() const {
        return edits_length + new_envelope_length + body_block_length;
    }
};
// A trailer of any version: `bytes` is exactly kTrailerSize, kTrailer2Size or kTrailer3Size
// octets.
std::optional<Trailer> decode_trailer(std::string_view bytes);

// The edits block: "TERN-EDITS 1", "delta <octets added>", one line per edit ("p <field>",
// "i <index> <field>", "r <index>", fields in xtext), then "end".
std::string encode_edits(const std::vector<message::HeaderEdit>& edits, long long delta);
// Parses an edits block; nullopt when it is malformed.
std::optional<std::pair<std::vector<message::HeaderEdit>, long long>> decode_edits(
    std::string_view block);

// One state-log line (with its own CRC and the newline) for recipient `index`.
std::string encode_recipient_state(std::size_t index, const Recipient& r);
// A message-level flag: "hold", "release", "warned".
std::string encode_flag(std::string_view flag);

// Applies one state-log line (without the newline) to `message`; false when the line is
// torn, corrupt or names an unknown recipient (such a line is ignored).
bool apply_state_line(std::string_view line, Message& message);

// CRC-32 (zlib polynomial) over `data`, continuing from `crc`.
std::uint32_t crc32_update(std::uint32_t crc, std::string_view data);

}  // namespace tern::spool
