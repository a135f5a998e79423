// ServerSession: command order rules, limits and the DATA/BDAT/AUTH/STARTTLS sub-states.
// Each command handler checks its preconditions in RFC order, then either replies or asks
// the driver a question and waits; see server_session.h for the action contract.
#include "smtp/server_session.h"

#include <algorithm>

#include "base/text.h"

namespace tern::smtp {
namespace {

// Decoded message bytes are handed to the driver in pieces of about this size, so that a
// large message streams to disk instead of growing in memory.
constexpr std::size_t kBodyFlushSize = 64 * 1024;
// Processed input is dropped from the front of the buffer once this much has accumulated.
constexpr std::size_t kCompactThreshold = 64 * 1024;

bool same_recipient(const ForwardPath& a, const ForwardPath& b) {
    // "<Postmaster>" is a literal of the grammar and so matches in any case (RFC 5321 4.1.1.3).
    if (a.bare_postmaster || b.bare_postmaster) return a.bare_postmaster == b.bare_postmaster;
    return a.mailbox.local == b.mailbox.local &&
           a.mailbox.domain_lower() == b.mailbox.domain_lower();
}

}  // namespace

ServerSession::ServerSession(SessionOptions options)
    : options_(std::move(options)), tls_active_(options_.tls_active) {}

void ServerSession::start() {
    send(reply(ReplyName::kGreeting, options_.hostname + " ESMTP Tern"));
}

void ServerSession::receive(std::string_view bytes) {
    if (state_ == State::kClosed) return;
    in_.append(bytes);
    process();
}

std::vector<Action> ServerSession::take_actions() {
    std::vector<Action> out;
    out.swap(actions_);
    return out;
}

void ServerSession::emit(ActionKind kind, std::string data) {
    // Consecutive replies go out as one write (RFC 2920 section 3.2 lets them be grouped).
    if (kind == ActionKind::kSend && !actions_.empty() &&
        actions_.back().kind == ActionKind::kSend) {
        actions_.back().data += data;
        return;
    }
    actions_.push_back(Action{kind, std::move(data)});
}

void ServerSession::send(const Reply& r) {
    emit(ActionKind::kSend, r.render());
    if (r.code >= 400 && state_ != State::kClosed) {
        ++errors_;
        if (options_.limits.max_errors != 0 && errors_ >= options_.limits.max_errors) {
            if (message_begun_) emit(ActionKind::kAbortMessage);
            message_begun_ = false;
            send_and_close(reply(ReplyName::kTooManyErrors));
        }
    }
}

void ServerSession::send_and_close(const Reply& r) {
    emit(ActionKind::kSend, r.render());
    emit(ActionKind::kClose);
    state_ = State::kClosed;
    wait_ = Wait::kNone;
}

void ServerSession::flush_body() {
    if (body_.empty()) return;
    emit(ActionKind::kBodyData, std::move(body_));
    body_.clear();
}

void ServerSession::reset_transaction() {
    if (message_begun_) emit(ActionKind::kAbortMessage);
    message_begun_ = false;
    in_transaction_ = false;
    rcpt_attempts_ = 0;
    // envelope_ is kept until the next MAIL is accepted: the driver may not yet have read it
    // for a kBeginMessage that this same pass of pipelined input has already aborted.
    bdat_used_ = false;
    message_size_ = 0;
    body_.clear();
}

Offered ServerSession::offered() const {
    Offered o;
    o.esmtp = esmtp_;
    o.eight_bit_mime = options_.eight_bit_mime;
    o.smtputf8 = options_.smtputf8;
    o.dsn = options_.dsn;
    o.auth = !options_.auth_mechanisms.empty();
    o.max_size = options_.limits.max_message_size;
    return o;
}

bool ServerSession::auth_offered_now() const {
    return !options_.auth_mechanisms.empty() && auth_user_.empty() &&
           (!options_.auth_needs_tls || tls_active_);
}

std::string ServerSession::ehlo_text() const {
    std::string t = options_.hostname;
    t += "\nPIPELINING";
    t += "\nSIZE " + std::to_string(options_.limits.max_message_size);
    if (options_.eight_bit_mime) t += "\n8BITMIME";
    if (options_.smtputf8) t += "\nSMTPUTF8";
    t += "\nENHANCEDSTATUSCODES";
    if (options_.chunking) t += "\nCHUNKING";
    if (options_.dsn) t += "\nDSN";
    if (options_.starttls && !tls_active_) t += "\nSTARTTLS";
    if (auth_offered_now()) {
        t += "\nAUTH";
        for (const auto& m : options_.auth_mechanisms)
            t += " " + m;
    }
    return t;
}

std::string ServerSession::protocol() const {
    if (!esmtp_) return "SMTP";
    std::string p = envelope_.mail.smtputf8 ? "UTF8SMTP" : "ESMTP";
    if (tls_active_) p += 'S';
    if (!auth_user_.empty()) p += 'A';
    return p;
}

void ServerSession::process() {
    while (state_ != State::kClosed && wait_ == Wait::kNone && in_pos_ < in_.size()) {
        switch (state_) {
            case State::kCommand:
            case State::kSkipLine:
            case State::kAuthResponse: {
                std::string_view rest(in_.data() + in_pos_, in_.size() - in_pos_);
                std::size_t limit = state_ == State::kAuthResponse
                                        ? options_.limits.max_auth_line
                                        : options_.limits.max_command_line;
                auto crlf = rest.find("\r\n");
                if (crlf == std::string_view::npos) {
                    // Keep a trailing CR: it may be the first half of the CRLF.
                    std::size_t keep = rest.back() == '\r' ? 1 : 0;
                    if (state_ == State::kSkipLine) {
                        in_pos_ = in_.size() - keep;
                    } else if (rest.size() > limit) {
                        if (state_ == State::kAuthResponse) auth_mechanism_.clear();
                        state_ = State::kSkipLine;
                        in_pos_ = in_.size() - keep;
                        send(reply(ReplyName::kLineTooLong));
                    }
                    goto compact;
                }
                std::string_view line = rest.substr(0, crlf);
                in_pos_ += crlf + 2;
                if (state_ == State::kSkipLine) {
                    state_ = State::kCommand;
                    continue;
                }
                handle_line(line);
                continue;
            }
            case State::kData:
                handle_data_bytes();
                continue;
            case State::kBdatChunk:
                handle_bdat_bytes();
                continue;
            case State::kClosed:
                break;
        }
    }
compact:
    if (in_pos_ >= in_.size()) {
        in_.clear();
        in_pos_ = 0;
    } else if (in_pos_ >= kCompactThreshold) {
        in_.erase(0, in_pos_);
        in_pos_ = 0;
    }
}

void ServerSession::handle_line(std::string_view line) {
    bool auth = state_ == State::kAuthResponse;
    std::size_t limit = auth ? options_.limits.max_auth_line : options_.limits.max_command_line;
    if (auth) state_ = State::kCommand;
    if (line.size() + 2 > limit) {
        if (auth) auth_mechanism_.clear();
        send(reply(ReplyName::kLineTooLong));
        return;
    }
    // A bare CR or LF never ends a command; a line holding one is refused whole.
    if (line.find_first_of("\r\n") != std::string_view::npos) {
        if (auth) auth_mechanism_.clear();
        send(reply(ReplyName::kBareLineEnding));
        return;
    }
    if (auth) {
        handle_auth_line(line);
    } else {
        handle_command(line);
    }
}

void ServerSession::handle_command(std::string_view line) {
    CommandLine cmd = split_command(line);
    if (options_.tls_required && !tls_active_) {
        switch (cmd.verb) {
            case Verb::kEhlo:
            case Verb::kHelo:
            case Verb::kStartTls:
            case Verb::kQuit:
            case Verb::kNoop:
            case Verb::kRset:
            case Verb::kHelp:
            case Verb::kUnknown:
                break;
            default:
                send(reply(ReplyName::kTlsRequired));
                return;
        }
    }
    switch (cmd.verb) {
        case Verb::kEhlo:
            on_helo(cmd, true);
            return;
        case Verb::kHelo:
            on_helo(cmd, false);
            return;
        case Verb::kMail:
            on_mail(cmd);
            return;
        case Verb::kRcpt:
            on_rcpt(cmd);
            return;
        case Verb::kData:
            on_data(cmd);
            return;
        case Verb::kBdat:
            on_bdat(cmd);
            return;
        case Verb::kStartTls:
            on_starttls(cmd);
            return;
        case Verb::kAuth:
            on_auth(cmd);
            return;
        case Verb::kRset:
            if (!cmd.args.empty()) {
                send(reply(ReplyName::kSyntax, "Syntax: RSET"));
                return;
            }
            reset_transaction();
            send(reply(ReplyName::kReset));
            return;
        case Verb::kNoop:
            send(reply(ReplyName::kOk));
            return;
        case Verb::kQuit:
            reset_transaction();  // a message begun by BDAT chunks is aborted, not left open
            send_and_close(reply(ReplyName::kClosing));
            return;
        case Verb::kVrfy:
            if (cmd.args.empty()) {
                send(reply(ReplyName::kSyntax, "Syntax: VRFY <address>"));
                return;
            }
            send(reply(ReplyName::kCannotVrfy));  // never tells which users exist
            return;
        case Verb::kExpn:
            send(reply(ReplyName::kNotImplemented));
            return;
        case Verb::kHelp:
            send(reply(ReplyName::kHelp));
            return;
        case Verb::kUnknown:
            send(reply(ReplyName::kNotRecognized));
            return;
    }
}

void ServerSession::on_helo(const CommandLine& cmd, bool extended) {
    auto name = parse_helo(cmd.args);
    if (!name) {
        send(reply(ReplyName::kBadHelo));
        return;
    }
    // EHLO/HELO in a transaction resets it (RFC 5321 section 4.1.4).
    reset_transaction();
    helo_name_ = std::string(*name);
    esmtp_ = extended;
    if (extended) {
        send(reply(ReplyName::kEhlo, ehlo_text()));
    } else {
        send(reply(ReplyName::kHelo, options_.hostname));
    }
}

void ServerSession::on_mail(const CommandLine& cmd) {
    if (helo_name_.empty()) return send(reply(ReplyName::kNeedHelo));
    if (in_transaction_) return send(reply(ReplyName::kNestedMail));
    if (options_.auth_required && auth_user_.empty()) return send(reply(ReplyName::kAuthRequired));
    auto mail = parse_mail(cmd.args, offered());
    if (!mail) return send(mail.error());
    pending_mail_ = std::move(*mail);
    wait_ = Wait::kSender;
    emit(ActionKind::kCheckSender);
}

void ServerSession::sender_checked(Reply r) {
    if (wait_ != Wait::kSender) return;
    wait_ = Wait::kNone;
    if (r.positive()) {
        in_transaction_ = true;
        envelope_ = Envelope{std::move(pending_mail_.sender), std::move(pending_mail_.params), {}};
    }
    send(r);
    process();
}

void ServerSession::on_rcpt(const CommandLine& cmd) {
    if (helo_name_.empty()) return send(reply(ReplyName::kNeedHelo));
    if (!in_transaction_) return send(reply(ReplyName::kNeedMail));
    if (bdat_used_) return send(reply(ReplyName::kDataBdatMixed, "RCPT not allowed after BDAT"));
    ++rcpt_attempts_;
    if (options_.limits.max_recipients != 0 &&
        envelope_.recipients.size() >= options_.limits.max_recipients)
        return send(reply(ReplyName::kTooManyRecipients));
    auto rcpt = parse_rcpt(cmd.args, offered(), envelope_.mail.smtputf8);
    if (!rcpt) return send(rcpt.error());
    pending_rcpt_ = std::move(*rcpt);
    wait_ = Wait::kRecipient;
    emit(ActionKind::kCheckRecipient);
}

void ServerSession::recipient_checked(Reply r) {
    if (wait_ != Wait::kRecipient) return;
    wait_ = Wait::kNone;
    if (r.positive()) {
        bool duplicate = std::any_of(
            envelope_.recipients.begin(), envelope_.recipients.end(),
            [&](const Recipient& x) { return same_recipient(x.path, pending_rcpt_.recipient); });
        if (!duplicate)
            envelope_.recipients.push_back(
                Recipient{std::move(pending_rcpt_.recipient), std::move(pending_rcpt_.params)});
    }
    send(r);
    process();
}

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
    decoder_ = DataDecoder({options_.limits.max_message_size, options_.limits.max_text_line});
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
        refusal = reply(ReplyName::kBareLineInData);
    } else if (decoder_.too_big()) {
        refusal = reply(ReplyName::kMessageTooBig);
    } else if (decoder_.line_too_long()) {
        refusal = reply(ReplyName::kDataLineTooLong);
    }
    if (refusal) {
        reset_transaction();  // emits kAbortMessage
        send(*refusal);
        return;
    }
    flush_body();
    wait_ = Wait::kCommit;
    emit(ActionKind::kCommitMessage);
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
        wait_ = Wait::kCommit;
        emit(ActionKind::kCommitMessage);
        return;
    }
    send(reply(ReplyName::kChunkOk, "Ok: " + std::to_string(message_size_) + " octets received"));
}

void ServerSession::on_starttls(const CommandLine& cmd) {
    if (tls_active_) return send(reply(ReplyName::kAlreadyTls));
    if (!options_.starttls) return send(reply(ReplyName::kNotImplemented));
    if (!cmd.args.empty()) return send(reply(ReplyName::kSyntax, "Syntax: STARTTLS"));
    if (helo_name_.empty()) return send(reply(ReplyName::kNeedHelo));
    send(reply(ReplyName::kReadyForTls));
    // Command injection defence (CVE-2011-0411): whatever the client pipelined after
    // STARTTLS arrived in plain text and is thrown away unread.
    in_.erase(in_pos_);
    wait_ = Wait::kTls;
    emit(ActionKind::kStartTls);
}

void ServerSession::tls_started(bool ok) {
    if (wait_ != Wait::kTls) return;
    wait_ = Wait::kNone;
    if (!ok) {
        if (message_begun_) emit(ActionKind::kAbortMessage);
        message_begun_ = false;
        emit(ActionKind::kClose);
        state_ = State::kClosed;
        return;
    }
    // RFC 3207 section 4.2: forget everything learnt before the handshake.
    tls_active_ = true;
    reset_transaction();
    helo_name_.clear();
    esmtp_ = false;
    auth_user_.clear();
    in_.clear();
    in_pos_ = 0;
}

void ServerSession::on_auth(const CommandLine& cmd) {
    if (helo_name_.empty() || !esmtp_) return send(reply(ReplyName::kNeedHelo, "Send EHLO first"));
    if (options_.auth_mechanisms.empty()) return send(reply(ReplyName::kNotImplemented));
    if (!auth_user_.empty()) return send(reply(ReplyName::kAlreadyAuthenticated));
    if (in_transaction_)
        return send(reply(ReplyName::kNestedMail, "AUTH not allowed during a mail transaction"));
    if (options_.auth_needs_tls && !tls_active_) return send(reply(ReplyName::kEncryptionRequired));
    auto sp = cmd.args.find(' ');
    std::string mechanism = ascii_upper(cmd.args.substr(0, sp));
    std::string initial =
        sp == std::string_view::npos ? std::string() : std::string(cmd.args.substr(sp + 1));
    if (mechanism.empty()) return send(reply(ReplyName::kSyntax, "Syntax: AUTH mechanism"));
    if (std::find(options_.auth_mechanisms.begin(), options_.auth_mechanisms.end(), mechanism) ==
        options_.auth_mechanisms.end())
        return send(reply(ReplyName::kAuthMechanism));
    if (sp != std::string_view::npos && initial.empty())
        return send(reply(ReplyName::kSyntax, "Syntax: AUTH mechanism [initial-response]"));
    auth_mechanism_ = std::move(mechanism);
    wait_ = Wait::kAuth;
    // An absent initial response is passed as empty; "=" stands for an empty one (RFC 4954 4).
    emit(ActionKind::kAuthStart, std::move(initial));
}

void ServerSession::handle_auth_line(std::string_view line) {
    if (line == "*") {
        auth_mechanism_.clear();
        return send(reply(ReplyName::kAuthCancelled));
    }
    wait_ = Wait::kAuth;
    // A response line is never empty on the wire for a challenge; pass "=" for an empty one.
    emit(ActionKind::kAuthStep, line.empty() ? std::string("=") : std::string(line));
}

void ServerSession::auth_challenge(std::string base64) {
    if (wait_ != Wait::kAuth) return;
    wait_ = Wait::kNone;
    state_ = State::kAuthResponse;
    send(reply(ReplyName::kAuthChallenge, std::move(base64)));
    process();
}

void ServerSession::auth_succeeded(std::string user) {
    if (wait_ != Wait::kAuth) return;
    wait_ = Wait::kNone;
    state_ = State::kCommand;
    auth_user_ = std::move(user);
    auth_mechanism_.clear();
    send(reply(ReplyName::kAuthOk));
    process();
}

void ServerSession::auth_failed(Reply r) {
    if (wait_ != Wait::kAuth) return;
    wait_ = Wait::kNone;
    state_ = State::kCommand;
    auth_mechanism_.clear();
    send(r);
    process();
}

void ServerSession::timeout() {
    if (state_ == State::kClosed) return;
    if (message_begun_) emit(ActionKind::kAbortMessage);
    message_begun_ = false;
    send_and_close(reply(ReplyName::kTimeout));
}

void ServerSession::shutdown() {
    if (state_ == State::kClosed) return;
    if (message_begun_) emit(ActionKind::kAbortMessage);
    message_begun_ = false;
    send_and_close(reply(ReplyName::kShuttingDown));
}

}  // namespace tern::smtp
