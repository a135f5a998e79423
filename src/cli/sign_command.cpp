// Signing with the daemon's signer (mailauth/dkim_signer): the header fields and the body are
// fed as the pipeline feeds them, and the fields it makes are written before the input as read.
#include "cli/sign_command.h"

#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "base/text.h"
#include "cli/tool_files.h"
#include "mailauth/dkim_signature.h"
#include "mailauth/dkim_signer.h"

namespace tern::cli {
namespace {

constexpr int kRefused = 1;
constexpr int kUsageError = 2;

int refuse(std::string_view why, int status = kRefused) {
    std::cerr << "tern mailauth sign: " << why << "\n";
    return status;
}

// The selector of a key file named as `tern dkim keygen` names it: DOMAIN.SELECTOR.key.
std::optional<std::string> selector_from_file(const std::string& path, const std::string& domain) {
    std::string name = std::filesystem::path(path).filename().string();
    std::string prefix = domain + ".";
    if (!name.starts_with(prefix) || !name.ends_with(".key")) return std::nullopt;
    std::string selector = name.substr(prefix.size(), name.size() - prefix.size() - 4);
    if (!is_dns_name(selector)) return std::nullopt;
    return selector;
}

}  // namespace

CLI::App* add_sign_command(CLI::App& mailauth, SignCommand& command) {
    auto* sign = mailauth.add_subcommand(
        "sign", "Print the message on standard input with DKIM signatures prepended");
    sign->fallthrough();
    sign->add_option("--domain", command.domain, "Signing domain (d=)")->required();
    sign->add_option("--selector", command.selectors,
                     "Selector (s=), once per --key (default: from the file name "
                     "DOMAIN.SELECTOR.key that tern dkim keygen writes)");
    sign->add_option("--key", command.key_files, "Private key file (PEM); repeat to dual-sign")
        ->required();
    sign->add_option("--algorithm", command.algorithm, "Require keys of this type")
        ->check(CLI::IsMember({"rsa", "ed25519"}));
    sign->add_option("--canonicalization", command.canonicalization,
                     "HEADER/BODY, each simple or relaxed (default relaxed/relaxed)");
    sign->add_option("--expire-after", command.expire_after, "Seconds until x= (default: no x=)")
        ->check(CLI::PositiveNumber);
    sign->add_option("--identity", command.identity, "Agent or user identifier (i=)");
    sign->add_flag("--body-length", command.body_length, "Write l= (the body length)");
    return sign;
}

int run_sign_command(const SignCommand& command, const config::Config&) {
    if (!command.selectors.empty() && command.selectors.size() != command.key_files.size())
        return refuse("give --selector once for each --key, or not at all", kUsageError);
    mailauth::DkimSignOptions options;
    auto slash = command.canonicalization.find('/');
    auto header = mailauth::parse_canon(command.canonicalization.substr(0, slash));
    auto body = slash == std::string::npos
                    ? std::optional(mailauth::Canon::kSimple)
                    : mailauth::parse_canon(command.canonicalization.substr(slash + 1));
    if (!header || !body)
        return refuse("--canonicalization is HEADER/BODY, each simple or relaxed", kUsageError);
    options.header_canon = *header;
    options.body_canon = *body;
    if (command.expire_after > 0) options.expire_after = command.expire_after;
    options.body_length = command.body_length;
    if (!is_dns_name(command.domain))
        return refuse("'" + command.domain + "' is not a domain name");

    std::vector<mailauth::SigningKey> keys;
    for (std::size_t i = 0; i < command.key_files.size(); ++i) {
        const std::string& file = command.key_files[i];
        std::optional<std::string> selector = command.selectors.empty()
                                                  ? selector_from_file(file, command.domain)
                                                  : command.selectors[i];
        if (!selector)
            return refuse(
                "no --selector, and " + file + " is not named " + command.domain + ".SELECTOR.key",
                kUsageError);
        auto key = load_private_key(file);
        if (!key) return refuse(key.error().message);
        if (!command.algorithm.empty() && mailauth::key_type_name(key->type()) != command.algorithm)
            return refuse(file + " is not an " + command.algorithm + " key");
        keys.push_back(mailauth::SigningKey{
            command.domain, *selector,
            std::make_shared<const mailauth::PrivateKey>(std::move(*key)), command.identity});
    }

    InputMessage message;
    read_message(message);
    mailauth::DkimSigner signer(options, std::move(keys), unix_now());
    for (const std::string& field : message.split.fields)
        signer.header(field);
    signer.end_headers();
    signer.body(message.split.body);
    signer.end_body();
    auto fields = signer.signatures();
    if (!fields) return refuse(fields.error().message);
    for (const std::string& field : *fields)
        std::cout << (message.unix_lines ? with_lf(field) : field);
    std::cout << message.input << std::flush;
    return 0;
}

}  // namespace tern::cli
