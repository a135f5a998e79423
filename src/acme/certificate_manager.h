// CertificateManager: keeps a certificate from an ACME CA for the listeners' host names. At
// start it says which stored certificate to load; then it checks on a timer and orders a new
// certificate when there is none, when the names changed, or when the stored one is within
// renew_before of its expiry; a failure is tried again after retry_interval. A new certificate
// is stored (key and chain in one file, loaded on trial first, replaced atomically and synced)
// and handed to `installed`, which loads it into the listeners without a restart; if they refuse
// it, that is tried again after retry_interval (docs/tls.md). Exceptions (a CA answer of another
// shape) are failures like any other.
#pragma once

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "acme/acme_client.h"
#include "log/logger.h"

namespace tern::acme {

struct CertificateManagerOptions {
    std::vector<std::string> names;  // the first is the certificate's CN
    std::string dir;                 // where the account key and certificate.pem live
    std::chrono::seconds renew_before{30 * 86400};
    std::chrono::seconds check_interval{12 * 3600};
    std::chrono::seconds retry_interval{3600};
};

// What is known of a stored certificate.
struct StoredCertificate {
    std::string path;  // key and chain in one PEM file
    std::vector<std::string> names;
    std::int64_t not_before = 0;  // unix seconds
    std::int64_t not_after = 0;
};

class CertificateManager {
  public:
    using Installed = std::function<Result<void>(const std::string& path)>;

    CertificateManager(boost::asio::io_context& home, AcmeClient& client,
                       CertificateManagerOptions options, log::Logger& log, Installed installed);
    ~CertificateManager();

    // The stored certificate when it can be read, whatever its age or names.
    std::optional<StoredCertificate> stored() const;
    // Unix time at which the stored certificate should be replaced (0: now): renew_before its
    // expiry, or with a third of its lifetime left if that is later.
    std::int64_t due_at(std::int64_t now) const;

    void start();
    void stop();  // from any thread; an order in progress is abandoned

  private:
    boost::asio::awaitable<void> run();
    boost::asio::awaitable<Result<Issued>> order();  // obtain(), exceptions made errors
    Result<void> store(const Issued& issued);

    boost::asio::io_context& home_;
    AcmeClient& client_;
    CertificateManagerOptions options_;
    log::Logger& log_;
    Installed installed_;
    std::shared_ptr<boost::asio::steady_timer> timer_;
    std::shared_ptr<bool> stopped_ = std::make_shared<bool>(false);
    std::shared_ptr<boost::asio::cancellation_signal> cancel_ =
        std::make_shared<boost::asio::cancellation_signal>();
};

// The certificate file's path under `dir`.
std::string certificate_path(const std::string& dir);

}  // namespace tern::acme
