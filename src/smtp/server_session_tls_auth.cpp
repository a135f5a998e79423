// ServerSession, security: STARTTLS (RFC 3207, with the CVE-2011-0411 input discard) and the
// AUTH exchange (RFC 4954); the SASL mechanisms themselves are the driver's (src/auth/).
#include <algorithm>

#include "base/text.h"
#include "smtp/server_session.h"

namespace tern::smtp {

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
    if (options_.auth_needs_tls && !tls_active_)
        return send(
            reply(auth_waits_for_tls() ? ReplyName::kTlsRequired : ReplyName::kEncryptionRequired));
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

}  // namespace tern::smtp
