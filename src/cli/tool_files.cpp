// Key files through open(2) for the mode and O_EXCL; everything else through the standard
// library.
#include "cli/tool_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <iostream>
#include <iterator>

#include "base/unique_fd.h"

namespace tern::cli {

Result<mailauth::PrivateKey> load_private_key(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::unexpected(Error::from_errno(errno, "cannot read " + path));
    std::string pem(std::istreambuf_iterator<char>(in), {});
    auto key = mailauth::PrivateKey::from_pem(pem);
    if (!key) return fail(ErrorCode::kInvalid, path + ": " + key.error().message);
    return key;
}

Result<void> write_new_file(const std::string& path, std::string_view data) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!fd.valid()) return std::unexpected(Error::from_errno(errno, "cannot create " + path));
    while (!data.empty()) {
        ssize_t n = ::write(fd.get(), data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return std::unexpected(Error::from_errno(errno, "cannot write " + path));
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    if (::fsync(fd.get()) != 0)
        return std::unexpected(Error::from_errno(errno, "cannot sync " + path));
    return {};
}

void read_message(InputMessage& out) {
    out.input.assign(std::istreambuf_iterator<char>(std::cin), {});
    out.unix_lines = message::has_bare_lf(out.input);
    out.text = out.unix_lines ? message::to_crlf(out.input) : out.input;
    out.split = message::split_header(out.text);
}

std::int64_t unix_now() {
    using namespace std::chrono;
    return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace tern::cli
