// `tern user ...`: adds, changes, deletes and lists the accounts of authenticated submission in
// the account database. The password comes from standard input or a prompt, never from argv.
#pragma once

#include <string>

#include "auth/account_store.h"

namespace tern::cli {

struct UserCommand {
    std::string action;    // add, passwd, del, list
    std::string address;   // NAME@DOMAIN, for add, passwd and del
    bool json = false;     // list: print JSON
    std::string database;  // the account database ([auth] database)
    auth::HashOptions hashing;
};

// Returns the process exit code: 0 on success, 1 when refused (bad address, unknown or
// existing account, unusable password), 2 when the database cannot be used.
int run_user_command(const UserCommand& command);

}  // namespace tern::cli
