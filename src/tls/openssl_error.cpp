// openssl_error (openssl_error.h): one formatting of OpenSSL's error queue for the client and
// server contexts.
#include "tls/openssl_error.h"

#include <openssl/err.h>

namespace tern::tls {

std::string openssl_error(std::string_view what) {
    unsigned long e = ERR_get_error();
    char buf[256] = "unknown error";
    if (e != 0) ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return std::string(what) + ": " + buf;
}

}  // namespace tern::tls
