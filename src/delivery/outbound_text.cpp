// What the SMTP and LMTP transports share: a recipient's outcome from a reply or a deferral,
// 8-bit text.
#include "delivery/outbound_text.h"

#include <algorithm>

namespace tern::delivery {

queue::RecipientResult result_from_reply(std::size_t index, const smtp::Reply& reply,
                                         const std::string& host) {
    queue::RecipientResult r;
    r.index = index;
    r.reply = smtp::reply_line(reply);
    r.remote_host = host;
    r.from_host = !reply.synthetic;  // a server's reply, or the client session's own verdict
    // The client session's verdict says "the receiving server": name it.
    if (reply.synthetic && !host.empty()) r.reply += " (server " + host + ")";
    r.outcome = reply.positive()            ? queue::Outcome::kDelivered
                : reply.permanent_failure() ? queue::Outcome::kFailed
                                            : queue::Outcome::kDeferred;
    return r;
}

queue::RecipientResult deferred_result(std::size_t index, std::string reply, bool from_host,
                                       std::string host) {
    queue::RecipientResult r;
    r.index = index;
    r.outcome = queue::Outcome::kDeferred;
    r.reply = std::move(reply);
    r.remote_host = std::move(host);
    r.from_host = from_host;
    return r;
}

bool has_eight_bit(std::string_view text) {
    return std::any_of(text.begin(), text.end(),
                       [](char c) { return static_cast<unsigned char>(c) > 127; });
}

bool text_has_eight_bit(const spool::TextReader& text) {
    constexpr std::size_t kChunk = 64 * 1024;
    std::string buf(kChunk, '\0');
    for (std::uint64_t done = 0; done < text.size();) {
        auto want = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, text.size() - done));
        auto got = text.read_at(done, buf.data(), want);
        if (got == 0) break;
        if (has_eight_bit(std::string_view(buf.data(), got))) return true;
        done += got;
    }
    return false;
}

}  // namespace tern::delivery
