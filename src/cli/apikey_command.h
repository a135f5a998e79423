// `tern apikey ...`: adds, deletes and lists the keys of the HTTP sending API (docs/api.md). A
// new key is printed once, on standard output; the file keeps only its SHA-256 digest.
#pragma once

#include <string>
#include <vector>

namespace tern::cli {

struct ApiKeyCommand {
    std::string action;                // add, del, list
    std::string name;                  // add, del
    std::vector<std::string> domains;  // add: sender domains ("*.example.org", or "*" for any)
    bool json = false;                 // list: print JSON
    std::string file;                  // [api] keys_file
    std::string user;                  // [server] user: the daemon's user, who must read the file
};

// The process exit code: 0 done, 1 refused (bad name or domain, a name in use or unknown),
// 2 when the file cannot be read or written.
int run_apikey_command(const ApiKeyCommand& command);

}  // namespace tern::cli
