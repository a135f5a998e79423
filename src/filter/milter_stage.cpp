// MilterStage: keeps the body (up to max_body) as it streams in, talks to the filter from the end
// hook, where the header fields already carry the earlier stages' edits (and the envelope and body
// the earlier milters' changes), and turns the filter's answer into a verdict and into header
// edits, envelope changes and a body replacement on the MessageView.
#include "filter/milter_stage.h"

#include <algorithm>
#include <boost/asio/this_coro.hpp>

#include "base/text.h"
#include "smtp/replies.h"

namespace tern::filter {
namespace asio = boost::asio;
using milter::Response;
using Kind = Response::Kind;
using Decision = MilterOutcome::Decision;

namespace {

std::string client_name_of(const pipeline::SessionInfo& s) {
    return s.client_name.empty() ? "unknown" : s.client_name;
}

bool is_wsp(char c) {
    return c == ' ' || c == '\t';
}

// The action a response needs granted in negotiation, and its name for the log.
std::pair<std::uint32_t, std::string_view> needs(Kind kind) {
    using namespace milter;
    switch (kind) {
        case Kind::kAddHeader:
            return {kAddHeaders, "addheader"};
        case Kind::kInsertHeader:
            return {kAddHeaders, "insheader"};
        case Kind::kChangeHeader:
            return {kChangeHeaders, "chgheader"};
        case Kind::kQuarantine:
            return {milter::kQuarantine, "quarantine"};
        case Kind::kAddRecipient:
            return {kAddRecipient, "addrcpt"};
        case Kind::kAddRecipientWithArgs:
            return {kAddRecipientWithArgs, "addrcpt_par"};
        case Kind::kDeleteRecipient:
            return {kDeleteRecipient, "delrcpt"};
        case Kind::kChangeFrom:
            return {kChangeFrom, "chgfrom"};
        case Kind::kReplaceBody:
            return {kChangeBody, "replbody"};
        default:
            return {0, "?"};
    }
}

class MilterFilter : public pipeline::MessageFilter {
  public:
    MilterFilter(MilterStage& stage, const spool::Message& envelope)
        : stage_(stage), envelope_(envelope) {}

    void on_body_replaced(std::string_view body) override {
        // An earlier milter's replacement is what this one is given, as Postfix passes it on.
        too_large_ = body.size() > stage_.settings().max_body;
        if (too_large_)
            std::string().swap(body_);
        else
            body_.assign(body);
    }

    void on_body(std::string_view chunk) override {
        if (too_large_) return;
        if (body_.size() + chunk.size() > stage_.settings().max_body) {
            too_large_ = true;
            std::string().swap(body_);
            return;
        }
        body_.append(chunk);
    }

    asio::awaitable<pipeline::Verdict> on_end(pipeline::MessageView& message) override {
        if (too_large_) {
            log().info("milter_skipped", {{"id", envelope_.id},
                                          {"milter", stage_.name()},
                                          {"reason", "body over max_body"}});
            co_return pipeline::Verdict::next();
        }
        MilterMessage m = milter_message(message.session(), envelope_, message.fields(), body_,
                                         stage_.settings().hostname);
        // The envelope as the milters before this one left it.
        if (!message.envelope_edits().empty()) {
            set_envelope(m, envelope_.id, message.sender(), message.sender_args(),
                         message.recipients());
            const auto& user = message.session().auth_user;
            if (!user.empty()) m.mail_macros.emplace_back("{auth_authen}", user);
        }
        auto ex = co_await asio::this_coro::executor;
        auto outcome =
            co_await run_milter(ex, stage_.settings().client, m, &stage_.conversations());
        std::string().swap(body_);
        if (!outcome) co_return failed(outcome.error());
        co_return apply(*outcome, message);
    }

  private:
    log::Logger& log() { return stage_.log(); }

    pipeline::Verdict failed(const Error& e) {
        bool accept = stage_.settings().accept_on_failure;
        log().warn("milter_failed", {{"id", envelope_.id},
                                     {"milter", stage_.name()},
                                     {"error", e.message},
                                     {"action", accept ? "accept" : "tempfail"}});
        if (accept) return pipeline::Verdict::next();
        return pipeline::Verdict::defer(smtp::reply(smtp::ReplyName::kFilterTemporary),
                                        "milter failed: " + e.message);
    }

    pipeline::Verdict apply(const MilterOutcome& out, pipeline::MessageView& message) {
        switch (out.decision) {
            case Decision::kReject:
                return pipeline::Verdict::reject(smtp::reply(smtp::ReplyName::kFilterRejected),
                                                 "milter reject at " + out.step);
            case Decision::kTempfail:
                return pipeline::Verdict::defer(smtp::reply(smtp::ReplyName::kFilterTemporary),
                                                "milter tempfail at " + out.step);
            case Decision::kDiscard:
                return pipeline::Verdict::discard("milter discard at " + out.step);
            case Decision::kReplyCode:
                return custom_reply(out);
            case Decision::kContinue:
            case Decision::kAccept:
                break;
        }
        // Some recipients refused, others kept: after the dot there is no refusing just those.
        for (const auto& [index, r] : out.refused_recipients)
            log().warn("milter_ignored",
                       {{"id", envelope_.id},
                        {"milter", stage_.name()},
                        {"action", "refuse one recipient"},
                        {"reply", r.kind == Kind::kReplyCode ? r.text
                                  : r.kind == Kind::kReject  ? std::string("reject")
                                                             : std::string("tempfail")}});
        std::string quarantine;
        std::optional<std::string> body;  // the replbody chunks, concatenated
        bool leading_space = (out.steps & milter::kHeaderLeadingSpace) != 0;
        for (const auto& r : out.modifications) {
            auto [action, name] = needs(r.kind);
            if ((out.actions & action) == 0) {
                ignore(name, "not negotiated");
                continue;
            }
            switch (r.kind) {
                case Kind::kAddHeader:
                case Kind::kInsertHeader:
                case Kind::kChangeHeader:
                    edit_header(r, leading_space, message);
                    break;
                case Kind::kQuarantine:
                    quarantine = r.text.empty() ? "quarantined" : r.text;
                    break;
                case Kind::kChangeFrom:
                    message.change_sender(r.text, r.value);
                    break;
                case Kind::kAddRecipient:
                    message.add_recipient(r.text, {});
                    break;
                case Kind::kAddRecipientWithArgs:
                    message.add_recipient(r.text, r.value);
                    break;
                case Kind::kDeleteRecipient:
                    message.delete_recipient(r.text);
                    break;
                case Kind::kReplaceBody:
                    if (!body) body.emplace();
                    body->append(r.value);
                    break;
                default:
                    ignore(name, "not an end-of-message change");
                    break;
            }
        }
        if (body) {
            message.replace_body(crlf_body(*body));
            log().info("milter_body", {{"id", envelope_.id},
                                       {"milter", stage_.name()},
                                       {"octets", message.replaced_body()->size()}});
        }
        if (!quarantine.empty()) return pipeline::Verdict::hold("milter quarantine: " + quarantine);
        return pipeline::Verdict::next();
    }

    pipeline::Verdict custom_reply(const MilterOutcome& out) {
        auto reply = milter::parse_reply_code(out.reply_text);
        if (!reply) return failed(reply.error());
        // Postfix's rules: a 4xx defers, a 5xx rejects; a missing enhanced code gets x.7.1.
        if (reply->status.empty()) reply->status = reply->code >= 500 ? "5.7.1" : "4.7.1";
        std::string why = "milter reply at " + out.step;
        if (reply->code >= 500) return pipeline::Verdict::reject(std::move(*reply), why);
        return pipeline::Verdict::defer(std::move(*reply), why);
    }

    void edit_header(const Response& r, bool leading_space, pipeline::MessageView& message) {
        std::string field = header_field(r.text, r.value, leading_space);
        bool removal = r.kind == Kind::kChangeHeader && r.value.empty();
        if (field.empty() && !removal) {
            ignore(r.kind == Kind::kAddHeader ? "addheader" : "insheader/chgheader",
                   "malformed header field " + r.text);
            return;
        }
        const auto& fields = message.fields();
        if (r.kind == Kind::kAddHeader) {
            message.insert(fields.size(), std::move(field));
        } else if (r.kind == Kind::kInsertHeader) {
            message.insert(std::min<std::size_t>(r.index, fields.size()), std::move(field));
        } else {
            std::size_t at = nth_field(fields, r.text, std::max<std::uint32_t>(r.index, 1));
            if (at == std::string::npos) {
                // Not there: a change adds it (as Sendmail and Postfix do), a removal is done.
                if (!removal) message.insert(fields.size(), std::move(field));
                return;
            }
            message.remove(at);
            if (!removal) message.insert(at, std::move(field));
        }
    }

    void ignore(std::string_view action, const std::string& why) {
        log().warn(
            "milter_ignored",
            {{"id", envelope_.id}, {"milter", stage_.name()}, {"action", action}, {"reason", why}});
    }

    MilterStage& stage_;
    const spool::Message& envelope_;
    std::string body_;
    bool too_large_ = false;
};

}  // namespace

MilterStage::MilterStage(MilterSettings settings, log::Logger& log)
    : settings_(std::move(settings)),
      log_(log),
      name_("milter " + settings_.client.address.str()) {}

std::unique_ptr<pipeline::MessageFilter> MilterStage::start_message(
    const pipeline::SessionInfo&, const spool::Message& envelope) {
    return std::make_unique<MilterFilter>(*this, envelope);
}

MilterMessage milter_message(const pipeline::SessionInfo& session, const spool::Message& envelope,
                             const std::vector<std::string>& fields, std::string_view body,
                             const std::string& hostname) {
    MilterMessage m;
    std::string name = client_name_of(session);
    m.client_address = session.client_ip;
    if (session.client_ip.empty())
        m.family = milter::Family::kUnknown;
    else
        m.family = session.client_ip.find(':') != std::string::npos ? milter::Family::kInet6
                                                                    : milter::Family::kInet4;
    m.client_name = session.client_name.empty() ? "[" + session.client_ip + "]" : name;
    m.helo = session.helo;
    m.connect_macros = {
        {"j", hostname},
        {"{daemon_name}", "tern-" + std::string(pipeline::source_name(session.source))},
        {"_", name + " [" + session.client_ip + "]"},
        {"{client_addr}", session.client_ip},
        {"{client_name}", name}};
    if (!session.tls_version.empty()) m.helo_macros = {{"{tls_version}", session.tls_version}};
    // One RCPT per address the client gave (an alias that expanded counts once).
    std::vector<std::pair<std::string, std::string>> recipients;
    for (const auto& r : envelope.recipients) {
        const std::string& address = r.original.empty() ? r.address : r.original;
        if (std::ranges::find(recipients, address, &std::pair<std::string, std::string>::first) !=
            recipients.end())
            continue;
        recipients.emplace_back(address, std::string());
    }
    set_envelope(m, envelope.id, envelope.sender, {}, recipients);
    if (!session.auth_user.empty()) m.mail_macros.emplace_back("{auth_authen}", session.auth_user);
    m.data_macros = {{"i", envelope.id}};
    m.end_macros = {{"i", envelope.id}};
    for (const auto& raw : fields) {
        std::string_view f = raw;
        auto colon = f.find(':');
        if (colon == std::string_view::npos) continue;
        std::string_view field_name = f.substr(0, colon);
        while (!field_name.empty() && is_wsp(field_name.back()))
            field_name.remove_suffix(1);
        std::string_view value = f.substr(colon + 1);
        if (value.ends_with("\r\n")) value.remove_suffix(2);
        m.headers.emplace_back(std::string(field_name), std::string(value));
    }
    m.body = body;
    return m;
}

namespace {

// ESMTP parameters as the MAIL and RCPT steps pass them: one argument each.
void add_args(std::vector<std::string>& out, std::string_view args) {
    while (!args.empty()) {
        auto sp = args.find(' ');
        if (sp != 0) out.emplace_back(args.substr(0, sp));
        if (sp == std::string_view::npos) break;
        args.remove_prefix(sp + 1);
    }
}

}  // namespace

void set_envelope(MilterMessage& m, const std::string& id, const std::string& sender,
                  const std::string& sender_args,
                  const std::vector<std::pair<std::string, std::string>>& recipients) {
    m.mail_args = {"<" + sender + ">"};
    add_args(m.mail_args, sender_args);
    m.mail_macros = {{"i", id}, {"{mail_addr}", sender}};
    m.rcpt_args.clear();
    m.rcpt_macros.clear();
    for (const auto& [address, args] : recipients) {
        m.rcpt_args.push_back({"<" + address + ">"});
        add_args(m.rcpt_args.back(), args);
        m.rcpt_macros.push_back({{"i", id}, {"{rcpt_addr}", address}});
    }
}

std::string crlf_body(std::string_view body) {
    std::string out;
    out.reserve(body.size() + body.size() / 32 + 2);
    for (std::size_t i = 0; i < body.size(); ++i) {
        char c = body[i];
        if (c == '\r') {
            out += "\r\n";
            if (i + 1 < body.size() && body[i + 1] == '\n') ++i;
        } else if (c == '\n') {
            out += "\r\n";
        } else {
            out += c;
        }
    }
    if (!out.empty() && !out.ends_with("\r\n")) out += "\r\n";
    return out;
}

std::string header_field(std::string_view name, std::string_view value, bool leading_space) {
    if (name.empty()) return {};
    for (char c : name) {
        auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f || c == ':') return {};
    }
    std::string field(name);
    field += ':';
    if (!leading_space && !value.empty() && !is_wsp(value.front())) field += ' ';
    // Folds come as LF or CRLF; each continuation line must be indented and not blank, or the
    // value would end the header section or start a field of its own.
    std::size_t line_start = field.size();
    bool first_line = true;
    for (std::size_t i = 0; i <= value.size(); ++i) {
        bool end = i == value.size();
        char c = end ? '\n' : value[i];
        if (c == '\r') {
            if (i + 1 < value.size() && value[i + 1] == '\n') continue;
            return {};
        }
        if (c == '\0') return {};
        if (c != '\n') {
            field += c;
            continue;
        }
        std::string_view line = std::string_view(field).substr(line_start);
        if (!first_line && (line.empty() || !is_wsp(line.front()) ||
                            line.find_first_not_of(" \t") == std::string_view::npos))
            return {};
        field += "\r\n";
        line_start = field.size();
        first_line = false;
    }
    return field;
}

std::size_t nth_field(const std::vector<std::string>& fields, std::string_view name,
                      std::uint32_t nth) {
    std::uint32_t seen = 0;
    for (std::size_t i = 0; i < fields.size(); ++i) {
        std::string_view f = fields[i];
        auto colon = f.find(':');
        if (colon == std::string_view::npos) continue;
        std::string_view n = f.substr(0, colon);
        while (!n.empty() && is_wsp(n.back()))
            n.remove_suffix(1);
        if (ascii_iequals(n, name) && ++seen == nth) return i;
    }
    return std::string::npos;
}

}  // namespace tern::filter
