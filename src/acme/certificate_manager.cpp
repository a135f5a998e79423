// CertificateManager: the renewal timer, and the stored file (read with OpenSSL, written with a
// temporary file, fsync, rename and a directory sync, so that a crash leaves the old or the new
// certificate, never half of one or a key without its certificate).
#include "acme/certificate_manager.h"

#include <fcntl.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
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

Result<void> write_durably(const std::string& path, std::string_view data) {
    std::string tmp = path + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return std::unexpected(Error::from_errno(errno, "create " + tmp));
    bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()) &&
              ::fsync(fd) == 0;
    int err = errno;
    ::close(fd);
    if (!ok) {
        ::unlink(tmp.c_str());
        return std::unexpected(Error::from_errno(err, "write " + tmp));
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0)
        return std::unexpected(Error::from_errno(errno, "rename " + tmp));
    std::string dir = path.substr(0, path.rfind('/'));
    int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
    return {};
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
    std::int64_t due = s->not_after - options_.renew_before.count();
    return due <= now ? 0 : due;
}

Result<void> CertificateManager::store(const Issued& issued) {
    std::string pem = issued.key_pem;
    if (!pem.empty() && pem.back() != '\n') pem += '\n';
    pem += issued.chain_pem;
    return write_durably(certificate_path(options_.dir), pem);
}

void CertificateManager::start() {
    asio::co_spawn(home_, run(), asio::detached);
}

void CertificateManager::stop() {
    asio::post(home_, [timer = timer_, stopped = stopped_] {
        *stopped = true;
        timer->cancel();
    });
}

asio::awaitable<void> CertificateManager::run() {
    auto stopped = stopped_;
    auto timer = timer_;
    while (!*stopped) {
        std::int64_t now = unix_now();
        std::int64_t due = due_at(now);
        std::chrono::seconds wait = options_.check_interval;
        if (due == 0) {
            log_.info("acme_order", {{"names", join(options_.names, ",")}});
            auto issued = co_await client_.obtain(options_.names);
            if (*stopped) co_return;
            Result<void> done = issued ? store(*issued) : std::unexpected(issued.error());
            if (done) done = installed_(certificate_path(options_.dir));
            if (done) {
                auto s = stored();
                log_.info("acme_issued", {{"names", join(options_.names, ",")},
                                          {"path", certificate_path(options_.dir)},
                                          {"not_after", s ? s->not_after : 0}});
            } else {
                log_.error("acme_failed", {{"names", join(options_.names, ",")},
                                           {"error", done.error().message},
                                           {"retry_in", options_.retry_interval.count()}});
                wait = options_.retry_interval;
            }
        } else {
            wait = std::min<std::chrono::seconds>(wait, std::chrono::seconds(due - now));
        }
        timer->expires_after(wait);
        co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

}  // namespace tern::acme
