// openssl_error: the reason OpenSSL queued for the call that just failed, in an error message,
// with the thread's error queue left empty for the next call.
#pragma once

#include <string>
#include <string_view>

namespace tern::tls {

// "WHAT: reason" from the oldest queued error ("WHAT: unknown error" when none was queued);
// clears the queue.
std::string openssl_error(std::string_view what);

}  // namespace tern::tls
