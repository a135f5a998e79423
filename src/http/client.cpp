// fetch(): URL parsing, connecting address by address, and one request/response with Beast.
#include "http/client.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <memory>
#include <type_traits>

#include "base/text.h"
#include "tls/client_context.h"

namespace tern::http {
namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

bool host_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

// Writes `request` on `stream` and reads the response into `out`.
template <class Stream>
asio::awaitable<Result<void>> exchange(Stream& stream,
                                       const bhttp::request<bhttp::string_body>& req,
                                       std::size_t max_body, const std::string& host,
                                       ClientResponse& out) {
    auto [wec, wn] = co_await bhttp::async_write(stream, req, kTuple);
    if (wec)
        co_return fail(ErrorCode::kIo, "sending the request to " + host + ": " + wec.message());
    boost::beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    // A reply to HEAD has no body, whatever its Content-Length says (RFC 9110 9.3.2).
    parser.skip(req.method() == bhttp::verb::head);
    parser.body_limit(max_body);
    parser.header_limit(64 * 1024);
    auto [rec, rn] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
    if (rec)
        co_return fail(ErrorCode::kIo, "reading the response of " + host + ": " + rec.message());
    auto& res = parser.get();
    out.status = res.result_int();
    for (const auto& field : res)
        out.headers.emplace_back(ascii_lower(std::string(field.name_string())),
                                 std::string(field.value()));
    out.body = std::move(res.body());
    co_return Result<void>{};
}

// One address: connect, the TLS handshake and certificate check (https), the exchange; all
// before `deadline`, when a watchdog closes the socket and every operation fails.
struct Attempt {
    std::string where;  // "host[address]:port" for errors
    tcp::endpoint endpoint;
    std::chrono::steady_clock::time_point deadline;
    bool may_try_next = true;  // false once a server answered (or proved not to be the host)

    template <class Stream>
    asio::awaitable<Result<ClientResponse>> run(std::shared_ptr<Stream> stream, tcp::socket& socket,
                                                const bhttp::request<bhttp::string_body>& req,
                                                const ClientOptions& options,
                                                const tls::PeerRequirement* need) {
        auto watchdog = std::make_shared<asio::steady_timer>(socket.get_executor(), deadline);
        auto timed_out = std::make_shared<bool>(false);
        watchdog->async_wait([stream, &socket, timed_out](boost::system::error_code e) {
            if (e) return;
            *timed_out = true;
            boost::system::error_code ignored;
            socket.close(ignored);
        });
        struct Cancel {
            std::shared_ptr<asio::steady_timer> t;
            ~Cancel() { t->cancel(); }
        } cancel{watchdog};
        auto why = [&](const boost::system::error_code& ec) {
            return *timed_out ? std::string("timed out") : ec.message();
        };
        auto [cec] = co_await socket.async_connect(endpoint, kTuple);
        if (cec) co_return fail(ErrorCode::kIo, "connect to " + where + ": " + why(cec));
        ClientResponse response;
        Result<void> done;
        if constexpr (std::is_same_v<Stream, asio::ssl::stream<tcp::socket>>) {
            auto [hec] = co_await stream->async_handshake(asio::ssl::stream_base::client, kTuple);
            if (hec) co_return fail(ErrorCode::kIo, "TLS with " + where + ": " + why(hec));
            auto session = options.tls->inspect(stream->native_handle(), *need);
            may_try_next = false;
            if (!session.verified)
                co_return fail(ErrorCode::kInvalid, "the certificate of " + where +
                                                        " is not valid: " + session.verify_error);
            done = co_await exchange(*stream, req, options.max_body, where, response);
        } else {
            may_try_next = false;
            done = co_await exchange(*stream, req, options.max_body, where, response);
        }
        if (!done) {
            if (*timed_out) co_return fail(ErrorCode::kIo, where + ": timed out");
            co_return std::unexpected(done.error());
        }
        co_return response;
    }
};

}  // namespace

std::optional<Url> Url::parse(std::string_view text) {
    Url url;
    std::size_t scheme_end = text.find("://");
    if (scheme_end == std::string_view::npos) return std::nullopt;
    std::string scheme = ascii_lower(std::string(text.substr(0, scheme_end)));
    if (scheme == "https") {
        url.https = true;
        url.port = 443;
    } else if (scheme == "http") {
        url.https = false;
        url.port = 80;
    } else {
        return std::nullopt;
    }
    std::string_view rest = text.substr(scheme_end + 3);
    rest = rest.substr(0, rest.find('#'));
    std::size_t path_start = rest.find_first_of("/?");
    std::string_view authority = rest.substr(0, path_start);
    std::string_view target =
        path_start == std::string_view::npos ? std::string_view() : rest.substr(path_start);
    if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
    std::string_view port_text;
    if (authority.front() == '[') {
        std::size_t close = authority.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        boost::system::error_code ec;
        auto address = asio::ip::make_address_v6(std::string(authority.substr(1, close - 1)), ec);
        if (ec) return std::nullopt;
        url.host = address.to_string();
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return std::nullopt;
            port_text = after.substr(1);
            if (port_text.empty()) return std::nullopt;
        }
    } else {
        std::size_t colon = authority.rfind(':');
        std::string_view host = authority.substr(0, colon);
        if (colon != std::string_view::npos) {
            port_text = authority.substr(colon + 1);
            if (port_text.empty()) return std::nullopt;
        }
        url.host = ascii_lower(std::string(host));
        if (url.host.empty() || url.host.size() > 253) return std::nullopt;
        for (char c : url.host)
            if (!host_char(c)) return std::nullopt;
    }
    if (!port_text.empty()) {
        unsigned port = 0;
        auto [end, ec] =
            std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
        if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
            port > 65535)
            return std::nullopt;
        url.port = static_cast<std::uint16_t>(port);
    }
    if (target.empty()) target = "/";
    if (target.front() == '?')
        url.target = "/" + std::string(target);
    else
        url.target = std::string(target);
    for (char c : url.target)
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return std::nullopt;
    return url;
}

std::string Url::authority() const {
    std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    if (port != (https ? 443 : 80)) h += ":" + std::to_string(port);
    return h;
}

std::string Url::str() const {
    return std::string(https ? "https://" : "http://") + authority() + target;
}

std::string ClientResponse::header(std::string_view name) const {
    for (const auto& [n, v] : headers)
        if (ascii_iequals(n, name)) return v;
    return {};
}

asio::awaitable<Result<ClientResponse>> fetch(ClientRequest request, const ClientOptions& options) {
    auto url = Url::parse(request.url);
    if (!url) co_return fail(ErrorCode::kInvalid, "not an http or https URL: " + request.url);
    if (url->https && !options.tls)
        co_return fail(ErrorCode::kInvalid, "no TLS context for " + request.url);
    std::vector<asio::ip::address> addresses;
    boost::system::error_code literal_ec;
    auto literal = asio::ip::make_address(url->host, literal_ec);
    if (!literal_ec) {
        addresses.push_back(literal);
    } else {
        if (!options.resolve) co_return fail(ErrorCode::kInvalid, "no resolver for " + url->host);
        auto resolved = co_await options.resolve(url->host);
        if (!resolved) co_return std::unexpected(resolved.error());
        addresses = std::move(*resolved);
        if (addresses.empty()) co_return fail(ErrorCode::kNotFound, url->host + " has no address");
    }

    bhttp::request<bhttp::string_body> req{request.method, url->target, 11};
    req.set(bhttp::field::host, url->authority());
    req.set(bhttp::field::user_agent, options.user_agent);
    req.set(bhttp::field::connection, "close");
    for (const auto& [name, value] : request.headers)
        req.set(name, value);
    if (!request.content_type.empty()) req.set(bhttp::field::content_type, request.content_type);
    if (!request.body.empty() || request.method == bhttp::verb::post) {
        req.body() = std::move(request.body);
        req.prepare_payload();
    }

    auto ex = co_await asio::this_coro::executor;
    auto deadline = std::chrono::steady_clock::now() + options.timeout;
    std::string last = "no address";
    for (const auto& address : addresses) {
        if (std::chrono::steady_clock::now() >= deadline) break;
        Attempt attempt{url->host + "[" + address.to_string() + "]:" + std::to_string(url->port),
                        tcp::endpoint(address, url->port), deadline};
        Result<ClientResponse> r;
        if (url->https) {
            auto stream =
                std::make_shared<asio::ssl::stream<tcp::socket>>(ex, options.tls->context());
            tls::PeerRequirement need;
            need.level = tls::Level::kVerify;
            need.sni = literal_ec ? url->host : std::string();
            need.names = {url->host};
            need.source = "https";
            if (auto p = options.tls->prepare(stream->native_handle(), need); !p)
                co_return std::unexpected(p.error());
            r = co_await attempt.run(stream, stream->next_layer(), req, options, &need);
        } else {
            auto socket = std::make_shared<tcp::socket>(ex);
            r = co_await attempt.run(socket, *socket, req, options, nullptr);
        }
        if (r || !attempt.may_try_next) co_return r;
        last = r.error().message;
    }
    co_return fail(ErrorCode::kIo, last);
}

}  // namespace tern::http
