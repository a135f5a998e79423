// `tern mailauth dmarc`: the DMARC result for an Author Domain and given SPF and DKIM outcomes,
// with the DNS lookups made against the configured resolver or the server given by --dns, as an
// operator checks a domain's published policy (and as the integration tests drive the evaluator).
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "config/config.h"

namespace tern::cli {

struct DmarcCommand {
    std::string from_domain;        // the RFC5322.From domain
    std::vector<std::string> spf;   // RESULT:DOMAIN (the MAIL FROM domain)
    std::vector<std::string> dkim;  // RESULT:DOMAIN[:SELECTOR], one per signature
    std::string dns;                // IP@PORT, in place of the configured resolver
    bool use_psl = false;           // RFC 7489's public suffix list instead of the tree walk
    std::string psl_file;           // the list (implies use_psl); default Debian's
    std::string authserv_id;        // for the Authentication-Results field; default the hostname
};

// Adds `dmarc` with its options under `mailauth`; returns it.
CLI::App* add_dmarc_command(CLI::App& mailauth, DmarcCommand& command);

// Prints the result (its first line one of none, pass, fail, temperror, permerror), the details
// and the Authentication-Results field. The resolver and the default authserv-id (the hostname)
// come from `config`. Returns 0, or 2 when an option cannot be used.
int run_dmarc_command(const DmarcCommand& command, const config::Config& config);

}  // namespace tern::cli
