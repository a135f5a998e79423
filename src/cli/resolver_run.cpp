// A private io_context, the resolver on it, and the work spawned as a coroutine; the --dns
// value checked as [dns] upstream takes it.
#include "cli/resolver_run.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "cli/component_options.h"
#include "mailauth/spf_address.h"

namespace tern::cli {
namespace {

// "ip" or "ip@port".
bool valid_upstream(const std::string& text) {
    auto at = text.find('@');
    std::string ip = text.substr(0, at);
    if (!mailauth::IpAddress::parse(ip) && !mailauth::IpAddress::parse_ipv6(ip)) return false;
    if (at == std::string::npos) return true;
    std::string port = text.substr(at + 1);
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string::npos)
        return false;
    int value = std::stoi(port);
    return value > 0 && value < 65536;
}

}  // namespace

void add_dns_option(CLI::App* command, std::string& dns) {
    command
        ->add_option("--dns", dns,
                     "DNS server to ask (IP or IP@PORT), as [dns] upstream; default: the "
                     "configuration's, else the system's")
        ->type_name("IP@PORT");
}

Result<dns::ResolverOptions> tool_resolver_options(const config::Config& config,
                                                   const std::string& dns) {
    dns::ResolverOptions options = resolver_options(config);
    if (dns.empty()) return options;
    if (!valid_upstream(dns))
        return fail(ErrorCode::kInvalid, "--dns " + dns + " is not IP or IP@PORT");
    options.upstream = {dns};
    return options;
}

Result<void> run_with_resolver(const dns::ResolverOptions& options,
                               std::function<boost::asio::awaitable<void>(dns::Resolver&)> work) {
    boost::asio::io_context home;
    auto resolver = dns::Resolver::create(home, options);
    if (!resolver) return std::unexpected(resolver.error());
    dns::Resolver& r = **resolver;
    boost::asio::co_spawn(
        home,
        [&r, &work]() -> boost::asio::awaitable<void> {
            co_await work(r);
            r.stop();
        },
        boost::asio::detached);
    home.run();
    return {};
}

}  // namespace tern::cli
