// Test helpers for tests on a real file system: a temporary directory removed after the test,
// and the whole content of a file.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace tern::testing {

// A fresh directory under the system's temporary directory; path() is empty when it could not
// be made.
class TempDir {
  public:
    explicit TempDir(const std::string& prefix = "tern-test") {
        std::string pattern = std::filesystem::temp_directory_path() / (prefix + "-XXXXXX");
        if (::mkdtemp(pattern.data())) path_ = pattern;
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

// The content of the file at `path`; empty when it cannot be read.
inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream out;
    out << in.rdbuf();
    return out.str();
}

}  // namespace tern::testing
