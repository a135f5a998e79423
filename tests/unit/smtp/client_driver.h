// ClientDriver: plays the socket side of a ClientSession in tests: server bytes in, the commands
// and actions it causes out as one readable string, and the per-recipient results.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "smtp/client_session.h"

namespace tern::smtp::test {

// Actions as one string: commands verbatim, other actions as <tags>.
inline std::string show(const std::vector<ClientAction>& actions) {
    std::string out;
    for (const auto& a : actions) {
        switch (a.kind) {
            case ClientActionKind::kSend:
                out += a.data;
                break;
            case ClientActionKind::kStartTls:
                out += "<starttls>";
                break;
            case ClientActionKind::kSendBody:
                out += a.data.empty() ? "<body>" : "<body:" + a.data + ">";
                break;
            case ClientActionKind::kReady:
                out += "<ready>";
                break;
            case ClientActionKind::kDone:
                out += "<done>";
                break;
            case ClientActionKind::kFailed:
                out += "<failed>";
                break;
        }
    }
    return out;
}

// The per-recipient results as "250 2.0.0 text | 550 5.1.1 text".
inline std::string results(const ClientSession& s) {
    std::string out;
    for (const auto& r : s.result())
        out += (out.empty() ? "" : " | ") + reply_line(r);
    return out;
}

inline ClientOptions plain() {
    ClientOptions o;
    o.helo_name = "client.example";
    return o;
}

inline ClientOptions with_starttls(bool required = false) {
    ClientOptions o = plain();
    o.starttls = true;
    o.require_tls = required;
    return o;
}

inline const std::string kGreeting = "220 mx.example ESMTP\r\n";

// An EHLO reply offering `keywords`.
inline std::string ehlo(const std::vector<std::string>& keywords) {
    if (keywords.empty()) return "250 mx.example\r\n";
    std::string out = "250-mx.example\r\n";
    for (std::size_t i = 0; i < keywords.size(); ++i)
        out += (i + 1 < keywords.size() ? "250-" : "250 ") + keywords[i] + "\r\n";
    return out;
}

inline OutboundMessage message(const std::vector<std::string>& recipients = {"bob@b.example"}) {
    OutboundMessage m;
    m.sender = "alice@a.example";
    m.size = 1234;
    for (const auto& r : recipients)
        m.recipients.push_back(OutboundRecipient{r, {}, {}});
    return m;
}

inline const std::vector<std::string> kTwo = {"bob@b.example", "carol@c.example"};
inline const std::vector<std::string> kThree = {"bob@b.example", "carol@c.example",
                                                "dave@d.example"};

// A session with the calls a driver makes, each returning the actions it caused.
struct Client {
    explicit Client(ClientOptions o = plain()) : s(std::move(o)) {}
    std::string server(std::string_view bytes) {
        s.receive(bytes);
        return take();
    }
    std::string send(const OutboundMessage& m) {
        s.send_message(m);
        return take();
    }
    std::string tls(bool ok) {
        s.tls_started(ok);
        return take();
    }
    std::string reset() {
        s.reset();
        return take();
    }
    std::string quit() {
        s.quit();
        return take();
    }
    std::string take() { return show(s.take_actions()); }

    ClientSession s;
};

// A session after the greeting and an EHLO reply offering `keywords`.
inline Client ready(const std::vector<std::string>& keywords, ClientOptions o = plain()) {
    Client c(std::move(o));
    EXPECT_EQ(c.server(kGreeting), "EHLO client.example\r\n");
    EXPECT_EQ(c.server(ehlo(keywords)), "<ready>");
    return c;
}

inline void expect_failure(const Client& c, int code, std::string_view status,
                           std::string_view stage) {
    EXPECT_TRUE(c.s.failed());
    EXPECT_EQ(c.s.failure().code, code) << reply_line(c.s.failure());
    EXPECT_EQ(c.s.failure().status, status) << reply_line(c.s.failure());
    EXPECT_EQ(c.s.failure_stage(), stage);
}

}  // namespace tern::smtp::test
