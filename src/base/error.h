// Error: what went wrong inside a component and whether trying again later can help.
// Hot paths return Result<T> (std::expected); smtp/replies.h maps an Error to the SMTP reply.
#pragma once

#include <expected>
#include <string>
#include <string_view>

namespace tern {

enum class ErrorCode {
    kIo,         // an I/O call failed; see message
    kNoSpace,    // the disk or a quota is full (ENOSPC, EDQUOT)
    kNotFound,   // the named thing does not exist
    kExists,     // the named thing already exists
    kInvalid,    // malformed input or a bad argument
    kTimeout,    // a deadline passed
    kTemporary,  // a peer or resource failed in a way that may pass
    kPermanent,  // a peer or resource failed in a way that will not pass
    kShutdown,   // the daemon is stopping
};

struct Error {
    ErrorCode code = ErrorCode::kIo;
    std::string message;

    // True when the same operation may succeed later (the SMTP 4xx class).
    [[nodiscard]] bool transient() const;

    // An Error from an errno value, with the operation and path it came from.
    static Error from_errno(int err, std::string_view context);
};

template <class T>
using Result = std::expected<T, Error>;

// Shorthand for returning an error: `return fail(ErrorCode::kInvalid, "why")`.
inline std::unexpected<Error> fail(ErrorCode code, std::string message) {
    return std::unexpected(Error{code, std::move(message)});
}

}  // namespace tern
