// Maildrop: where `tern sendmail` leaves a message for the daemon (as Postfix's postdrop), so
// that programs can hand mail to Tern when the daemon is down. One file per message in
// <data_dir>/maildrop (mode 3733: anyone may add a file, no one but the daemon's user may list
// or take one; each file gets the directory's group and mode 0640, so the daemon reads it after
// it gave up root), written under a dot name, synced, renamed, and the rename synced (syncfs); the
// daemon's pickup takes each file whose name does not start with a dot and removes it once the
// message is committed to the spool.
//
// File format (docs/sendmail.md): a header of lines, an empty line, then the message text with
// CRLF line ends:
//   TERNDROP 1
//   sender <alice@example.org>     ("<>" for the null sender)
//   rcpt <bob@example.net>         (one line per recipient, at least one)
//   notify SUCCESS,FAILURE         (optional, DSN NOTIFY of every recipient)
//   ret HDRS                       (optional, DSN RET)
//   envid xyz                      (optional, DSN ENVID, xtext)
//
// The submitting user is the file's owner, never what the file says.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace tern::spool {

// The maildrop directory's mode: sticky, setgid, rwx for its owner, -wx for everyone else.
inline constexpr unsigned kMaildropMode = 03733;

// Makes the maildrop directory `dir` (and its parents, durably) if it is missing, and gives it
// kMaildropMode: anyone may add a file; the sticky bit keeps users from removing each other's,
// the setgid bit gives each file the directory's group, so the daemon reads it after giving up
// root.
Result<void> make_maildrop(const std::string& dir);

struct MaildropMessage {
    std::string sender;                   // "" for <>
    std::vector<std::string> recipients;  // addresses without angle brackets
    std::string notify;                   // "" or the NOTIFY value (RFC 3461)
    std::string ret;                      // "" or FULL / HDRS
    std::string envid;                    // "" or the ENVID value
    std::string text;                     // the message, CRLF line ends
};

inline constexpr std::string_view kMaildropMagic = "TERNDROP 1";

// The file's bytes for `m`.
std::string encode_maildrop(const MaildropMessage& m);

// The message of a maildrop file's bytes; kInvalid naming what is wrong (an unknown version, a
// missing or malformed line, no recipient, no empty line before the text).
Result<MaildropMessage> decode_maildrop(std::string_view bytes);

// Writes `m` into `dir` durably (dot name, fsync, rename, syncfs through the file) and returns
// the file's name.
Result<std::string> drop_message(const std::string& dir, const MaildropMessage& m);

}  // namespace tern::spool
