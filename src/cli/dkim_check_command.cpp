// The record is fetched and judged by the verifier's own code (mailauth/key_lookup), so what
// this tool accepts is what a verifying Tern accepts; the key comparison is of public keys.
#include "cli/dkim_check_command.h"

#include <iostream>
#include <optional>

#include "cli/resolver_run.h"
#include "cli/tool_files.h"
#include "mailauth/key_lookup.h"
#include "mailauth/key_record.h"

namespace tern::cli {
namespace {

constexpr int kMismatch = 1;
constexpr int kUsageError = 2;

int refuse(std::string_view why, int status = kMismatch) {
    std::cerr << "tern dkim check: " << why << "\n";
    return status;
}

// What a verifier would refuse in the record, one line each; 0 or kMismatch.
int record_problems(const mailauth::KeyRecord& record, const mailauth::PublicKey& key) {
    int status = 0;
    if (record.testing) std::cout << "note: t=y: receivers treat the domain as testing DKIM\n";
    if (!record.allows_sha256()) {
        std::cout << "error: h= does not allow sha256; no signature can verify\n";
        status = kMismatch;
    }
    if (!record.allows_email()) {
        std::cout << "error: s= is not for email; no signature can verify\n";
        status = kMismatch;
    }
    if (record.type == mailauth::KeyType::kRsa && key.bits() < 1024) {
        std::cout << "error: RSA keys under 1024 bits are refused by verifiers (RFC 8301)\n";
        status = kMismatch;
    }
    return status;
}

}  // namespace

CLI::App* add_dkim_check_command(CLI::App& dkim, DkimCheckCommand& command) {
    auto* check = dkim.add_subcommand(
        "check", "Look up a published key record and compare it with a private key");
    check->fallthrough();
    check->add_option("domain", command.domain, "Signing domain")->required();
    check->add_option("--selector", command.selector, "Selector")->required();
    check->add_option("--key", command.key_file, "Private key file (PEM) to compare with")
        ->required();
    add_dns_option(check, command.dns);
    check->footer("Exit status 0 when the record is usable and matches the key, 1 otherwise.");
    return check;
}

int run_dkim_check_command(const DkimCheckCommand& command, const config::Config& config) {
    auto resolver = tool_resolver_options(config, command.dns);
    if (!resolver) return refuse(resolver.error().message, kUsageError);
    auto key = load_private_key(command.key_file);
    if (!key) return refuse(key.error().message);
    std::string name = command.selector + "._domainkey." + command.domain;
    dns::Answer answer;
    auto ran = run_with_resolver(*resolver, [&](dns::Resolver& r) -> boost::asio::awaitable<void> {
        answer = co_await r.query(name, dns::RecordType::kTxt);
    });
    if (!ran) return refuse(ran.error().message);
    auto fetched = mailauth::key_from_answer(answer, name);
    if (fetched.problem) {
        std::cout << name << ": " << fetched.problem->reason << "\n";
        return kMismatch;
    }
    const mailauth::KeyRecord& record = *fetched.record;
    if (record.revoked()) {
        std::cout << name << ": key revoked (empty p=)\n";
        return kMismatch;
    }
    std::cout << name << ": " << (record.type == mailauth::KeyType::kRsa ? "RSA " : "Ed25519 ")
              << fetched.key->bits() << "-bit key published"
              << (answer.secure ? " (DNSSEC-validated)" : "") << "\n";
    if (answer.rdata.size() > 1)
        std::cout << "warning: " << answer.rdata.size()
                  << " TXT records at this name; verifiers may use any of them\n";
    int status = record_problems(record, *fetched.key);
    if (key->public_key() == *fetched.key) {
        std::cout << "matches the private key " << command.key_file << "\n";
    } else {
        std::cout << "does NOT match the private key " << command.key_file << "\n";
        status = kMismatch;
    }
    return status;
}

}  // namespace tern::cli
