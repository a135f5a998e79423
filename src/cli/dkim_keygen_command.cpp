// Key generation with the library code the signer uses (mailauth/dkim_keys), the file written
// with O_EXCL, and the record printed as a name/value pair and as a zone file line.
#include "cli/dkim_keygen_command.h"

#include <chrono>
#include <cstdio>
#include <iostream>

#include "base/text.h"
#include "cli/tool_files.h"
#include "mailauth/dkim_signature.h"
#include "mailauth/key_record.h"

namespace tern::cli {
namespace {

int refuse(std::string_view why) {
    std::cerr << "tern dkim keygen: " << why << "\n";
    return 1;
}

std::string default_selector(std::string_view algorithm) {
    using namespace std::chrono;
    year_month_day today{floor<days>(system_clock::now())};
    char month[8];
    std::snprintf(month, sizeof month, "%04d%02u", static_cast<int>(today.year()),
                  static_cast<unsigned>(today.month()));
    return std::string(algorithm) + "-" + month;
}

}  // namespace

CLI::App* add_dkim_keygen_command(CLI::App& dkim, DkimKeygenCommand& command) {
    auto* keygen = dkim.add_subcommand(
        "keygen", "Write a new private key and print the TXT record that publishes it");
    keygen->fallthrough();
    keygen->add_option("domain", command.domain, "Signing domain")->required();
    keygen->add_option("--selector", command.selector, "Selector (default: ALGORITHM-YYYYMM)");
    keygen->add_option("--algorithm", command.algorithm, "rsa (default) or ed25519")
        ->check(CLI::IsMember({"rsa", "ed25519"}));
    keygen->add_option("--bits", command.bits, "RSA key size (default 2048)");
    keygen->add_option("--dir", command.dir,
                       "Directory for DOMAIN.SELECTOR.key (default: the current one)");
    return keygen;
}

int run_dkim_keygen_command(const DkimKeygenCommand& command, const config::Config&) {
    using mailauth::KeyType;
    auto type = mailauth::parse_key_type(command.algorithm);
    if (!type) return refuse("--algorithm must be rsa or ed25519");
    if (*type == KeyType::kRsa && (command.bits < 1024 || command.bits > 4096))
        return refuse("--bits must be from 1024 to 4096 (RFC 8301; 2048 is the usual size)");
    std::string selector =
        command.selector.empty() ? default_selector(command.algorithm) : command.selector;
    if (!is_dns_name(command.domain))
        return refuse("'" + command.domain + "' is not a domain name");
    if (!is_dns_name(selector)) return refuse("'" + selector + "' is not a selector (DNS labels)");
    auto key = mailauth::PrivateKey::generate(*type, command.bits);
    if (!key) return refuse(key.error().message);
    std::string path = command.dir + "/" + command.domain + "." + selector + ".key";
    if (auto w = write_new_file(path, key->to_pem()); !w)
        return refuse(w.error().message + (w.error().code == ErrorCode::kExists
                                               ? " (an existing key is never overwritten)"
                                               : ""));
    std::string name = selector + "._domainkey." + command.domain;
    std::string value = mailauth::key_record_text(key->public_key());
    std::cout << "private key: " << path << " (" << (*type == KeyType::kRsa ? "RSA " : "Ed25519 ")
              << key->bits() << " bits, mode 0600)\n"
              << "Publish this TXT record in the DNS, then run: tern dkim check " << command.domain
              << " --selector " << selector << " --key " << path << "\n"
              << "name: " << name << "\n"
              << "value: " << value << "\n"
              << "zone: " << name << ". IN TXT";
    for (const std::string& s : mailauth::txt_strings(value))
        std::cout << " \"" << s << "\"";
    std::cout << "\n";
    return 0;
}

}  // namespace tern::cli
