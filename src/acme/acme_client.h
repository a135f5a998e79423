// AcmeClient: obtains a certificate from an ACME server (RFC 8555): the directory, a fresh
// nonce for every request, the account (made or found by its key), an order for the host names,
// an http-01 challenge per authorization (the key authorization published for the server's
// fetch of /.well-known/acme-challenge/TOKEN, RFC 8555 8.3), the CSR, and the chain. Every
// request is a JWS signed with the account key; a badNonce error is retried with the nonce it
// brought.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "acme/keys.h"
#include "base/error.h"
#include "http/client.h"
#include "log/logger.h"

namespace tern::acme {

// The key authorizations of pending http-01 challenges, by token; the HTTP listener answers
// GET /.well-known/acme-challenge/TOKEN from it. Thread-safe.
class ChallengeResponder {
  public:
    void publish(std::string token, std::string key_authorization);
    void withdraw(const std::string& token);
    std::optional<std::string> find(std::string_view token) const;

  private:
    mutable std::mutex mutex_;
    std::map<std::string, std::string, std::less<>> tokens_;
};

struct AcmeOptions {
    std::string directory_url;  // "https://acme-v02.api.letsencrypt.org/directory"
    std::string contact;        // e-mail address for the account; "" for none
    http::ClientOptions http;   // the CAs trusted for the server, the resolver, time-outs
    std::chrono::milliseconds poll_interval{1000};  // between status polls without Retry-After
    std::chrono::seconds order_timeout{300};        // an order not valid by then has failed
};

struct Issued {
    std::string chain_pem;  // the certificate, then its intermediates
    std::string key_pem;    // the certificate's new private key
};

class AcmeClient {
  public:
    AcmeClient(EcKey account_key, AcmeOptions options, ChallengeResponder& responder,
               log::Logger& log);

    // A new certificate for `names` (DNS names; the first is its CN). The error says at which
    // step and what the server said (its problem document's type and detail).
    boost::asio::awaitable<Result<Issued>> obtain(std::vector<std::string> names);

  private:
    boost::asio::awaitable<Result<void>> load_directory();
    boost::asio::awaitable<Result<void>> fresh_nonce();
    boost::asio::awaitable<Result<void>> open_account();
    // A signed POST (payload "" is a POST-as-GET); a 4xx/5xx answer is an error made of the
    // problem document.
    boost::asio::awaitable<Result<http::ClientResponse>> post(std::string url, std::string payload,
                                                              std::string accept);
    boost::asio::awaitable<Result<nlohmann::json>> post_json(std::string url, std::string payload);
    boost::asio::awaitable<Result<void>> authorize(std::string url);
    // Polls `url` (POST-as-GET) until its "status" is not one of `waiting`; returns the object.
    boost::asio::awaitable<Result<nlohmann::json>> poll(std::string url,
                                                        std::vector<std::string> waiting);
    boost::asio::awaitable<void> pause(std::chrono::milliseconds duration);

    EcKey key_;
    AcmeOptions options_;
    ChallengeResponder& responder_;
    log::Logger& log_;
    nlohmann::json directory_;
    std::string nonce_;
    std::string account_url_;  // the kid of every request after newAccount
    std::chrono::steady_clock::time_point deadline_;
};

// A problem document (RFC 7807) as one line: "urn:...:badNonce: JWS has an invalid anti-replay
// nonce" (or the HTTP status when the body is none).
std::string problem_text(const http::ClientResponse& response);

}  // namespace tern::acme
