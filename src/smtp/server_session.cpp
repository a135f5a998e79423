// ServerSession: input framing, command dispatch, order rules and limits, EHLO/MAIL/RCPT.
// Each command handler checks its preconditions in RFC order, then either replies or asks the
// driver a question and waits; DATA/BDAT and STARTTLS/AUTH live in server_session_*.cpp.
#include "smtp/server_session.h"

#include <algorithm>
#include <optional>

namespace tern::smtp {
namespace {

// Processed input is dropped from the front of the buffer once this much has accumulated.
constexpr std::size_t kCompactThreshold = 64 * 1024;
// The largest value a LIMITS parameter may carry (RFC 9422 section 4: 1*6DIGIT).
constexpr std::size_t kMaxLimitValue = 999999;

struct LineEnd {
    std::size_t length;      // octets of the line before its end
    std::size_t terminator;  // octets of the end: 2 for CR LF, 1 for a bare LF
};

// Where the next command line of `rest` ends: at CR LF, and with BareLf::kNormalize at a bare LF
// too (as Postfix's smtpd_forbid_bare_newline = normalize). A bare CR never ends a line.
std::optional<LineEnd> next_line_end(std::string_view rest, BareLf bare_lf) {
    if (bare_lf == BareLf::kReject) {
        auto crlf = rest.find("\r\n");
        if (crlf == std::string_view::npos) return std::nullopt;
        return LineEnd{crlf, 2};
    }
    auto lf = rest.find('\n');
    if (lf == std::string_view::npos) return std::nullopt;
    if (lf > 0 && rest[lf - 1] == '\r') return LineEnd{lf - 1, 2};
    return LineEnd{lf, 1};
}

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

void ServerSession::refuse(Reply r) {
    send_and_close(r);
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
    if (r.code >= 400) count_error();
}

void ServerSession::count_error() {
    if (state_ == State::kClosed) return;
    ++errors_;
    if (options_.limits.max_errors != 0 && errors_ >= options_.limits.max_errors) {
        if (message_begun_) emit(ActionKind::kAbortMessage);
        message_begun_ = false;
        send_and_close(reply(ReplyName::kTooManyErrors));
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
    text_scan_.scan(body_);
    if (body_.empty()) return;  // it was all NUL octets, stripped
    emit(ActionKind::kBodyData, std::move(body_));
    body_.clear();
}

void ServerSession::reset_transaction() {
    if (message_begun_) emit(ActionKind::kAbortMessage);
    message_begun_ = false;
    in_transaction_ = false;
    rcpt_attempts_ = 0;
    rcpt_overshoot_ = 0;
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
    o.requiretls = options_.requiretls;
    o.tls = tls_active_;
    o.max_size = options_.limits.max_message_size;
    return o;
}

bool ServerSession::auth_offered_now() const {
    return !options_.auth_mechanisms.empty() && auth_user_.empty() &&
           (!options_.auth_needs_tls || tls_active_);
}

bool ServerSession::auth_waits_for_tls() const {
    // AUTH is held back only until STARTTLS, which the client can still issue here.
    return !options_.auth_mechanisms.empty() && options_.auth_needs_tls && !tls_active_ &&
           options_.starttls;
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
    // RFC 8689 section 2: REQUIRETLS may only be used in a session that employs TLS.
    if (options_.requiretls && tls_active_) t += "\nREQUIRETLS";
    std::string limits;  // RFC 9422: the limits this session enforces
    if (options_.limits.max_recipients != 0)
        limits +=
            " RCPTMAX=" + std::to_string(std::min(options_.limits.max_recipients, kMaxLimitValue));
    if (options_.limits.max_transactions != 0)
        limits += " MAILMAX=" +
                  std::to_string(std::min(options_.limits.max_transactions, kMaxLimitValue));
    if (!limits.empty()) t += "\nLIMITS" + limits;
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
                auto end = next_line_end(rest, options_.limits.bare_lf);
                if (!end) {
                    // Keep a trailing CR: it may be the first half of the CRLF.
                    std::size_t keep = rest.back() == '\r' ? 1 : 0;
                    if (state_ == State::kSkipLine) {
                        in_pos_ = in_.size() - keep;
                        count_skipped(rest.size() - keep, limit);
                    } else if (rest.size() > limit) {
                        if (state_ == State::kAuthResponse) auth_mechanism_.clear();
                        state_ = State::kSkipLine;
                        in_pos_ = in_.size() - keep;
                        send(reply(ReplyName::kLineTooLong));
                        skipped_ = 0;
                        count_skipped(rest.size() - keep - limit, limit);
                    }
                    goto compact;
                }
                std::string_view line = rest.substr(0, end->length);
                if (state_ == State::kSkipLine) {
                    in_pos_ += end->length + end->terminator;
                    count_skipped(end->length, limit);
                    if (state_ == State::kSkipLine) state_ = State::kCommand;
                    continue;
                }
                in_pos_ += end->length + end->terminator;
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
        std::string().swap(in_);  // all used: a session waiting for input holds no buffer
        in_pos_ = 0;
    } else if (in_pos_ >= kCompactThreshold) {
        in_.erase(0, in_pos_);
        in_pos_ = 0;
    }
}

void ServerSession::count_skipped(std::size_t octets, std::size_t limit) {
    // An over-long line costs its 500 and one more error for every further line's worth of
    // octets, however it arrives: a client that streams a line without end is closed at the
    // error limit.
    skipped_ += octets;
    while (limit != 0 && skipped_ >= limit && state_ != State::kClosed) {
        skipped_ -= limit;
        count_error();
    }
}

void ServerSession::handle_line(std::string_view line) {
    bool auth = state_ == State::kAuthResponse;
    std::size_t limit = auth ? options_.limits.max_auth_line : options_.limits.max_command_line;
    if (auth) state_ = State::kCommand;
    if (line.size() + 2 > limit) {
        if (auth) auth_mechanism_.clear();
        send(reply(ReplyName::kLineTooLong));
        skipped_ = 0;
        count_skipped(line.size() > limit ? line.size() - limit : 0, limit);
        return;
    }
    // A bare CR (or, when bare LF is refused, a bare LF) never ends a command; a line holding
    // one is refused whole.
    if (line.find_first_of("\r\n") != std::string_view::npos) {
        if (auth) auth_mechanism_.clear();
        send(reply(options_.limits.bare_lf == BareLf::kReject ? ReplyName::kBareLineEnding
                                                              : ReplyName::kBareCrInCommand));
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
    if (options_.check_helo) {
        pending_helo_ = std::string(*name);
        pending_esmtp_ = extended;
        wait_ = Wait::kHelo;
        emit(ActionKind::kCheckHelo);
        return;
    }
    accept_helo(std::string(*name), extended);
}

void ServerSession::helo_checked(Reply r) {
    if (wait_ != Wait::kHelo) return;
    wait_ = Wait::kNone;
    if (r.positive()) {
        accept_helo(std::move(pending_helo_), pending_esmtp_);
    } else if (r.code == 421) {
        send_and_close(r);
    } else {
        send(r);  // the name is refused; the client has still not greeted us
    }
    pending_helo_.clear();
    process();
}

void ServerSession::accept_helo(std::string name, bool extended) {
    helo_name_ = std::move(name);
    esmtp_ = extended;
    if (extended) {
        send(reply(ReplyName::kEhlo, ehlo_text()));
    } else {
        send(reply(ReplyName::kHelo, options_.hostname));
    }
}

void ServerSession::on_mail(const CommandLine& cmd) {
    // RFC 9422 MAILMAX counts every MAIL command, accepted or not; one more ends the session.
    if (options_.limits.max_transactions != 0 &&
        mail_commands_ >= options_.limits.max_transactions) {
        reset_transaction();
        return send_and_close(reply(ReplyName::kTooManyTransactions));
    }
    ++mail_commands_;
    if (helo_name_.empty()) return send(reply(ReplyName::kNeedHelo));
    if (in_transaction_) return send(reply(ReplyName::kNestedMail));
    if (options_.auth_required && auth_user_.empty())
        return send(
            reply(auth_waits_for_tls() ? ReplyName::kTlsRequired : ReplyName::kAuthRequired));
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
        envelope_.recipients.size() >= options_.limits.max_recipients) {
        // A pipelining client may send more recipients than the limit before it sees the first
        // 452: that is not an error (RFC 5321 4.5.3.1.10), until the overshoot is large (as
        // Postfix's smtpd_recipient_overshoot_limit).
        emit(ActionKind::kSend, reply(ReplyName::kTooManyRecipients).render());
        if (++rcpt_overshoot_ > options_.limits.recipient_overshoot) count_error();
        return;
    }
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
