// LocalDirectory: which domains are local, which users have a mailbox, and where aliases
// point. Resolves a recipient at a local domain to mailboxes and remote addresses. reload()
// replaces all of it at once while the daemon runs (SIGHUP, `tern reload`).
#pragma once

#include <atomic>
#include <cstdint>
#include <expected>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace tern::delivery {

struct LocalDirectoryOptions {
    std::vector<std::string> domains;       // local domains, any case
    std::vector<std::string> users;         // mailbox names, any case
    std::string aliases_file;               // "name: target, target" per line; empty = none
    std::string recipient_delimiter = "+";  // "user+tag" delivers to "user"; empty = off
    // Extra mailbox owners (the account store of AUTH); may be empty.
    std::function<bool(std::string_view user)> account_exists;
};

struct Resolution {
    std::vector<std::string> mailboxes;  // lower-case local user names, no duplicates
    std::vector<std::string> remote;     // "local@domain" addresses outside the local domains
};

enum class ResolveError {
    kUnknownUser,  // 550 5.1.1
    kAliasLoop,    // 550 5.4.6: expansion returned to a name already being expanded
};

class LocalDirectory {
  public:
    // Reads the aliases file. A malformed line stops loading with "file:line: what is wrong".
    static Result<LocalDirectory> load(LocalDirectoryOptions options);

    // Loads `options` (the aliases file read again) and, when that succeeds, answers every
    // later question from it; a lookup under way finishes with what it began with. On an error
    // nothing changes. The account_exists function is kept from the first load.
    Result<void> reload(LocalDirectoryOptions options);

    // What the directory holds now, for logs: local domains, users, alias names.
    struct Counts {
        std::size_t domains = 0;
        std::size_t users = 0;
        std::size_t aliases = 0;
    };
    Counts counts() const;

    bool is_local_domain(std::string_view domain) const;

    // The first local domain, lower-cased (for "<postmaster>" without a domain).
    std::string default_domain() const;

    // Resolves local part `local` (unquoted) at a local domain. Case-insensitive; the recipient
    // delimiter and what follows it are dropped before lookup; "postmaster" always resolves
    // (to the alias if one exists, else to the "postmaster" mailbox). Aliases expand
    // recursively; targets may be local names, local addresses or remote addresses.
    std::expected<Resolution, ResolveError> resolve(std::string_view local) const;

  private:
    struct Tables {
        LocalDirectoryOptions options;                            // names lower-cased, sorted
        std::map<std::string, std::vector<std::string>> aliases;  // lower-case name -> targets
    };
    static Result<std::shared_ptr<const Tables>> read(LocalDirectoryOptions options);
    // The tables in use, through a per-thread copy of the pointer that is taken again only
    // after a reload: an RCPT reads one counter nobody writes, instead of contending for the
    // atomic shared_ptr's lock and reference count. The reference is good until this thread's
    // next call.
    const Tables& tables() const;

    struct Shared {
        std::uint64_t id = 0;                      // tells the per-thread copies apart
        std::atomic<std::uint64_t> generation{0};  // raised by each reload, after `current`
        std::atomic<std::shared_ptr<const Tables>> current;
    };
    std::unique_ptr<Shared> shared_ = make_shared_state();
    static std::unique_ptr<Shared> make_shared_state();
};

}  // namespace tern::delivery
