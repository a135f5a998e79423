// UnsubscribeToken: the signed part of a one-click unsubscribe URL (RFC 8058, docs/feedback.md):
// BASE/unsubscribe/PAYLOAD.TAG, where PAYLOAD is base64url of the API key's name and the
// recipient, and TAG base64url of 128 bits of HMAC-SHA256 over them under the [feedback]
// secrets. Only Tern can make a URL that unsubscribes an address; every secret verifies, the
// first signs.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tern::feedback {

struct Unsubscriber {
    std::string key;      // the API key that sent the message ("" when none)
    std::string address;  // the recipient, as it was sent to
};

class UnsubscribeTokens {
  public:
    explicit UnsubscribeTokens(std::vector<std::string> secrets) : secrets_(std::move(secrets)) {}

    bool enabled() const { return !secrets_.empty(); }
    std::string make(const Unsubscriber& u) const;  // requires enabled()
    // The key and address of a token whose tag holds; nullopt otherwise.
    std::optional<Unsubscriber> read(std::string_view token) const;

  private:
    std::vector<std::string> secrets_;
};

}  // namespace tern::feedback
