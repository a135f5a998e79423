// parse_listen_list and bind_missing: what a reload binds before any old listener closes.
#include "net/endpoint.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

namespace tern::net {
namespace {

using tcp = boost::asio::ip::tcp;

TEST(ListenList, ParsesAndRefusesAnAddressListedTwice) {
    auto list = parse_listen_list({"127.0.0.1:2525", "[::1]:2525", "localhost:2526"});
    ASSERT_TRUE(list) << list.error().message;
    ASSERT_EQ(list->size(), 3u);
    EXPECT_EQ((*list)[2].endpoint, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 2526));
    EXPECT_EQ((*list)[2].text, "localhost:2526");

    auto twice = parse_listen_list({"127.0.0.1:2525", "localhost:2525"});
    ASSERT_FALSE(twice);
    EXPECT_EQ(twice.error().message, "localhost:2525 is listed twice");
    EXPECT_FALSE(parse_listen_list({"mail.example:25"}));
}

TEST(ListenList, BindsOnlyWhatIsMissingAndAllOrNothing) {
    boost::asio::io_context loop;
    // A port in use by someone else.
    tcp::acceptor taken(loop, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    auto busy = taken.local_endpoint().port();
    tcp::acceptor kept(loop, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    auto kept_port = kept.local_endpoint().port();

    auto free_port = [&loop] {
        tcp::acceptor probe(loop, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
        return probe.local_endpoint().port();
    };
    auto fresh_port = free_port();
    auto wanted = parse_listen_list(
        {"127.0.0.1:" + std::to_string(kept_port), "127.0.0.1:" + std::to_string(fresh_port)});
    ASSERT_TRUE(wanted);
    auto is_kept = [&](const tcp::endpoint& e) { return e.port() == kept_port; };
    auto bound = bind_missing(loop, *wanted, is_kept, 16);
    ASSERT_TRUE(bound) << bound.error().message;
    ASSERT_EQ(bound->size(), 1u);
    EXPECT_EQ((*bound)[0].index, 1u);
    EXPECT_EQ((*bound)[0].acceptor->local_endpoint().port(), fresh_port);
    bound->clear();  // closes it

    // One address that cannot be bound: an error naming it, and the other one closed again.
    auto another = free_port();
    auto with_busy = parse_listen_list(
        {"127.0.0.1:" + std::to_string(another), "127.0.0.1:" + std::to_string(busy)});
    ASSERT_TRUE(with_busy);
    auto none = bind_missing(loop, *with_busy, is_kept, 16);
    ASSERT_FALSE(none);
    EXPECT_NE(none.error().message.find("cannot listen on 127.0.0.1:" + std::to_string(busy)),
              std::string::npos)
        << none.error().message;
    tcp::acceptor again(loop);  // the first address is free again
    boost::system::error_code ec;
    again.open(tcp::v4(), ec);
    again.bind(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), another), ec);
    EXPECT_FALSE(ec) << ec.message();
}

}  // namespace
}  // namespace tern::net
