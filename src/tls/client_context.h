// ClientContext: OpenSSL for outbound SMTP (RFC 3207 STARTTLS as a client): what a connection
// requires of the server's certificate (nothing, PKIX, DANE per RFC 7672) and whether it got it.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/error.h"
#include "dns/records.h"

namespace tern::tls {

// How much a connection needs from TLS, weakest first.
enum class Level {
    kNone,     // never STARTTLS
    kMay,      // STARTTLS when offered; any certificate; plain text when not offered
    kEncrypt,  // TLS required; any certificate
    kVerify,   // TLS required; a certificate valid for the host (PKIX, the CA store)
    kDane,     // TLS required; a certificate matching the host's secure TLSA records
};

std::string_view level_name(Level level);
// "none", "may", "encrypt", "verify"; nullopt for anything else ("dane" is never configured).
std::optional<Level> parse_level(std::string_view text);

// What one connection requires of the server.
struct PeerRequirement {
    Level level = Level::kMay;
    std::string sni;                    // host name sent in the TLS SNI extension
    std::vector<std::string> names;     // names the certificate may carry (kVerify, DANE-TA)
    std::vector<dns::TlsaRecord> tlsa;  // usable TLSA records (kDane)
    std::string source;                 // why this level: "policy", "dane", "mta-sts", ...
};

// The TLS a connection ended up with, for logs, queue show and the Received header.
struct Session {
    std::string protocol;  // "TLSv1.3"
    std::string cipher;    // "TLS_AES_256_GCM_SHA384"
    // The certificate is valid for the requirement's names (PKIX) or matches its TLSA records
    // (DANE); meaningful whatever the level, so MTA-STS testing mode can report it.
    bool verified = false;
    std::string verify_error;  // why not, when it is not
    std::string peer_subject;  // the certificate's subject, for logs

    // "TLSv1.3 TLS_AES_256_GCM_SHA384 (verified, dane)" and the like.
    std::string summary(const PeerRequirement& requirement) const;
};

struct ClientOptions {
    std::string ca_file;  // PEM CA certificates trusted besides the system's store
    std::string ca_path;  // a hashed CA directory trusted besides the system's store
};

class ClientContext {
  public:
    static Result<std::unique_ptr<ClientContext>> create(const ClientOptions& options);

    boost::asio::ssl::context& context() { return context_; }

    // Sets SNI, the reference names and the TLSA records of `requirement` on a new connection.
    Result<void> prepare(SSL* ssl, const PeerRequirement& requirement) const;

    // After the handshake: the session, and whether it meets the requirement.
    Session inspect(SSL* ssl, const PeerRequirement& requirement) const;

  private:
    explicit ClientContext(boost::asio::ssl::context context) : context_(std::move(context)) {}
    boost::asio::ssl::context context_;
};

// RFC 7672 section 3.1: only DANE-TA(2) and DANE-EE(3) with known selectors and matching types
// are usable for SMTP, and a "full" (matching type 0) record only when its data is exactly one
// DER certificate or public key; the rest are ignored.
std::vector<dns::TlsaRecord> usable_tlsa(const std::vector<dns::TlsaRecord>& records);

}  // namespace tern::tls
