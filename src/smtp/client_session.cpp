// ClientSession: the outbound dialogue. Each server reply is matched to the command it
// answers (a queue of expected replies makes pipelining and plain lock-step the same code).
#include "smtp/client_session.h"

#include <algorithm>
#include <charconv>

#include "base/text.h"

namespace tern::smtp {
namespace {

// Tern's own verdict on the session, in the form of a reply; never attributed to the server.
Reply synthetic(int code, std::string status, std::string text) {
    return Reply{code, std::move(status), std::move(text), true};
}

}  // namespace

Capabilities parse_ehlo(const Reply& reply) {
    Capabilities caps;
    caps.esmtp = true;
    std::string_view text = reply.text;
    bool first = true;
    while (!text.empty() || first) {
        auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        if (first) {  // the first line names the server
            first = false;
            continue;
        }
        auto sp = line.find(' ');
        std::string keyword = ascii_upper(line.substr(0, sp));
        std::string_view args =
            sp == std::string_view::npos ? std::string_view{} : line.substr(sp + 1);
        if (keyword == "PIPELINING")
            caps.pipelining = true;
        else if (keyword == "8BITMIME")
            caps.eight_bit_mime = true;
        else if (keyword == "SMTPUTF8")
            caps.smtputf8 = true;
        else if (keyword == "DSN")
            caps.dsn = true;
        else if (keyword == "CHUNKING")
            caps.chunking = true;
        else if (keyword == "STARTTLS")
            caps.starttls = true;
        else if (keyword == "REQUIRETLS")
            caps.requiretls = true;
        else if (keyword == "ENHANCEDSTATUSCODES")
            caps.enhanced_status = true;
        else if (keyword == "SIZE") {
            caps.size = true;
            std::uint64_t n = 0;
            auto [p, ec] = std::from_chars(args.data(), args.data() + args.size(), n);
            if (ec == std::errc() && p == args.data() + args.size()) caps.size_limit = n;
        } else if (keyword == "LIMITS") {
            caps.limits = parse_limits(args);
        } else if (keyword == "AUTH") {
            while (!args.empty()) {
                auto s = args.find(' ');
                if (s != 0) caps.auth.push_back(ascii_upper(args.substr(0, s)));
                args = s == std::string_view::npos ? std::string_view{} : args.substr(s + 1);
            }
        }
    }
    return caps;
}

ClientSession::ClientSession(ClientOptions options) : options_(std::move(options)) {}

std::vector<ClientAction> ClientSession::take_actions() {
    std::vector<ClientAction> out;
    out.swap(actions_);
    return out;
}

void ClientSession::emit(ClientActionKind kind, std::string data) {
    if (kind == ClientActionKind::kSend && !actions_.empty() &&
        actions_.back().kind == ClientActionKind::kSend) {
        actions_.back().data += data;
        return;
    }
    actions_.push_back(ClientAction{kind, std::move(data)});
}

ClientSession::Waiting ClientSession::waiting() const {
    switch (state_) {
        case State::kGreeting:
            return Waiting::kGreeting;
        case State::kEhlo:
        case State::kHelo:
        case State::kStartTls:
        case State::kRset:
        case State::kQuit:
            return Waiting::kCommand;
        case State::kTransaction:
            if (expected_.empty()) return Waiting::kNothing;
            if (expected_.front() == Expect::kDataEnd) return Waiting::kDataEnd;
            if (expected_.front() == Expect::kData) return Waiting::kDataReady;
            return Waiting::kCommand;
        default:
            return Waiting::kNothing;
    }
}

void ClientSession::fail(Reply reply, std::string stage) {
    failure_ = std::move(reply);
    failure_stage_ = std::move(stage);
    state_ = State::kFailed;
    emit(ClientActionKind::kFailed);
}

void ClientSession::fail_tls(Reply reply, std::string stage) {
    tls_unavailable_ = true;
    fail(std::move(reply), std::move(stage));
}

void ClientSession::receive(std::string_view bytes) {
    if (state_ == State::kFailed) return;
    parser_.feed(bytes);
    while (state_ != State::kFailed) {
        auto reply = parser_.next();
        if (!reply) break;
        on_reply(*reply);
    }
    if (parser_.broken() && state_ != State::kFailed)
        fail(synthetic(451, "4.5.0", "protocol error: " + parser_.error()), "reply");
}

void ClientSession::on_reply(const Reply& r) {
    switch (state_) {
        case State::kGreeting:
            if (r.code != 220) {
                send("QUIT\r\n");
                // A 5xx greeting is treated as temporary: another MX may take the mail.
                return fail(
                    r.code >= 500
                        ? synthetic(451, "4.3.0", "server refused the connection: " + reply_line(r))
                        : r,
                    "greeting");
            }
            state_ = State::kEhlo;
            return send(hello_command());
        case State::kEhlo:
            if (r.code == 250) {
                caps_ = parse_ehlo(r);
                if (!tls_active_ && options_.starttls && caps_.starttls) {
                    state_ = State::kStartTls;
                    return send("STARTTLS\r\n");
                }
                if (!tls_active_ && options_.require_tls) {
                    send("QUIT\r\n");
                    return fail_tls(
                        synthetic(451, "4.7.4",
                                  "TLS is required but the server does not offer STARTTLS"),
                        "EHLO");
                }
                state_ = State::kReady;
                return emit(ClientActionKind::kReady);
            }
            if (r.code >= 500 && r.code != 554 && !tls_active_ && !options_.lmtp) {
                state_ = State::kHelo;
                return send("HELO " + options_.helo_name + "\r\n");
            }
            send("QUIT\r\n");
            return fail(r, options_.lmtp ? "LHLO" : "EHLO");
        case State::kHelo:
            if (r.code != 250) {
                send("QUIT\r\n");
                return fail(r, "HELO");
            }
            caps_ = Capabilities{};
            if (options_.require_tls) {
                send("QUIT\r\n");
                return fail_tls(
                    synthetic(451, "4.7.4", "TLS is required but the server does not speak ESMTP"),
                    "HELO");
            }
            state_ = State::kReady;
            return emit(ClientActionKind::kReady);
        case State::kStartTls:
            if (r.code == 220) {
                // RFC 3207 4.2: nothing the server sent before the handshake may count after
                // it. An honest server sends nothing after this reply, so bytes already here
                // are an injection attempt (the CVE-2011-0411 class): give up on this server.
                if (parser_.has_pending())
                    return fail_tls(
                        synthetic(451, "4.7.0", "the server sent data after its STARTTLS reply"),
                        "STARTTLS");
                parser_ = ReplyParser{};
                state_ = State::kHandshake;
                return emit(ClientActionKind::kStartTls);
            }
            if (options_.require_tls) {
                send("QUIT\r\n");
                return fail_tls(synthetic(451, "4.7.5", "STARTTLS refused: " + reply_line(r)),
                                "STARTTLS");
            }
            state_ = State::kReady;
            return emit(ClientActionKind::kReady);
        case State::kTransaction:
            return on_transaction_reply(r);
        case State::kRset:
            if (r.code != 250) {
                send("QUIT\r\n");
                return fail(r, "RSET");
            }
            state_ = State::kReady;
            return emit(ClientActionKind::kReady);
        case State::kQuit:
            state_ = State::kFailed;  // done either way; nothing more will be sent
            return;
        default:
            return fail(synthetic(451, "4.5.0", "unexpected reply: " + reply_line(r)), "reply");
    }
}

void ClientSession::tls_started(bool ok) {
    if (state_ != State::kHandshake) return;
    if (!ok) return fail_tls(synthetic(451, "4.7.5", "TLS handshake failed"), "STARTTLS");
    tls_active_ = true;
    state_ = State::kEhlo;
    send(hello_command());
}

std::string ClientSession::hello_command() const {
    return (options_.lmtp ? "LHLO " : "EHLO ") + options_.helo_name + "\r\n";
}

void ClientSession::expect_data_end() {
    if (!options_.lmtp) return expected_.push_back(Expect::kDataEnd);
    // RFC 2033 4.2: one reply for each recipient accepted at RCPT, in their order.
    lmtp_owed_.clear();
    lmtp_answered_ = 0;
    for (std::size_t i = 0; i < results_.size(); ++i)
        if (results_[i].positive()) lmtp_owed_.push_back(i);
    if (lmtp_owed_.empty()) return expected_.push_back(Expect::kDataEnd);
    expected_.insert(expected_.end(), lmtp_owed_.size(), Expect::kDataEnd);
}

std::string ClientSession::mail_command() const {
    std::string cmd = "MAIL FROM:<" + message_.sender + ">";
    if (caps_.size) cmd += " SIZE=" + std::to_string(message_.size);
    if (message_.body == BodyType::k8BitMime && caps_.eight_bit_mime) cmd += " BODY=8BITMIME";
    if (message_.smtputf8 && caps_.smtputf8) cmd += " SMTPUTF8";
    if (caps_.dsn) {
        if (message_.ret == DsnRet::kFull) cmd += " RET=FULL";
        if (message_.ret == DsnRet::kHeaders) cmd += " RET=HDRS";
        if (!message_.envid.empty()) cmd += " ENVID=" + encode_xtext(message_.envid);
    }
    if (message_.requiretls) cmd += " REQUIRETLS";
    return cmd + "\r\n";
}

std::string ClientSession::rcpt_command(const OutboundRecipient& r) const {
    std::string cmd = "RCPT TO:<" + r.address + ">";
    if (caps_.dsn) {
        if (r.notify.given()) cmd += " NOTIFY=" + r.notify.str();
        if (!r.orcpt.empty()) {
            auto semi = r.orcpt.find(';');
            cmd +=
                " ORCPT=" + r.orcpt.substr(0, semi) + ";" + encode_xtext(r.orcpt.substr(semi + 1));
        }
    }
    return cmd + "\r\n";
}

void ClientSession::send_message(const OutboundMessage& message) {
    if (state_ != State::kReady) return;
    message_ = message;
    results_.assign(message_.recipients.size(), Reply{});
    after_data_.assign(message_.recipients.size(), false);
    auto refuse_all = [&](Reply r) {
        std::fill(results_.begin(), results_.end(), r);
        emit(ClientActionKind::kDone);
    };
    if (message_.recipients.empty()) return refuse_all(synthetic(554, "5.5.1", "no recipients"));
    // RFC 8689 section 2: the option only in a TLS session whose EHLO reply offered it.
    if (message_.requiretls && !requiretls_offered())
        return refuse_all(synthetic(550, "5.7.30",
                                    tls_active_ ? "REQUIRETLS support required: the receiving "
                                                  "server does not offer REQUIRETLS"
                                                : "REQUIRETLS support required: the session "
                                                  "with the receiving server is not under TLS"));
    if (message_.smtputf8 && !caps_.smtputf8)
        return refuse_all(
            synthetic(553, "5.6.7", "the receiving server does not support SMTPUTF8 (RFC 6531)"));
    if (message_.eight_bit && !caps_.eight_bit_mime)
        return refuse_all(synthetic(
            554, "5.6.3",
            "8-bit message and the receiving server does not support 8BITMIME; conversion "
            "to 7-bit is not supported"));
    if (caps_.size_limit != 0 && message_.size > caps_.size_limit)
        return refuse_all(synthetic(552, "5.3.4",
                                    "message of " + std::to_string(message_.size) +
                                        " octets exceeds the receiving server's limit of " +
                                        std::to_string(caps_.size_limit)));
    state_ = State::kTransaction;
    pipelined_ = options_.use_pipelining && caps_.pipelining;
    chunked_ = options_.use_chunking && caps_.chunking;
    mail_ok_ = false;
    data_sent_ = false;
    needs_rset_ = false;
    next_rcpt_reply_ = 0;
    expected_.clear();
    std::string batch = mail_command();
    expected_.push_back(Expect::kMail);
    ++transactions_;
    if (pipelined_) {
        for (const auto& r : message_.recipients) {
            batch += rcpt_command(r);
            expected_.push_back(Expect::kRcpt);
        }
        next_rcpt_send_ = message_.recipients.size();
        if (!chunked_) {
            batch += "DATA\r\n";
            expected_.push_back(Expect::kData);
            data_sent_ = true;
        }
    }
    send(std::move(batch));
}

void ClientSession::on_transaction_reply(const Reply& reply) {
    if (expected_.empty())
        return fail(synthetic(451, "4.5.0", "unexpected reply: " + reply_line(reply)), "reply");
    if (reply.code == 421) {
        // The server is closing (RFC 5321 3.8): this reply is final for every recipient not
        // already refused, nothing more is sent, and the session is over.
        for (std::size_t i = 0; i < results_.size(); ++i) {
            // Recipients an LMTP server has already answered after the data keep that answer.
            if (!after_data_[i] && (results_[i].code == 0 || results_[i].positive()))
                results_[i] = reply;
        }
        lmtp_owed_.clear();
        lmtp_answered_ = 0;
        expected_.clear();
        state_ = State::kReady;
        emit(ClientActionKind::kDone);
        return fail(reply, "reply");
    }
    Expect what = expected_.front();
    expected_.erase(expected_.begin());
    Reply r = reply;
    if (what == Expect::kRcpt && r.code == 552) {
        // RFC 5321 4.5.3.1.10: 552 to RCPT (too many recipients) is to be taken as temporary.
        r.code = 452;
        if (r.status.size() > 1 && r.status[0] == '5') r.status[0] = '4';
    }
    bool intermediate = r.code >= 300 && r.code < 400;
    if ((what == Expect::kData && r.code != 354 && r.positive()) ||
        ((what == Expect::kDataEnd || what == Expect::kMail || what == Expect::kRcpt) &&
         intermediate)) {
        // Only 354 continues DATA; MAIL, RCPT and the end of data succeed with 2xx only (RFC
        // 5321 4.3.2). A recipient never counts as accepted on a 3xx (with LMTP it would be
        // owed a reply after the data that the server never sends).
        const char* to = what == Expect::kData      ? "DATA: "
                         : what == Expect::kDataEnd ? "the end of data: "
                         : what == Expect::kMail    ? "MAIL FROM: "
                                                    : "RCPT TO: ";
        r = synthetic(451, "4.5.0", std::string("unexpected reply to ") + to + reply_line(reply));
    }
    switch (what) {
        case Expect::kMail:
            mail_ok_ = r.positive();
            if (!mail_ok_) {
                std::fill(results_.begin(), results_.end(), r);
                failure_stage_ = "MAIL FROM";
                if (!pipelined_) return finish_transaction();
                break;  // the pipelined RCPT and DATA replies are still to come
            }
            if (!pipelined_) {
                next_rcpt_send_ = 1;
                expected_.push_back(Expect::kRcpt);
                send(rcpt_command(message_.recipients[0]));
            }
            break;
        case Expect::kRcpt: {
            std::size_t i = next_rcpt_reply_++;
            if (mail_ok_ && i < results_.size()) results_[i] = r;
            if (!pipelined_ && next_rcpt_send_ < message_.recipients.size()) {
                expected_.push_back(Expect::kRcpt);
                send(rcpt_command(message_.recipients[next_rcpt_send_++]));
                break;
            }
            if (next_rcpt_reply_ == message_.recipients.size()) after_recipients();
            break;
        }
        case Expect::kData: {
            bool any = mail_ok_ && std::any_of(results_.begin(), results_.end(),
                                               [](const Reply& x) { return x.positive(); });
            if (r.code == 354) {
                if (any) {
                    expect_data_end();
                    emit(ClientActionKind::kSendBody);
                } else {
                    // The server wants data although nobody was accepted: end it empty.
                    expected_.push_back(Expect::kDataEnd);
                    send(".\r\n");
                    needs_rset_ = true;
                }
                break;
            }
            for (auto& x : results_)
                if (x.positive() && mail_ok_) x = r;
            needs_rset_ = mail_ok_;
            if (expected_.empty()) finish_transaction();
            break;
        }
        case Expect::kDataEnd:
            if (!lmtp_owed_.empty()) {
                // LMTP: this reply is the next accepted recipient's own.
                after_data_[lmtp_owed_[lmtp_answered_]] = true;
                results_[lmtp_owed_[lmtp_answered_++]] = r;
                if (lmtp_answered_ < lmtp_owed_.size()) break;
                lmtp_owed_.clear();
                lmtp_answered_ = 0;
            } else if (!needs_rset_) {
                for (std::size_t i = 0; i < results_.size(); ++i)
                    if (results_[i].positive()) {
                        results_[i] = r;
                        after_data_[i] = true;
                    }
            }
            finish_transaction();
            break;
        case Expect::kRset:
            if (r.code != 250) {
                send("QUIT\r\n");
                return fail(r, "RSET");
            }
            state_ = State::kReady;
            emit(ClientActionKind::kDone);
            break;
    }
}

void ClientSession::after_recipients() {
    if (!mail_ok_) {
        if (!data_sent_) finish_transaction();
        return;  // else wait for the DATA reply
    }
    bool any =
        std::any_of(results_.begin(), results_.end(), [](const Reply& x) { return x.positive(); });
    if (data_sent_) return;  // pipelined DATA: its reply decides
    if (!any) {
        needs_rset_ = true;
        return finish_transaction();
    }
    if (chunked_) {
        expect_data_end();  // RFC 2033 4.3 (RFC 3030 4.1): BDAT LAST is answered as DATA's end
        return emit(ClientActionKind::kSendBody,
                    "BDAT " + std::to_string(message_.size) + " LAST\r\n");
    }
    data_sent_ = true;
    expected_.push_back(Expect::kData);
    send("DATA\r\n");
}

void ClientSession::finish_transaction() {
    // Recipients the server never answered (e.g. after a failed MAIL without pipelining).
    for (auto& x : results_)
        if (x.code == 0) x = synthetic(451, "4.5.0", "no reply for this recipient");
    if (needs_rset_ && expected_.empty()) {
        // Leave the server without an open transaction before the connection is reused.
        needs_rset_ = false;
        expected_.push_back(Expect::kRset);
        send("RSET\r\n");
        return;
    }
    if (!expected_.empty()) return;
    state_ = State::kReady;
    emit(ClientActionKind::kDone);
}

void ClientSession::reset() {
    if (state_ != State::kReady) return;
    state_ = State::kRset;
    send("RSET\r\n");
}

void ClientSession::quit() {
    if (state_ == State::kFailed || state_ == State::kQuit) return;
    state_ = State::kQuit;
    send("QUIT\r\n");
}

}  // namespace tern::smtp
