// AcmeClient: the steps of RFC 8555 section 7 in order, as coroutines on the caller's loop.
#include "acme/acme_client.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>

#include "base/base64.h"

namespace tern::acme {
namespace asio = boost::asio;
using nlohmann::json;
using Verb = boost::beast::http::verb;

namespace {

constexpr int kNonceRetries = 5;  // badNonce answers in a row before giving up

// Retry-After in seconds (RFC 8555 7.4 recommends it while processing); 0 when absent or a date.
std::chrono::milliseconds retry_after(const http::ClientResponse& r) {
    std::string text = r.header("retry-after");
    unsigned seconds = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (ec != std::errc() || end != text.data() + text.size()) return {};
    return std::chrono::seconds(std::min(seconds, 60u));
}

}  // namespace

void ChallengeResponder::publish(std::string token, std::string key_authorization) {
    std::lock_guard lock(mutex_);
    tokens_[std::move(token)] = std::move(key_authorization);
}

void ChallengeResponder::withdraw(const std::string& token) {
    std::lock_guard lock(mutex_);
    tokens_.erase(token);
}

std::optional<std::string> ChallengeResponder::find(std::string_view token) const {
    std::lock_guard lock(mutex_);
    auto it = tokens_.find(token);
    if (it == tokens_.end()) return std::nullopt;
    return it->second;
}

std::string problem_text(const http::ClientResponse& response) {
    auto body = json::parse(response.body, nullptr, false);
    std::string text = "HTTP " + std::to_string(response.status);
    if (body.is_object()) {
        std::string type = body.value("type", "");
        std::string detail = body.value("detail", "");
        if (!type.empty()) text += " " + type;
        if (!detail.empty()) text += ": " + detail;
        for (const auto& sub : body.value("subproblems", json::array()))
            if (sub.is_object())
                text += "; " + sub.value("detail", sub.value("type", std::string()));
    }
    return text;
}

AcmeClient::AcmeClient(EcKey account_key, AcmeOptions options, ChallengeResponder& responder,
                       log::Logger& log)
    : key_(std::move(account_key)),
      options_(std::move(options)),
      responder_(responder),
      log_(log) {}

asio::awaitable<void> AcmeClient::pause(std::chrono::milliseconds duration) {
    asio::steady_timer timer(co_await asio::this_coro::executor, duration);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<Result<void>> AcmeClient::load_directory() {
    http::ClientRequest request;
    request.url = options_.directory_url;
    auto response = co_await http::fetch(std::move(request), options_.http);
    if (!response)
        co_return fail(response.error().code, "ACME directory: " + response.error().message);
    if (response->status != 200)
        co_return fail(ErrorCode::kTemporary,
                       "ACME directory " + options_.directory_url + ": " + problem_text(*response));
    auto dir = json::parse(response->body, nullptr, false);
    if (!dir.is_object() || !dir.contains("newNonce") || !dir.contains("newAccount") ||
        !dir.contains("newOrder"))
        co_return fail(ErrorCode::kPermanent,
                       "ACME directory " + options_.directory_url + " is no ACME directory");
    directory_ = std::move(dir);
    co_return Result<void>{};
}

asio::awaitable<Result<void>> AcmeClient::fresh_nonce() {
    http::ClientRequest request;
    request.method = Verb::head;
    request.url = directory_.value("newNonce", "");
    auto response = co_await http::fetch(std::move(request), options_.http);
    if (!response)
        co_return fail(response.error().code, "ACME newNonce: " + response.error().message);
    nonce_ = response->header("replay-nonce");
    if (nonce_.empty())
        co_return fail(ErrorCode::kTemporary, "ACME newNonce: no Replay-Nonce in the answer");
    co_return Result<void>{};
}

asio::awaitable<Result<http::ClientResponse>> AcmeClient::post(std::string url, std::string payload,
                                                               std::string accept) {
    for (int attempt = 0;; ++attempt) {
        if (nonce_.empty()) {
            auto got = co_await fresh_nonce();
            if (!got) co_return std::unexpected(got.error());
        }
        auto body = signed_request(key_, account_url_, nonce_, url, payload);
        if (!body) co_return std::unexpected(body.error());
        nonce_.clear();
        http::ClientRequest request;
        request.method = Verb::post;
        request.url = url;
        request.content_type = "application/jose+json";
        request.body = std::move(*body);
        if (!accept.empty()) request.headers.emplace_back("Accept", accept);
        auto response = co_await http::fetch(std::move(request), options_.http);
        if (!response) co_return std::unexpected(response.error());
        nonce_ = response->header("replay-nonce");  // every answer brings the next nonce
        if (response->status < 400) co_return response;
        auto problem = json::parse(response->body, nullptr, false);
        bool bad_nonce = problem.is_object() &&
                         problem.value("type", "") == "urn:ietf:params:acme:error:badNonce";
        // RFC 8555 6.5: a badNonce answer is retried with the nonce it carries.
        if (bad_nonce && attempt + 1 < kNonceRetries) {
            log_.info("acme_retry", {{"url", url}, {"reason", "badNonce"}});
            continue;
        }
        co_return fail(response->status >= 500 || response->status == 429 ? ErrorCode::kTemporary
                                                                          : ErrorCode::kPermanent,
                       problem_text(*response));
    }
}

asio::awaitable<Result<json>> AcmeClient::post_json(std::string url, std::string payload) {
    std::string accept;
    auto response = co_await post(url, std::move(payload), std::move(accept));
    if (!response) co_return std::unexpected(response.error());
    auto body = json::parse(response->body, nullptr, false);
    if (!body.is_object())
        co_return fail(ErrorCode::kPermanent, "the answer from " + url + " is no JSON object");
    co_return body;
}

asio::awaitable<Result<void>> AcmeClient::open_account() {
    json payload{{"termsOfServiceAgreed", true}};
    if (!options_.contact.empty()) payload["contact"] = json::array({"mailto:" + options_.contact});
    account_url_.clear();  // newAccount is signed with the key itself (jwk)
    std::string url = directory_.value("newAccount", "");
    std::string text = payload.dump();
    std::string accept;
    auto response = co_await post(url, std::move(text), std::move(accept));
    if (!response)
        co_return fail(response.error().code, "ACME account: " + response.error().message);
    account_url_ = response->header("location");
    if (account_url_.empty())
        co_return fail(ErrorCode::kPermanent, "ACME account: no Location in the answer");
    co_return Result<void>{};
}

asio::awaitable<Result<json>> AcmeClient::poll(std::string url, std::vector<std::string> waiting) {
    while (true) {
        std::string empty;
        std::string accept;
        auto response = co_await post(url, std::move(empty), std::move(accept));
        if (!response) co_return std::unexpected(response.error());
        auto body = json::parse(response->body, nullptr, false);
        if (!body.is_object())
            co_return fail(ErrorCode::kPermanent, "the answer from " + url + " is no JSON object");
        std::string status = body.value("status", "");
        if (std::find(waiting.begin(), waiting.end(), status) == waiting.end()) co_return body;
        if (std::chrono::steady_clock::now() >= deadline_)
            co_return fail(ErrorCode::kTimeout, url + " still " + status + " after " +
                                                    std::to_string(options_.order_timeout.count()) +
                                                    " s");
        auto wait = retry_after(*response);
        std::chrono::milliseconds pause_for = wait.count() > 0 ? wait : options_.poll_interval;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline_ - std::chrono::steady_clock::now());
        pause_for = std::max(std::chrono::milliseconds(0), std::min(pause_for, left));
        co_await pause(pause_for);
    }
}

asio::awaitable<Result<void>> AcmeClient::authorize(std::string url) {
    std::string empty;
    auto authz = co_await post_json(url, std::move(empty));
    if (!authz) co_return std::unexpected(authz.error());
    std::string name = (*authz)["identifier"].value("value", "");
    std::string status = authz->value("status", "");
    if (status == "valid") co_return Result<void>{};  // reused (RFC 8555 7.1.3)
    if (status != "pending")
        co_return fail(ErrorCode::kPermanent, "authorization of " + name + " is " + status);
    std::string token;
    std::string challenge_url;
    if (authz->contains("challenges") && (*authz)["challenges"].is_array())
        for (const auto& c : (*authz)["challenges"])
            if (c.is_object() && c.value("type", "") == "http-01") {
                token = c.value("token", "");
                challenge_url = c.value("url", "");
            }
    if (challenge_url.empty())
        co_return fail(ErrorCode::kPermanent, "the server offers no http-01 challenge for " + name);
    // RFC 8555 8.3: the token is base64url; anything else must not reach a file name or URL.
    if (token.empty() || token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
                                                 "vwxyz0123456789-_") != std::string::npos)
        co_return fail(ErrorCode::kPermanent, "the http-01 token for " + name + " is malformed");
    responder_.publish(token, token + "." + key_.thumbprint());
    struct Withdraw {
        ChallengeResponder& r;
        std::string token;
        ~Withdraw() { r.withdraw(token); }
    } withdraw{responder_, token};
    log_.info("acme_challenge", {{"name", name}, {"type", "http-01"}, {"token", token}});
    std::string start_payload = "{}";
    auto started = co_await post_json(challenge_url, std::move(start_payload));
    if (!started) co_return std::unexpected(started.error());
    std::vector<std::string> waiting{"pending", "processing"};
    auto done = co_await poll(url, std::move(waiting));
    if (!done) co_return std::unexpected(done.error());
    if (done->value("status", "") != "valid") {
        std::string why = done->value("status", "");
        for (const auto& c : done->value("challenges", json::array()))
            if (c.is_object() && c.contains("error") && c["error"].is_object())
                why += ": " + c["error"].value("detail", c["error"].value("type", std::string()));
        co_return fail(ErrorCode::kPermanent, "authorization of " + name + " " + why);
    }
    co_return Result<void>{};
}

asio::awaitable<Result<Issued>> AcmeClient::obtain(std::vector<std::string> names) {
    deadline_ = std::chrono::steady_clock::now() + options_.order_timeout;
    // The directory and the account are asked for anew at each order (two requests, once per
    // renewal): a CA that moved its URLs or forgot the account (accountDoesNotExist) is met
    // afresh, never with what an earlier order learnt. newAccount with a known key finds the
    // account (RFC 8555 7.3.1).
    auto loaded = co_await load_directory();
    if (!loaded) co_return std::unexpected(loaded.error());
    nonce_.clear();
    auto opened = co_await open_account();
    if (!opened) co_return std::unexpected(opened.error());
    json identifiers = json::array();
    for (const auto& n : names)
        identifiers.push_back({{"type", "dns"}, {"value", n}});
    json order_request{{"identifiers", identifiers}};
    std::string new_order = directory_.value("newOrder", "");
    std::string order_text = order_request.dump();
    std::string accept;
    auto response = co_await post(new_order, std::move(order_text), std::move(accept));
    if (!response) co_return fail(response.error().code, "ACME order: " + response.error().message);
    std::string order_url = response->header("location");
    auto order = json::parse(response->body, nullptr, false);
    if (order_url.empty() || !order.is_object())
        co_return fail(ErrorCode::kPermanent, "ACME order: malformed answer");
    for (const auto& a : order.value("authorizations", json::array())) {
        if (!a.is_string()) continue;
        std::string authorization_url = a.get<std::string>();
        auto authorized = co_await authorize(std::move(authorization_url));
        if (!authorized)
            co_return fail(authorized.error().code, "ACME " + authorized.error().message);
    }
    std::vector<std::string> pending{"pending"};
    auto ready = co_await poll(order_url, std::move(pending));
    if (!ready) co_return fail(ready.error().code, "ACME order: " + ready.error().message);
    if (ready->value("status", "") != "ready")
        co_return fail(ErrorCode::kPermanent,
                       "ACME order is " + ready->value("status", "") + ", not ready");
    auto key = EcKey::generate();
    if (!key) co_return std::unexpected(key.error());
    {
        auto csr = certificate_request(*key, names);
        if (!csr) co_return std::unexpected(csr.error());
        json finalize{{"csr", base64url_encode(*csr)}};
        std::string finalize_url = ready->value("finalize", "");
        std::string finalize_text = finalize.dump();
        auto finalized = co_await post_json(std::move(finalize_url), std::move(finalize_text));
        if (!finalized)
            co_return fail(finalized.error().code, "ACME finalize: " + finalized.error().message);
    }
    std::vector<std::string> processing{"ready", "processing"};
    auto valid = co_await poll(order_url, std::move(processing));
    if (!valid) co_return fail(valid.error().code, "ACME order: " + valid.error().message);
    if (valid->value("status", "") != "valid" || !valid->contains("certificate"))
        co_return fail(ErrorCode::kPermanent,
                       "ACME order ended " + valid->value("status", "") + " without a certificate");
    std::string certificate_url = (*valid)["certificate"].get<std::string>();
    std::string empty;
    std::string pem_chain = "application/pem-certificate-chain";
    auto chain = co_await post(std::move(certificate_url), std::move(empty), std::move(pem_chain));
    if (!chain) co_return fail(chain.error().code, "ACME certificate: " + chain.error().message);
    if (chain->body.find("-----BEGIN CERTIFICATE-----") == std::string::npos)
        co_return fail(ErrorCode::kPermanent,
                       "ACME certificate: the answer holds no PEM certificate");
    co_return Issued{chain->body, key->pem()};
}

}  // namespace tern::acme
