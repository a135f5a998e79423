// What the mail authentication tools share about the DNS: the one `--dns IP@PORT` option, the
// resolver options it yields, and a resolver on a private event loop that runs one piece of
// lookup work to its end (the daemon's loops are not involved).
#pragma once

#include <CLI/CLI.hpp>
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <string>

#include "base/error.h"
#include "config/config.h"
#include "dns/resolver.h"

namespace tern::cli {

// Adds `--dns IP@PORT` to `command`, parsed into `dns`.
void add_dns_option(CLI::App* command, std::string& dns);

// The resolver options of `config`, with `dns` ("IP" or "IP@PORT") as the only upstream when it
// is not empty (as [dns] upstream). Fails when `dns` is neither.
Result<dns::ResolverOptions> tool_resolver_options(const config::Config& config,
                                                   const std::string& dns);

// Creates a resolver with `options`, runs `work` with it until it returns, then stops it.
// Fails only when the resolver cannot be made (a bad upstream or trust anchor).
Result<void> run_with_resolver(const dns::ResolverOptions& options,
                               std::function<boost::asio::awaitable<void>(dns::Resolver&)> work);

}  // namespace tern::cli
