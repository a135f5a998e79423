// ServerSession, message transfer: DATA through the DataDecoder (RFC 5321 4.1.1.4, 4.5.2) and
// BDAT chunks (RFC 3030), each ending in one commit or abort of the message begun.
#include <algorithm>

#include "smtp/server_session.h"

namespace tern::smtp {
namespace {

// Decoded message bytes are handed to the driver in pieces of about this size, so that a
// large message streams to disk instead of growing in memory.
constexpr std::size_t kBodyFlushSize = 64 * 1024;

}  // namespace

void ServerSession::on_data(const CommandLine& cmd) {
    if (!cmd.args.empty()) return send(reply(ReplyName::kSyntax, "Syntax: DATA"));
    if (helo_name_.empty()) return send(reply(ReplyName::kNeedHelo));
    if (!in_transaction_) return send(reply(ReplyName::kNeedMail));
    if (bdat_used_) return send(reply(ReplyName::kDataBdatMixed));
    if (rcpt_attempts_ == 0) return send(reply(ReplyName::kNeedRecipient));
    if (envelope_.recipients.empty()) return send(reply(ReplyName::kNoValidRecipients));
    emit(ActionKind::kBeginMessage);
    message_begun_ = true;
    message_size_ = 0;
    text_scan_ = TextScan(options_.limits.nul_octets);
    decoder_ = DataDecoder({options_.limits.max_message_size, options_.limits.max_text_line},
                           options_.limits.bare_lf);
    state_ = State::kData;
    send(reply(ReplyName::kStartData));
}

void ServerSession::handle_data_bytes() {
    std::string_view rest(in_.data() + in_pos_, in_.size() - in_pos_);
    in_pos_ += decoder_.decode(rest, body_);
    message_size_ = decoder_.size();
    if (body_.size() >= kBodyFlushSize) flush_body();
    if (decoder_.done()) finish_data();
}

void ServerSession::finish_data() {
    state_ = State::kCommand;
    std::optional<Reply> refusal;
    if (decoder_.saw_bare_line_ending()) {
        refusal = reply(options_.limits.bare_lf == BareLf::kReject ? ReplyName::kBareLineInData
                                                                   : ReplyName::kBareCrInData);
    } else if (decoder_.too_big()) {
        refusal = reply(ReplyName::kMessageTooBig);
    } else if (decoder_.line_too_long()) {
        refusal = reply(ReplyName::kDataLineTooLong);
    }
    if (!refusal) {
        flush_body();
        refusal = text_refusal();
    }
    if (refusal) {
        reset_transaction();  // emits kAbortMessage
        send(*refusal);
        return;
    }
    wait_ = Wait::kCommit;
    emit(ActionKind::kCommitMessage);
}

std::optional<Reply> ServerSession::text_refusal() const {
    if (text_scan_.refuse_nul()) return reply(ReplyName::kNulInData);
    // RFC 5321 6.3: our own Received field makes one more hop.
    std::size_t hops = text_scan_.received_fields() + 1;
    if (options_.limits.max_hops != 0 && hops > options_.limits.max_hops)
        return reply(ReplyName::kTooManyHops,
                     "Too many hops (" + std::to_string(hops) + " Received fields; the limit is " +
                         std::to_string(options_.limits.max_hops) + "): mail loop?");
    return std::nullopt;
}

void ServerSession::message_committed(Reply r) {
    if (wait_ != Wait::kCommit) return;
    wait_ = Wait::kNone;
    message_begun_ = false;  // committed or refused by the driver: nothing to abort
    reset_transaction();
    send(r);
    process();
}

void ServerSession::on_bdat(const CommandLine& cmd) {
    auto bdat = parse_bdat(cmd.args);
    if (!bdat) return send(bdat.error());  // the size is unknown: nothing can be skipped
    chunk_left_ = bdat->size;
    chunk_last_ = bdat->last;
    chunk_discard_ = false;
    // The chunk's octets are read whatever the verdict, so they are never taken as commands.
    std::optional<Reply> refusal;
    const auto max = options_.limits.max_message_size;
    if (helo_name_.empty()) {
        refusal = reply(ReplyName::kNeedHelo);
    } else if (!esmtp_ || !options_.chunking) {
        refusal = reply(ReplyName::kNotImplemented, "BDAT needs EHLO and CHUNKING");
    } else if (!in_transaction_) {
        refusal = reply(ReplyName::kNeedMail);
    } else if (rcpt_attempts_ == 0) {
        refusal = reply(ReplyName::kNeedRecipient);
    } else if (envelope_.recipients.empty()) {
        refusal = reply(ReplyName::kNoValidRecipients);
    } else if (max != 0 && (bdat->size > max || message_size_ > max - bdat->size)) {
        refusal = reply(ReplyName::kMessageTooBig);
        reset_transaction();  // RFC 3030: the transaction has failed
    }
    if (refusal) {
        chunk_discard_ = true;
        chunk_error_ = std::move(*refusal);
    } else if (!message_begun_) {
        emit(ActionKind::kBeginMessage);
        message_begun_ = true;
        bdat_used_ = true;
        text_scan_ = TextScan(options_.limits.nul_octets);
    }
    state_ = State::kBdatChunk;
    if (chunk_left_ == 0) finish_bdat_chunk();
}

void ServerSession::handle_bdat_bytes() {
    std::size_t available = in_.size() - in_pos_;
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(available, chunk_left_));
    if (!chunk_discard_) {
        body_.append(in_, in_pos_, n);
        message_size_ += n;
        if (body_.size() >= kBodyFlushSize) flush_body();
    }
    in_pos_ += n;
    chunk_left_ -= n;
    if (chunk_left_ == 0) finish_bdat_chunk();
}

void ServerSession::finish_bdat_chunk() {
    state_ = State::kCommand;
    if (chunk_discard_) {
        chunk_discard_ = false;
        send(chunk_error_);
        return;
    }
    if (chunk_last_) {
        flush_body();
        if (auto refusal = text_refusal()) {
            reset_transaction();  // emits kAbortMessage; RFC 3030: the transaction has failed
            send(*refusal);
            return;
        }
        wait_ = Wait::kCommit;
        emit(ActionKind::kCommitMessage);
        return;
    }
    send(reply(ReplyName::kChunkOk, "Ok: " + std::to_string(message_size_) + " octets received"));
}

}  // namespace tern::smtp
