// Test helpers for a real account database: a temporary directory removed after the test, and
// argon2id costs low enough for unit tests.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>

#include "auth/account_store.h"

namespace tern::auth::testing {

inline constexpr HashOptions kCheapHashing{Argon2Params{1024, 1, 1}, kMinScramIterations};

// A fresh directory under /tmp; path() is empty when it could not be made.
class TempDir {
  public:
    TempDir() {
        char tmpl[] = "/tmp/tern-auth-XXXXXX";
        if (mkdtemp(tmpl)) path_ = tmpl;
    }
    ~TempDir() {
        if (!path_.empty()) std::filesystem::remove_all(path_);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

}  // namespace tern::auth::testing
