// ServerContext: the server side of TLS (RFC 3207 STARTTLS, RFC 8314 implicit TLS): TLS 1.2 and
// 1.3 only, modern ciphers, one certificate per name chosen by SNI, reloaded without a restart.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"

namespace tern::tls {

// One certificate: its chain and private key (both may be in one PEM file).
struct CertificateFiles {
    std::string cert;  // PEM: the certificate, then its intermediates
    std::string key;   // PEM private key; empty = in `cert`
};

// "cert.pem" or "cert.pem, key.pem" as the configuration writes them; nullopt when malformed.
std::optional<CertificateFiles> parse_certificate_entry(std::string_view entry);

struct ServerOptions {
    std::vector<CertificateFiles> certificates;  // the first is used when SNI matches none
    bool tls13_only = false;                     // refuse TLS 1.2 as well
};

class ServerContext {
  public:
    // Loads every certificate; the error names the file and what is wrong.
    static Result<std::unique_ptr<ServerContext>> create(ServerOptions options);

    // The context a new connection starts with (its SNI callback may switch to another one).
    // Connections keep the set they started with across reloads.
    std::shared_ptr<boost::asio::ssl::context> context() const;

    // Loads the certificate files again; on any error the old set stays in use.
    Result<void> reload();

    // Names of the loaded certificates (subjectAltName DNS names), for logs.
    std::vector<std::string> names() const;

  private:
    struct Set;
    explicit ServerContext(ServerOptions options) : options_(std::move(options)) {}
    Result<std::shared_ptr<Set>> load() const;

    ServerOptions options_;
    mutable std::mutex mutex_;
    std::shared_ptr<Set> current_;
};

// "TLSv1.3" and "TLS_AES_256_GCM_SHA384" of an established connection.
std::string protocol_of(const SSL* ssl);
std::string cipher_of(const SSL* ssl);

}  // namespace tern::tls
