// Small file helpers the spool's writer and its recovery share: whole writes and reads that
// retry EINTR and short transfers, directory listing and opening.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "base/unique_fd.h"

namespace tern::spool {

// Writes all of `bytes`; on failure `written` (when given) says how much did reach the file.
Result<void> write_all(int fd, std::string_view bytes, const std::string& what,
                       std::size_t* written = nullptr);

// Reads exactly `n` octets at `offset`; an error (errno) or ENODATA for a file that ends first.
Result<void> pread_all(int fd, char* buf, std::size_t n, std::uint64_t offset,
                       const std::string& what);

Result<UniqueFd> open_dir(const std::string& path);

// Entry names of a directory without "." and ".."; empty when it cannot be read.
std::vector<std::string> list_dir(const std::string& path);

}  // namespace tern::spool
