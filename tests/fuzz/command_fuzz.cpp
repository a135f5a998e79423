// libFuzzer target for the SMTP command side: arbitrary client bytes through split_command and the
// MAIL/RCPT/BDAT/HELO parsers, then through a ServerSession that answers every question it asks.
//
// Input layout: byte 0 picks session options, the top bit of byte 1 the bare LF mode (set:
// reject), the next bit HELO checks (names of even length are refused), the rest of bytes 1-2
// a split point, the rest is what the client sends. Besides "no
// crash", the target checks invariants a driver relies on: replies are well-formed, every begun
// message ends in exactly one commit or abort, nothing follows kClose, parsed paths re-parse to
// themselves, and the session's output does not depend on how the input was split into reads
// (with STARTTLS off, whose discarding is split-dependent by design).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "smtp/command.h"
#include "smtp/server_session.h"

namespace tern::smtp {
namespace {

using fuzz::check;

void check_reply(const Reply& r) {
    check(r.code >= 400 && r.code < 600);
    check(!r.status.empty() && r.status[0] - '0' == r.code / 100);
}

void fuzz_grammar(std::string_view line) {
    CommandLine cmd = split_command(line);
    Offered helo;
    Offered ehlo;
    ehlo.esmtp = true;
    ehlo.auth = true;
    ehlo.max_size = 1000;

    for (const Offered* offered : {&helo, &ehlo}) {
        auto mail = parse_mail(cmd.args, *offered);
        if (!mail) {
            check_reply(mail.error());
        } else if (mail->sender.mailbox) {
            // The path as we would write it parses back to the same mailbox.
            std::string text = mail->sender.str();
            std::string_view view = text;
            auto again = parse_reverse_path(view, true);
            check(again && view.empty() && again->mailbox == mail->sender.mailbox);
            check(!mail->sender.mailbox->utf8 || mail->params.smtputf8);
        }
        for (bool utf8 : {false, true}) {
            auto rcpt = parse_rcpt(cmd.args, *offered, utf8);
            if (!rcpt) {
                check_reply(rcpt.error());
                continue;
            }
            std::string text = rcpt->recipient.str();
            std::string_view view = text;
            auto again = parse_forward_path(view, true);
            check(again && view.empty() && again->mailbox == rcpt->recipient.mailbox);
            check(utf8 || !rcpt->recipient.mailbox.utf8);
        }
    }
    auto bdat = parse_bdat(cmd.args);
    if (bdat) {
        std::string text = std::to_string(bdat->size) + (bdat->last ? " LAST" : "");
        auto again = parse_bdat(text);
        check(again && again->size == bdat->size && again->last == bdat->last);
    } else {
        check_reply(bdat.error());
    }
    if (auto name = parse_helo(cmd.args)) {
        check(!name->empty() && name->find(' ') == std::string_view::npos);
        check(valid_utf8(*name));
    }
}

// What a driver observes of one session.
struct Observed {
    std::string sent;
    std::vector<ActionKind> kinds;  // without kSend and kBodyData, whose grouping varies
    std::vector<std::string> committed;
};

class Driver {
  public:
    explicit Driver(SessionOptions options) : session_(std::move(options)) {
        session_.start();
        pump();
    }

    void feed(std::string_view bytes) {
        session_.receive(bytes);
        pump();
    }

    void finish() {
        session_.timeout();
        pump();
        check(!message_open_);
        check(session_.closed());
    }

    const Observed& observed() const { return seen_; }

  private:
    void pump() {
        while (true) {
            auto actions = session_.take_actions();
            if (actions.empty()) return;
            for (auto& a : actions)
                handle(a);
        }
    }

    void handle(Action& a) {
        check(!closed_);  // nothing after kClose
        if (a.kind != ActionKind::kSend && a.kind != ActionKind::kBodyData)
            seen_.kinds.push_back(a.kind);
        switch (a.kind) {
            case ActionKind::kSend:
                check_wire(a.data);
                seen_.sent += a.data;
                return;
            case ActionKind::kCheckHelo:
                session_.helo_checked(session_.pending_helo().size() % 2 == 0
                                          ? Reply{550, "5.7.1", "HELO name refused"}
                                          : reply(ReplyName::kOk));
                return;
            case ActionKind::kCheckSender:
                session_.sender_checked(reply(ReplyName::kSenderOk));
                return;
            case ActionKind::kCheckRecipient:
                session_.recipient_checked(reply(ReplyName::kRecipientOk));
                return;
            case ActionKind::kBeginMessage:
                check(!message_open_);
                check(!session_.envelope().recipients.empty());
                message_open_ = true;
                body_.clear();
                return;
            case ActionKind::kBodyData:
                check(message_open_);
                body_ += a.data;
                return;
            case ActionKind::kCommitMessage:
                check(message_open_);
                message_open_ = false;
                seen_.committed.push_back(body_);
                session_.message_committed(reply(ReplyName::kQueued, "Ok: queued as F"));
                return;
            case ActionKind::kAbortMessage:
                check(message_open_);
                message_open_ = false;
                return;
            case ActionKind::kStartTls:
                session_.tls_started(true);
                return;
            case ActionKind::kAuthStart:
            case ActionKind::kAuthStep:
                // Decided by the data so that every answer is reached.
                if (a.data.size() % 3 == 0) {
                    session_.auth_challenge("");
                } else if (a.data.size() % 3 == 1) {
                    session_.auth_succeeded("fuzz");
                } else {
                    session_.auth_failed(reply(ReplyName::kAuthFailed));
                }
                return;
            case ActionKind::kClose:
                check(!message_open_);  // a begun message is committed or aborted first
                closed_ = true;
                return;
        }
    }

    // Every line is "ddd" then ' ' or '-' then text, ending in CRLF.
    static void check_wire(std::string_view data) {
        check(!data.empty());
        while (!data.empty()) {
            auto end = data.find("\r\n");
            check(end != std::string_view::npos && end >= 4);
            std::string_view line = data.substr(0, end);
            for (int i = 0; i < 3; ++i)
                check(line[i] >= '0' && line[i] <= '9');
            check(line[0] >= '2' && line[0] <= '5');
            check(line[3] == ' ' || line[3] == '-');
            check(line.find_first_of("\r\n") == std::string_view::npos);
            data.remove_prefix(end + 2);
        }
    }

    ServerSession session_;
    Observed seen_;
    std::string body_;
    bool message_open_ = false;
    bool closed_ = false;
};

SessionOptions options_from(std::uint8_t bits, BareLf bare_lf, bool check_helo) {
    SessionOptions o;
    o.limits.bare_lf = bare_lf;
    o.check_helo = check_helo;
    o.hostname = "mx.fuzz.example";
    o.starttls = bits & 0x01;
    o.tls_active = bits & 0x02;
    if (bits & 0x04) o.auth_mechanisms = {"PLAIN", "LOGIN"};
    o.auth_needs_tls = bits & 0x08;
    o.auth_required = bits & 0x10;
    o.tls_required = (bits & 0x21) == 0x21;
    if (bits & 0x40) {
        o.limits.max_command_line = 40;
        o.limits.max_text_line = 20;
        o.limits.max_message_size = 100;
        o.limits.max_recipients = 2;
        o.limits.max_auth_line = 30;
        o.limits.max_transactions = 2;
    }
    o.limits.max_errors = bits & 0x80 ? 0 : 10;
    return o;
}

}  // namespace
}  // namespace tern::smtp

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace tern::smtp;
    if (size < 3) return 0;
    std::uint8_t bits = data[0];
    BareLf bare_lf = (data[1] & 0x80) != 0 ? BareLf::kReject : BareLf::kNormalize;
    bool check_helo = (data[1] & 0x40) != 0;
    std::size_t cut = (static_cast<std::size_t>(data[1] & 0x3F) << 8) | data[2];
    std::string_view input(reinterpret_cast<const char*>(data) + 3, size - 3);
    cut = input.empty() ? 0 : cut % (input.size() + 1);

    // The grammar, one line at a time.
    std::string_view rest = input;
    while (!rest.empty()) {
        auto end = rest.find('\n');
        std::string_view line = rest.substr(0, end);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        fuzz_grammar(line);
        rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    }

    // The session, with the options as given.
    {
        Driver d(options_from(bits, bare_lf, check_helo));
        d.feed(input);
        d.finish();
    }

    // The same bytes in one read and in two must look the same to the client and the spool.
    SessionOptions options = options_from(bits, bare_lf, check_helo);
    options.starttls = false;
    Driver whole(options);
    whole.feed(input);
    Driver split(options);
    split.feed(input.substr(0, cut));
    split.feed(input.substr(cut));
    const Observed& a = whole.observed();
    const Observed& b = split.observed();
    check(a.sent == b.sent);
    check(a.kinds == b.kinds);
    check(a.committed == b.committed);
    whole.finish();
    split.finish();
    return 0;
}
