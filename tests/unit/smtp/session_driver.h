// SessionDriver: plays the coroutine driver of a ServerSession in tests, answering its questions
// by policy and recording what a client and the spool would see (reply bytes, body, actions).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smtp/server_session.h"

namespace tern::smtp::test {

inline SessionOptions default_options() {
    SessionOptions o;
    o.hostname = "mx.example";
    return o;
}

// The default options with a bare LF taken as `mode` says.
inline SessionOptions options_with(BareLf mode) {
    SessionOptions o = default_options();
    o.limits.bare_lf = mode;
    return o;
}

inline std::string crlf(std::string_view line) {
    return std::string(line) + "\r\n";
}

// "503 5.5.1" for each complete reply in `sent` (its last line), joined with ", ".
// The enhanced status is included when the reply carries one.
inline std::string codes(std::string_view sent) {
    auto is_status = [](std::string_view w) {
        int dots = 0;
        if (w.size() < 5 || (w[0] != '2' && w[0] != '4' && w[0] != '5') || w[1] != '.')
            return false;
        for (char c : w) {
            if (c == '.') {
                ++dots;
            } else if (c < '0' || c > '9') {
                return false;
            }
        }
        return dots == 2 && w.back() != '.';
    };
    std::string out;
    while (!sent.empty()) {
        auto end = sent.find("\r\n");
        std::string_view line = sent.substr(0, end);
        sent = end == std::string_view::npos ? std::string_view{} : sent.substr(end + 2);
        if (line.size() > 3 && line[3] == '-') continue;  // not the last line of its reply
        if (!out.empty()) out += ", ";
        out += line.substr(0, 3);
        std::string_view rest = line.size() > 4 ? line.substr(4) : std::string_view{};
        std::string_view word = rest.substr(0, rest.find(' '));
        if (is_status(word)) {
            out += ' ';
            out += word;
        }
    }
    return out;
}

class SessionDriver {
  public:
    explicit SessionDriver(SessionOptions options = default_options(), bool greet = true)
        : session(std::move(options)) {
        if (greet) {
            session.start();
            pump();
        }
    }

    // Feeds `bytes` as one read from the socket; returns the reply bytes this caused.
    std::string feed(std::string_view bytes) {
        std::size_t before = sent.size();
        session.receive(bytes);
        pump();
        return sent.substr(before);
    }

    // Sends one command line (CRLF added) and returns the replies it caused.
    std::string cmd(std::string_view line) { return feed(crlf(line)); }

    // Like feed(), but in pieces of `step` octets, each a separate receive().
    std::string feed_in_pieces(std::string_view bytes, std::size_t step) {
        std::size_t before = sent.size();
        for (std::size_t i = 0; i < bytes.size(); i += step) {
            session.receive(bytes.substr(i, step));
            pump();
        }
        return sent.substr(before);
    }

    // Runs every pending action, answering questions whose policy gives an answer.
    void pump() {
        while (true) {
            auto batch = session.take_actions();
            if (batch.empty()) return;
            for (auto& a : batch)
                handle(a);
        }
    }

    std::size_t count(ActionKind kind) const {
        std::size_t n = 0;
        for (auto k : actions)
            if (k == kind) ++n;
        return n;
    }

    // Questions left unanswered by a policy returning nullopt are answered by the test itself.
    std::function<std::optional<Reply>(const MailCommand&)> sender_policy = [](const MailCommand&) {
        return std::optional<Reply>(reply(ReplyName::kSenderOk));
    };
    std::function<std::optional<Reply>(const RcptCommand&)> recipient_policy =
        [](const RcptCommand&) { return std::optional<Reply>(reply(ReplyName::kRecipientOk)); };
    std::function<std::optional<Reply>(const std::string&)> helo_policy = [](const std::string&) {
        return std::optional<Reply>(reply(ReplyName::kOk));
    };
    std::function<std::optional<Reply>()> commit_policy = [] {
        return std::optional<Reply>(reply(ReplyName::kQueued, "Ok: queued as X"));
    };
    std::optional<bool> tls_answer = true;
    // Called with the client's SASL data; it answers through session.auth_*() or leaves it.
    std::function<void(ServerSession&, const std::string&)> auth_policy;

    ServerSession session;
    std::string sent;                          // every reply byte, in order
    std::string body;                          // body bytes of the message under way
    std::vector<std::string> messages;         // bodies handed over with kCommitMessage
    std::vector<Envelope> envelopes;           // envelope() at each kBeginMessage
    std::vector<std::string> protocols;        // protocol() at each kBeginMessage
    std::vector<ActionKind> actions;           // kinds of every action, in order
    std::vector<std::string> checked_senders;  // sender of each kCheckSender, as "<a@b>"
    std::vector<MailParams> checked_params;    // parameters of each kCheckSender
    std::vector<std::string> checked_recipients;
    std::vector<std::string> checked_helos;  // name of each kCheckHelo
    std::vector<std::string> auth_steps;     // data of each kAuthStart and kAuthStep
    std::size_t auth_starts = 0;             // kAuthStart actions (new SASL exchanges)

  private:
    void handle(Action& a) {
        actions.push_back(a.kind);
        switch (a.kind) {
            case ActionKind::kSend:
                sent += a.data;
                return;
            case ActionKind::kCheckHelo: {
                checked_helos.push_back(session.pending_helo());
                if (auto r = helo_policy(session.pending_helo())) session.helo_checked(*r);
                return;
            }
            case ActionKind::kCheckSender: {
                checked_senders.push_back(session.pending_mail().sender.str());
                checked_params.push_back(session.pending_mail().params);
                if (auto r = sender_policy(session.pending_mail())) session.sender_checked(*r);
                return;
            }
            case ActionKind::kCheckRecipient: {
                checked_recipients.push_back(session.pending_recipient().recipient.str());
                if (auto r = recipient_policy(session.pending_recipient()))
                    session.recipient_checked(*r);
                return;
            }
            case ActionKind::kBeginMessage:
                body.clear();
                envelopes.push_back(session.envelope());
                protocols.push_back(session.protocol());
                return;
            case ActionKind::kBodyData:
                body += a.data;
                return;
            case ActionKind::kCommitMessage: {
                messages.push_back(body);
                if (auto r = commit_policy()) session.message_committed(*r);
                return;
            }
            case ActionKind::kAbortMessage:
                body.clear();
                return;
            case ActionKind::kStartTls:
                if (tls_answer) session.tls_started(*tls_answer);
                return;
            case ActionKind::kAuthStart:
                ++auth_starts;
                [[fallthrough]];
            case ActionKind::kAuthStep:
                auth_steps.push_back(a.data);
                if (auth_policy) auth_policy(session, a.data);
                return;
            case ActionKind::kClose:
                return;
        }
    }
};

// A session past EHLO, ready for MAIL.
inline SessionDriver after_ehlo(SessionOptions options = default_options()) {
    SessionDriver d(std::move(options));
    d.cmd("EHLO client.example");
    return d;
}

// A transaction ready for DATA or BDAT.
inline SessionDriver in_transaction(SessionOptions options = default_options()) {
    auto d = after_ehlo(std::move(options));
    d.cmd("MAIL FROM:<a@a.example>");
    d.cmd("RCPT TO:<b@b.example>");
    return d;
}

// A message under way: DATA answered 354.
inline SessionDriver in_data(SessionOptions options = default_options()) {
    auto d = in_transaction(std::move(options));
    d.cmd("DATA");
    return d;
}

}  // namespace tern::smtp::test
