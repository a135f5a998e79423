// make_daemon_tls: the certificate list in its order, and the ACME parts.
#include "cli/daemon_tls.h"

#include "base/durable_dirs.h"
#include "cli/component_options.h"
#include "tls/self_signed.h"

namespace tern::cli {
namespace asio = boost::asio;

namespace {

// The host names through the daemon's resolver, for the ACME client.
http::ResolveHost resolve_with(dns::MxResolver& mx) {
    return [&mx](std::string host) -> asio::awaitable<Result<std::vector<asio::ip::address>>> {
        auto found = co_await mx.resolve_host(host);
        if (!found) co_return fail(ErrorCode::kTemporary, found.error().text);
        std::vector<asio::ip::address> out;
        for (const auto& a : found->addresses) {
            boost::system::error_code ec;
            auto address = asio::ip::make_address(a, ec);
            if (!ec) out.push_back(address);
        }
        co_return out;
    };
}

Result<void> add_acme(const config::Config& config, asio::io_context& home, dns::MxResolver& mx,
                      log::Logger& log, DaemonTls& tls) {
    if (auto r = check_acme_options(config); !r) return r;
    std::string dir = config.data_dir + "/acme";
    if (auto made = make_durable_dirs(dir, 0700); !made) return made;
    auto account = acme::EcKey::load_or_create(dir + "/account.key");
    if (!account) return std::unexpected(account.error());
    tls::ClientOptions trust;
    trust.ca_file = config.acme_ca_file;
    auto client_tls = tls::ClientContext::create(trust);
    if (!client_tls)
        return fail(ErrorCode::kInvalid, "acme.ca_file: " + client_tls.error().message);
    tls.acme_tls = std::move(*client_tls);
    tls.challenges = std::make_unique<acme::ChallengeResponder>();
    acme::AcmeOptions options;
    options.directory_url = config.acme_directory;
    options.contact = config.acme_email;
    options.http.tls = tls.acme_tls.get();
    options.http.resolve = resolve_with(mx);
    options.http.timeout = std::chrono::seconds(30);
    options.order_timeout = config.acme_timeout;
    tls.acme_client = std::make_unique<acme::AcmeClient>(std::move(*account), std::move(options),
                                                         *tls.challenges, log);
    acme::CertificateManagerOptions manager;
    manager.names =
        config.acme_names.empty() ? std::vector<std::string>{config.hostname} : config.acme_names;
    manager.dir = dir;
    manager.renew_before = config.acme_renew_before;
    manager.check_interval = config.acme_check_interval;
    manager.retry_interval = config.acme_retry_interval;
    auto configured = server_tls_options(config).certificates;
    tls.certificates = std::make_unique<acme::CertificateManager>(
        home, *tls.acme_client, std::move(manager), log,
        // DaemonTls owns the manager, so `tls` outlives every call; tls.server exists by then.
        [&tls, configured](const std::string& path) -> Result<void> {
            std::vector<tls::CertificateFiles> list{{path, ""}};
            list.insert(list.end(), configured.begin(), configured.end());
            return tls.server->replace(std::move(list));
        });
    return {};
}

}  // namespace

Result<std::unique_ptr<DaemonTls>> make_daemon_tls(const config::Config& config,
                                                   asio::io_context& home, dns::MxResolver& mx,
                                                   log::Logger& log) {
    auto tls = std::make_unique<DaemonTls>();
    if (config.acme)
        if (auto r = add_acme(config, home, mx, log, *tls); !r) return std::unexpected(r.error());
    tls::ServerOptions options = server_tls_options(config);
    // The ACME certificate goes first (the default without SNI) once there is one; before, the
    // configured ones or the self-signed default serve until the first order succeeds.
    if (tls->certificates)
        if (auto stored = tls->certificates->stored())
            options.certificates.insert(options.certificates.begin(), {stored->path, ""});
    if (options.certificates.empty()) {
        auto self_signed = tls::ensure_self_signed(config.data_dir + "/tls", config.hostname);
        if (!self_signed) return std::unexpected(self_signed.error());
        if (self_signed->action != tls::SelfSignedAction::kKept)
            log.info("tls_self_signed",
                     {{"action",
                       self_signed->action == tls::SelfSignedAction::kMade ? "made" : "renewed"},
                      {"path", self_signed->files.cert}});
        options.certificates.push_back(self_signed->files);
    }
    auto server = tls::ServerContext::create(options);
    if (!server) return std::unexpected(server.error());
    tls->server = std::move(*server);
    return tls;
}

}  // namespace tern::cli
