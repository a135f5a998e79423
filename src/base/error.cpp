// Error helpers: classification of error codes and conversion from errno.
// Kept out of the header so that <cstring> stays out of every includer.
#include "base/error.h"

#include <cerrno>
#include <cstring>

namespace tern {

bool Error::transient() const {
    switch (code) {
        case ErrorCode::kInvalid:
        case ErrorCode::kNotFound:
        case ErrorCode::kPermanent:
            return false;
        default:
            return true;
    }
}

Error Error::from_errno(int err, std::string_view context) {
    ErrorCode code = ErrorCode::kIo;
    if (err == ENOSPC || err == EDQUOT) code = ErrorCode::kNoSpace;
    if (err == ENOENT) code = ErrorCode::kNotFound;
    if (err == EEXIST) code = ErrorCode::kExists;
    std::string message(context);
    message += ": ";
    message += std::strerror(err);
    return Error{code, std::move(message)};
}

}  // namespace tern
