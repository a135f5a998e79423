// `tern srs`: forward and reverse one address with the configured [srs] secrets and settings,
// whether or not [srs] enabled is set (so an operator can try them before turning SRS on).
#include "cli/srs_command.h"

#include <iostream>

#include "base/unix_time.h"
#include "cli/component_options.h"
#include "delivery/srs.h"

namespace tern::cli {

void add_srs_command(CLI::App& app, SrsCommand& command) {
    auto* srs = app.add_subcommand("srs", "Make or check SRS addresses with the [srs] secrets");
    srs->require_subcommand(1);
    srs->fallthrough();
    auto* forward = srs->add_subcommand("forward", "Print the SRS address for a sender");
    forward->add_option("address", command.address, "LOCAL@DOMAIN")->required();
    forward->add_option(
        "--domain", command.domain,
        "The forwarder's domain (default: srs.domain, else the first local domain)");
    forward->callback([&command] { command.action = "forward"; });
    auto* reverse =
        srs->add_subcommand("reverse", "Print the address an SRS address stands for, if valid");
    reverse->add_option("address", command.address, "SRS0=...@DOMAIN or SRS1=...@DOMAIN")
        ->required();
    reverse->callback([&command] { command.action = "reverse"; });
    for (auto* sub : {forward, reverse}) {
        sub->fallthrough();
        sub->add_option("--time", command.time, "Unix seconds to use instead of now (for tests)");
    }
}

int run_srs_command(const SrsCommand& command, const config::Config& config) {
    auto options = srs_rewriter_options(config);
    if (options.codec.secrets.empty()) {
        std::cerr << "tern srs: srs.secrets is empty: configure at least one secret\n";
        return 1;
    }
    delivery::SrsCodec codec(options.codec);
    std::int64_t now = command.time.value_or(unix_now());
    if (command.action == "forward") {
        std::string domain = command.domain;
        if (domain.empty()) domain = config.srs_domain;
        if (domain.empty() && !config.local_domains.empty()) domain = config.local_domains.front();
        auto made = codec.forward(command.address, domain, now);
        if (!made) {
            std::cerr << "tern srs forward: " << delivery::srs_error_text(made.error()) << "\n";
            return 1;
        }
        std::cout << *made << "\n";
        return 0;
    }
    auto original = codec.reverse(command.address, now);
    if (!original) {
        std::cerr << "tern srs reverse: " << delivery::srs_error_text(original.error()) << "\n";
        return 1;
    }
    std::cout << *original << "\n";
    return 0;
}

}  // namespace tern::cli
