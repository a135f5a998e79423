// libFuzzer target for what LMTP delivery reads (RFC 2033): the server's bytes through a
// ClientSession in LMTP mode over a whole transaction, and [local] lmtp server names.
//
// Input layout: byte 0 picks the recipients (1 to 8) and PIPELINING/CHUNKING in the LHLO reply;
// the rest is split at the first '\0': the text after it is an LMTP target to parse, the text
// before it is what the server sends after a well-formed greeting and LHLO reply, fed in pieces.
// Besides "no crash": a transaction that ends has one non-empty reply per recipient; a
// recipient answered after the data keeps that reply through anything that follows; a parsed
// target's canonical form parses to the same target.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "net/lmtp_target.h"
#include "smtp/client_session.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace tern::smtp;
    using tern::fuzz::check;
    if (size < 1) return 0;
    std::size_t count = (data[0] & 0x07) + 1;
    bool pipelining = data[0] & 0x08;
    bool chunking = data[0] & 0x10;
    std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    auto nul = rest.find('\0');
    std::string_view server = rest.substr(0, nul);

    if (nul != std::string_view::npos) {
        auto target = tern::net::LmtpTarget::parse(rest.substr(nul + 1));
        if (target) {
            auto again = tern::net::LmtpTarget::parse(target->str());
            check(again && again->str() == target->str() &&
                  again->socket_path == target->socket_path && again->host == target->host &&
                  again->port == target->port);
        }
    }

    ClientOptions o;
    o.helo_name = "client.example";
    o.lmtp = true;
    ClientSession s(o);
    s.receive("220 lmtp ready\r\n");
    std::string lhlo = "250-lmtp\r\n";
    if (pipelining) lhlo += "250-PIPELINING\r\n";
    if (chunking) lhlo += "250-CHUNKING\r\n";
    lhlo += "250 ENHANCEDSTATUSCODES\r\n";
    s.receive(lhlo);
    check(s.ready());
    s.take_actions();
    OutboundMessage m;
    m.sender = "alice@a.example";
    m.size = 100;
    for (std::size_t i = 0; i < count; ++i)
        m.recipients.push_back(OutboundRecipient{"u" + std::to_string(i) + "@b.example", {}, {}});
    s.send_message(m);
    std::vector<std::string> settled(count);  // replies seen answered after the data
    bool done = false;
    for (std::size_t at = 0; at < server.size() && !s.failed();) {
        std::size_t n = std::min<std::size_t>(server.size() - at, 1 + (server[at] & 0x1f));
        s.receive(server.substr(at, n));
        at += n;
        for (const auto& a : s.take_actions())
            if (a.kind == ClientActionKind::kDone) done = true;
        for (std::size_t i = 0; i < count && i < s.result().size(); ++i) {
            if (!s.answered_after_data(i)) continue;
            std::string line = reply_line(s.result()[i]);
            if (!settled[i].empty()) check(line == settled[i]);
            settled[i] = line;
        }
        if (done) break;
    }
    if (done) {
        check(s.result().size() == count);
        for (const auto& r : s.result())
            check(r.code != 0);
    }
    return 0;
}
