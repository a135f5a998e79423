// check(): how a libFuzzer target reports a broken invariant, shared by the targets of this
// folder: abort() is what libFuzzer notices, and the line printed says which invariant it was.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <source_location>

namespace tern::fuzz {

inline void check(bool ok, std::source_location where = std::source_location::current()) {
    if (ok) return;
    std::fprintf(stderr, "invariant failed at %s:%u\n", where.file_name(),
                 static_cast<unsigned>(where.line()));
    std::abort();
}

}  // namespace tern::fuzz
