// `tern mailauth spf`: the SPF result (RFC 7208) for a client IP, HELO name and sender, checked
// by the daemon's own evaluator against real DNS (or a server named with --dns), as spfquery
// does for other MTAs. Prints the result word, then the explanation and reason lines.
#pragma once

#include <CLI/CLI.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>

#include "base/error.h"
#include "config/config.h"
#include "dns/resolver.h"
#include "mailauth/spf.h"

namespace tern::cli {

// The SPF inputs of `tern mailauth spf` and `tern mailauth verify`.
struct SpfInputs {
    std::string ip;
    std::string helo;
    std::string sender;
    double timeout = 20;  // seconds the whole check may take (RFC 7208 section 4.6.4)
};

struct SpfCommand {
    SpfInputs inputs;
    std::string dns;       // --dns IP@PORT
    std::string receiver;  // this host's name, for %{r} and the fields; "" = the hostname
};

// Adds --ip, --helo, --sender and --timeout to `command`; --ip and --helo required when
// `required`.
void add_spf_options(CLI::App* command, SpfInputs& inputs, bool required);

// Adds `spf` with its options under `mailauth`; returns it.
CLI::App* add_spf_command(CLI::App& mailauth, SpfCommand& command);

// The request for `inputs` (sender "<>" or "" is the null path); fails for an IP that is none.
Result<mailauth::SpfRequest> spf_request(const SpfInputs& inputs, const std::string& receiver);

// The resolver timeout for a check of `timeout` seconds: each query gets the whole budget.
std::chrono::seconds spf_query_timeout(double timeout);

// Drives `check` against `resolver` until it is done or `timeout` seconds have passed (then
// temperror, section 4.6.4).
boost::asio::awaitable<void> run_spf_check(dns::Resolver& resolver, mailauth::SpfCheck& check,
                                           double timeout);

// Prints the outcome, or says why the arguments cannot be used. Returns 0 whatever the SPF
// result, 2 for arguments that cannot be used (a bad IP or --dns), 1 when the resolver cannot
// start.
int run_spf_command(const SpfCommand& command, const config::Config& config);

}  // namespace tern::cli
