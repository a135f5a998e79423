// ServerContext: the server side of TLS (RFC 3207 STARTTLS, RFC 8314 implicit TLS): TLS 1.2 and
// 1.3 only, modern ciphers, one certificate per name chosen by SNI, reloaded without a restart.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <cstdint>
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

// What an operator wants to know of a loaded certificate.
struct CertificateSummary {
    std::vector<std::string> names;  // subjectAltName DNS names (and IP addresses)
    std::int64_t not_before = 0;     // unix seconds
    std::int64_t not_after = 0;
    std::string issuer;  // the issuer's distinguished name, one line
    bool self_signed = false;
    std::string file;  // the certificate file
};

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
    // Loads another list of certificate files (an ACME certificate replacing the self-signed
    // one); on any error the old list and set stay in use. Later reloads read the new list.
    Result<void> replace(std::vector<CertificateFiles> certificates);

    // Names of the loaded certificates (subjectAltName DNS names), for logs.
    std::vector<std::string> names() const;
    // The certificates in use now, in the order of the configuration.
    std::vector<CertificateSummary> certificates() const;

  private:
    struct Set;
    explicit ServerContext(ServerOptions options) : options_(std::move(options)) {}
    Result<std::shared_ptr<Set>> load() const;

    ServerOptions options_;     // changed by replace() only, under reload_mutex_
    std::mutex reload_mutex_;   // one reload or replace at a time (SIGHUP and ACME)
    mutable std::mutex mutex_;  // guards current_
    std::shared_ptr<Set> current_;
};

// "TLSv1.3" and "TLS_AES_256_GCM_SHA384" of an established connection.
std::string protocol_of(const SSL* ssl);
std::string cipher_of(const SSL* ssl);

}  // namespace tern::tls
