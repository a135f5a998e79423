// ControlServer: accept loop and request handling of the control socket, and the blocking
// client the CLI uses. Requests are limited to 64 KiB; anything malformed gets an error reply.
#include "admin/control_server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>

namespace tern::admin {
namespace asio = boost::asio;
using stream = asio::local::stream_protocol;

Result<void> ControlServer::listen(const std::string& path) {
    path_ = path;
    ::unlink(path.c_str());
    acceptor_ = std::make_unique<stream::acceptor>(queue_.home());
    boost::system::error_code ec;
    acceptor_->open(stream(), ec);
    if (!ec) acceptor_->bind(stream::endpoint(path), ec);
    if (!ec) ::chmod(path.c_str(), 0600);
    if (!ec) acceptor_->listen(64, ec);
    if (ec)
        return fail(ErrorCode::kIo,
                    "cannot listen on control socket " + path + ": " + ec.message());
    return {};
}

void ControlServer::start() {
    asio::co_spawn(queue_.home(), accept_loop(), asio::detached);
}

void ControlServer::stop() {
    asio::post(queue_.home(), [this] {
        boost::system::error_code ec;
        if (acceptor_) acceptor_->close(ec);
        ::unlink(path_.c_str());
    });
}

asio::awaitable<void> ControlServer::accept_loop() {
    while (acceptor_->is_open()) {
        auto [ec, socket] = co_await acceptor_->async_accept(asio::as_tuple(asio::use_awaitable));
        if (ec) break;
        asio::co_spawn(queue_.home(), serve(std::move(socket)), asio::detached);
    }
}

asio::awaitable<void> ControlServer::serve(stream::socket socket) {
    std::string line;
    auto [ec, n] = co_await asio::async_read_until(socket, asio::dynamic_buffer(line, 65536), '\n',
                                                   asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    nlohmann::json reply;
    auto request = nlohmann::json::parse(line.substr(0, n), nullptr, false);
    if (request.is_discarded() || !request.is_object()) {
        reply = {{"ok", false}, {"error", "malformed request"}};
    } else {
        std::string cmd = request.value("cmd", "");
        log_.info("control", {{"cmd", cmd}, {"id", request.value("id", "")}});
        if (cmd == "reload" && reload_)
            reply = reload_();
        else
            reply = co_await queue_.command(std::move(request));
    }
    std::string text = reply.dump() + "\n";
    co_await asio::async_write(socket, asio::buffer(text), asio::as_tuple(asio::use_awaitable));
}

Result<std::string> control_request(const std::string& path, const std::string& request) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path)
        return fail(ErrorCode::kInvalid, "control socket path too long: " + path);
    std::copy(path.begin(), path.end(), addr.sun_path);
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return std::unexpected(Error::from_errno(errno, "socket"));
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        return std::unexpected(
            Error::from_errno(errno, "connect to " + path + " (is tern serve running?)"));
    std::string text = request + "\n";
    for (std::size_t off = 0; off < text.size();) {
        ssize_t n = ::write(fd, text.data() + off, text.size() - off);
        if (n <= 0) return std::unexpected(Error::from_errno(errno, "write " + path));
        off += static_cast<std::size_t>(n);
    }
    std::string reply;
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0)
        reply.append(buf, static_cast<std::size_t>(n));
    if (n < 0) return std::unexpected(Error::from_errno(errno, "read " + path));
    return reply;
}

Result<nlohmann::json> control_call(const std::string& path, const nlohmann::json& request) {
    auto text = control_request(path, request.dump());
    if (!text) return std::unexpected(text.error());
    auto reply = nlohmann::json::parse(*text, nullptr, false);
    if (reply.is_discarded() || !reply.is_object())
        return fail(ErrorCode::kInvalid, "malformed reply from the daemon");
    return reply;
}

}  // namespace tern::admin
