// What the SMTP and LMTP transports share about handing a spooled message to a server: its text
// streamed as DATA (dot-stuffed, ended with CRLF.CRLF) or raw after a BDAT command, and the
// outcome of a recipient from the reply that decided it.
#pragma once

#include <algorithm>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "queue/transport.h"
#include "smtp/data_encoder.h"
#include "smtp/replies.h"
#include "smtp/reply_parser.h"
#include "spool/text_reader.h"

namespace tern::delivery {

// The recipient's result from the reply that decided it: 2xx delivered, 5xx failed, else
// deferred. A reply Tern made up (synthetic) names the server `host` it concerns.
queue::RecipientResult result_from_reply(std::size_t index, const smtp::Reply& reply,
                                         const std::string& host);

// A recipient deferred with `reply`: the server's words when `from_host`, else Tern's account.
queue::RecipientResult deferred_result(std::size_t index, std::string reply, bool from_host,
                                       std::string host);

// True when `text` holds an octet above 127.
bool has_eight_bit(std::string_view text);

// The spooled text holds an octet above 127 (read whole, in pieces).
bool text_has_eight_bit(const spool::TextReader& text);

// Streams `text` through `write` (an awaitable taking a std::string_view and returning false
// when the connection failed): after `bdat` raw when that is not empty, else as DATA text.
// Returns false when a write failed or the spool file could not be read (`unreadable` says so).
template <class Write>
boost::asio::awaitable<bool> stream_text(const spool::TextReader& text, const std::string& bdat,
                                         Write write, bool& unreadable) {
    constexpr std::size_t kChunk = 64 * 1024;  // octets read from the spool at a time
    std::string chunk(kChunk, '\0');
    std::string out;
    smtp::DataEncoder encoder;
    const bool raw = !bdat.empty();
    if (raw) out = bdat;
    const std::uint64_t length = text.size();
    unreadable = false;
    for (std::uint64_t done = 0; done < length || !out.empty();) {
        if (done < length && out.size() < kChunk) {
            auto want = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, length - done));
            auto got = text.read_at(done, chunk.data(), want);
            if (got == 0) {
                unreadable = true;
                co_return false;
            }
            done += got;
            std::string_view piece(chunk.data(), got);
            if (raw)
                out.append(piece);
            else
                encoder.encode(piece, out);
            if (done == length && !raw) encoder.finish(out);
            continue;
        }
        if (!co_await write(std::string_view(out))) co_return false;
        out.clear();
    }
    if (length == 0 && !raw) {
        encoder.finish(out);
        if (!co_await write(std::string_view(out))) co_return false;
    }
    co_return true;
}

}  // namespace tern::delivery
