// make_durable_dirs: creates a directory and any missing parents so that each new entry
// survives a power failure (the parent of every directory made is synced after the mkdir).
#pragma once

#include <sys/types.h>

#include <string>

#include "base/error.h"

namespace tern {

// Creates `path` and its missing ancestors with `mode`; each directory created is made durable
// in its parent with fsync before this returns. Existing directories are left as they are.
[[nodiscard]] Result<void> make_durable_dirs(const std::string& path, mode_t mode = 0755);

// The directory holding `path`: "." for a bare name, "/" for an entry of the root.
std::string parent_directory(const std::string& path);

// fsync of the directory at `path`; for making a rename or unlink in it durable.
[[nodiscard]] Result<void> sync_dir(const std::string& path);

}  // namespace tern
