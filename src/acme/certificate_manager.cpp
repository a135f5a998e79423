// CertificateManager: the renewal timer, and the stored file (read with OpenSSL; written to a
// temporary file, synced, loaded on trial, renamed and the directory synced, so that a crash
// leaves the old or the new certificate, never half of one or a key without its certificate).
#include "acme/certificate_manager.h"

#include <fcntl.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <ctime>
#include <fstream>
#include <sstream>

#include "base/text.h"
#include "base/unix_time.h"
#include "tls/server_context.h"

namespace tern::acme {
namespace asio = boost::asio;

namespace {

std::string join(const std::vector<std::string>& names, std::string_view separator) {
    std::string out;
    for (const auto& n : names) {
        if (!out.empty()) out += separator;
        out += n;
    }
    return out;
}

}  // namespace

std::string certificate_path(const std::string& dir) {
    return dir + "/certificate.pem";
}

CertificateManager::CertificateManager(asio::io_context& home, AcmeClient& client,
                                       CertificateManagerOptions options, log::Logger& log,
                                       Installed installed)
    : home_(home),
      client_(client),
      options_(std::move(options)),
      log_(log),
      installed_(std::move(installed)),
      timer_(std::make_shared<asio::steady_timer>(home)) {}

CertificateManager::~CertificateManager() {
    *stopped_ = true;
}

std::optional<StoredCertificate> CertificateManager::stored() const {
    StoredCertificate s;
    s.path = certificate_path(options_.dir);
    std::FILE* in = std::fopen(s.path.c_str(), "rb");
    if (!in) return std::nullopt;
    X509* cert = PEM_read_X509(in, nullptr, nullptr, nullptr);
    std::fclose(in);
    if (!cert) return std::nullopt;
    struct tm tm {};
    if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) == 1) s.not_after = timegm(&tm);
    struct tm from {};
    if (ASN1_TIME_to_tm(X509_get0_notBefore(cert), &from) == 1) s.not_before = timegm(&from);
    auto* sans =
        static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
    for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); ++i) {
        const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans, i);
        if (gn->type != GEN_DNS) continue;
        const ASN1_IA5STRING* ia5 = gn->d.dNSName;
        s.names.push_back(ascii_lower(std::string(reinterpret_cast<const char*>(ia5->data),
                                                  static_cast<std::size_t>(ia5->length))));
    }
    GENERAL_NAMES_free(sans);
    X509_free(cert);
    return s;
}

std::int64_t CertificateManager::due_at(std::int64_t now) const {
    auto s = stored();
    if (!s || s->not_after == 0) return 0;
    std::vector<std::string> want;
    for (const auto& n : options_.names)
        want.push_back(ascii_lower(n));
    std::vector<std::string> have = s->names;
    std::sort(want.begin(), want.end());
    std::sort(have.begin(), have.end());
    if (want != have) return 0;
    // Never less than a third of the lifetime left: short-lived certificates are renewed in
    // time, and not at every check.
    std::int64_t before = options_.renew_before.count();
    if (s->not_before > 0 && s->not_after > s->not_before)
        before = std::min(before, (s->not_after - s->not_before) / 3);
    std::int64_t due = s->not_after - before;
    return due <= now ? 0 : due;
}

Result<void> CertificateManager::store(const Issued& issued) {
    std::string pem = issued.key_pem;
    if (!pem.empty() && pem.back() != '\n') pem += '\n';
    pem += issued.chain_pem;
    // Loaded as the listeners will load it before it replaces the stored one: a chain that
    // does not load (or a key that does not match) never reaches the next start.
    std::string path = certificate_path(options_.dir);
    std::string trial = path + ".new";
    if (auto r = write_private_file(trial, pem); !r) return r;
    if (auto loads = tls::ServerContext::create(tls::ServerOptions{{{trial, ""}}}); !loads) {
        ::unlink(trial.c_str());
        return fail(ErrorCode::kPermanent,
                    "the certificate from the ACME server does not load: " + loads.error().message);
    }
    return rename_durably(trial, path);
}

void CertificateManager::start() {
    asio::co_spawn(home_, run(), asio::bind_cancellation_slot(cancel_->slot(), asio::detached));
}

void CertificateManager::stop() {
    // An order in progress is abandoned: its network operations and pauses end at once.
    asio::post(home_, [timer = timer_, stopped = stopped_, cancel = cancel_] {
        *stopped = true;
        timer->cancel();
        cancel->emit(asio::cancellation_type::terminal);
    });
}

asio::awaitable<Result<Issued>> CertificateManager::order() {
    try {
        auto issued = co_await client_.obtain(options_.names);
        co_return issued;
    } catch (const std::exception& e) {
        // A CA answer of unexpected shape (a JSON field of another type), or cancellation.
        co_return fail(ErrorCode::kPermanent,
                       std::string("ACME: unexpected answer or failure: ") + e.what());
    }
}

asio::awaitable<void> CertificateManager::run() {
    auto stopped = stopped_;
    auto timer = timer_;
    std::string path = certificate_path(options_.dir);
    bool install_pending = false;  // stored, but the listeners refused it: try again
    while (!*stopped) {
        std::int64_t now = unix_now();
        std::int64_t due = due_at(now);
        std::chrono::seconds wait = options_.check_interval;
        Result<void> done;
        bool acted = false;
        if (install_pending) {
            acted = true;
            done = installed_(path);
        } else if (due == 0) {
            acted = true;
            log_.info("acme_order", {{"names", join(options_.names, ",")}});
            auto issued = co_await order();
            if (*stopped) co_return;
            done = issued ? store(*issued) : Result<void>(std::unexpected(issued.error()));
            if (done) {
                install_pending = true;
                done = installed_(path);
            }
        } else {
            wait = std::min<std::chrono::seconds>(wait, std::chrono::seconds(due - now));
        }
        if (acted && done) {
            install_pending = false;
            auto s = stored();
            log_.info("acme_issued", {{"names", join(options_.names, ",")},
                                      {"path", path},
                                      {"not_after", s ? s->not_after : 0}});
        } else if (acted) {
            log_.error("acme_failed", {{"names", join(options_.names, ",")},
                                       {"error", done.error().message},
                                       {"retry_in", options_.retry_interval.count()}});
            wait = options_.retry_interval;
        }
        timer->expires_after(wait);
        co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

}  // namespace tern::acme
