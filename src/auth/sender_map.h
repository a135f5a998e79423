// SenderMap: which envelope senders an authenticated account may use on submission (RFC 6409
// section 6.1). An account owns its own address and its +tag forms; a map file grants more.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>

#include "base/error.h"

namespace tern::auth {

class SenderMap {
  public:
    // No extra grants: every account owns just its own address.
    SenderMap() = default;

    // Reads lines "sender: account, account" where sender is an address or "@domain" (every
    // address at the domain); '#' starts a comment. Errors give the file and line.
    static Result<SenderMap> load(const std::string& path);
    static Result<SenderMap> parse(std::string_view text, const std::string& name);

    // True when `account` may send as `sender` (addresses compared without case; the null
    // sender "" is never owned, so bounces cannot be forged through submission).
    // `delimiter` is the recipient delimiter ("+"): "alice+list@x" counts as "alice@x".
    bool owns(std::string_view account, std::string_view sender,
              std::string_view delimiter = "+") const;

  private:
    std::map<std::string, std::set<std::string>> grants_;  // sender or "@domain" -> accounts
};

}  // namespace tern::auth
