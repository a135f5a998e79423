// parse_endpoint: host:port and [ipv6]:port to an Asio endpoint; host names are not resolved.
// Listen addresses must be literal so start-up never waits on DNS.
#include "net/endpoint.h"

#include <boost/asio/ip/v6_only.hpp>
#include <charconv>

namespace tern::net {

Result<boost::asio::ip::tcp::endpoint> parse_endpoint(const std::string& text) {
    std::string host, port;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find("]:");
        if (close == std::string::npos)
            return fail(ErrorCode::kInvalid, "bad listen address " + text);
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string::npos)
            return fail(ErrorCode::kInvalid, "bad listen address " + text);
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
    }
    if (host == "localhost") host = "127.0.0.1";
    boost::system::error_code ec;
    auto address = boost::asio::ip::make_address(host, ec);
    if (ec) return fail(ErrorCode::kInvalid, "listen address must be an IP literal: " + text);
    unsigned short p = 0;
    auto [ptr, err] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (err != std::errc() || ptr != port.data() + port.size())
        return fail(ErrorCode::kInvalid, "bad port in listen address " + text);
    return boost::asio::ip::tcp::endpoint(address, p);
}

Result<std::unique_ptr<boost::asio::ip::tcp::acceptor>> listen_on(boost::asio::io_context& loop,
                                                                  const std::string& text,
                                                                  int backlog) {
    using tcp = boost::asio::ip::tcp;
    auto endpoint = parse_endpoint(text);
    if (!endpoint) return std::unexpected(endpoint.error());
    auto acceptor = std::make_unique<tcp::acceptor>(loop);
    boost::system::error_code ec;
    acceptor->open(endpoint->protocol(), ec);
    if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec && endpoint->address().is_v6())
        acceptor->set_option(boost::asio::ip::v6_only(true), ec);
    if (!ec) acceptor->bind(*endpoint, ec);
    if (!ec) acceptor->listen(backlog, ec);
    if (ec) return fail(ErrorCode::kIo, "cannot listen on " + text + ": " + ec.message());
    return acceptor;
}

Result<std::vector<ListenAddress>> parse_listen_list(const std::vector<std::string>& texts) {
    std::vector<ListenAddress> out;
    for (const auto& text : texts) {
        auto endpoint = parse_endpoint(text);
        if (!endpoint) return std::unexpected(endpoint.error());
        for (const auto& a : out)
            if (a.endpoint == *endpoint)
                return fail(ErrorCode::kInvalid, text + " is listed twice");
        out.push_back({*endpoint, text});
    }
    return out;
}

Result<std::vector<NewListener>> bind_missing(
    boost::asio::io_context& loop, const std::vector<ListenAddress>& wanted,
    const std::function<bool(const boost::asio::ip::tcp::endpoint&)>& listening, int backlog) {
    std::vector<NewListener> out;
    for (std::size_t i = 0; i < wanted.size(); ++i) {
        if (listening(wanted[i].endpoint)) continue;
        auto acceptor = listen_on(loop, wanted[i].text, backlog);
        if (!acceptor) return std::unexpected(acceptor.error());  // `out` closes its own
        out.push_back({i, std::move(*acceptor)});
    }
    return out;
}

}  // namespace tern::net
