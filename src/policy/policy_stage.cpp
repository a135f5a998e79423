// PolicyStage: DNSBL/DNSWL scores asked in parallel, and rate limits taken from the store, each
// decision logged with what decided it.
#include "policy/policy_stage.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "base/text.h"
#include "dns/records.h"

namespace tern::policy {
namespace asio = boost::asio;
using pipeline::Verdict;

namespace {

// The answers of several lookups, asked at once; the last to arrive wakes the asker.
struct Gather {
    explicit Gather(asio::any_io_executor ex, std::size_t n)
        : answers(n), left(n), done(ex, asio::steady_timer::time_point::max()) {}
    std::vector<dns::Answer> answers;
    std::size_t left;
    asio::steady_timer done;
};

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items)
        out += (out.empty() ? "" : ",") + item;
    return out;
}

std::string domain_of(const smtp::MailCommand& mail) {
    if (!mail.sender.mailbox) return "<>";
    return ascii_lower(mail.sender.mailbox->domain);
}

}  // namespace

unsigned PolicyStage::hooks_for(const PolicyOptions& o) {
    unsigned hooks = 0;
    if (!o.client_connections.off()) hooks |= pipeline::kOnConnect;
    if (!o.client_messages.off() || !o.account_messages.off() || !o.sender_domain_messages.off())
        hooks |= pipeline::kOnMail;
    if (!o.dnsbl_sites.empty() || !o.client_recipients.off() || !o.account_recipients.off() ||
        o.greylist)
        hooks |= pipeline::kOnRcpt;
    return hooks;
}

PolicyStage::PolicyStage(PolicyOptions options, Lookup lookup, std::shared_ptr<PolicyStore> store,
                         log::Logger& log)
    : options_(std::move(options)),
      lookup_(std::move(lookup)),
      store_(std::move(store)),
      log_(log),
      hooks_(hooks_for(options_)) {}

asio::awaitable<ListScore> PolicyStage::score(const std::string& client_ip) {
    ListScore out;
    const auto& sites = options_.dnsbl_sites;
    std::vector<std::string> names;
    for (const auto& site : sites)
        names.push_back(dnsbl_query_name(client_ip, site.domain).value_or(""));
    if (names.empty() || names.front().empty()) co_return out;
    auto ex = co_await asio::this_coro::executor;
    auto gather = std::make_shared<Gather>(ex, names.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
        asio::co_spawn(
            ex,
            [this, gather, i, name = names[i]]() -> asio::awaitable<void> {
                gather->answers[i] = co_await lookup_(name, dns::RecordType::kA);
                if (--gather->left == 0) gather->done.cancel();
            },
            asio::detached);
    }
    if (gather->left > 0) co_await gather->done.async_wait(asio::as_tuple(asio::use_awaitable));
    for (std::size_t i = 0; i < sites.size(); ++i) {
        const auto& answer = gather->answers[i];
        if (answer.status != dns::Answer::Status::kOk) continue;  // not listed, or unknown
        std::vector<std::string> addresses;
        for (const auto& rdata : answer.rdata)
            if (auto a = dns::parse_a(rdata)) addresses.push_back(*a);
        auto judged = judge_answer(sites[i], addresses);
        if (judged.error)
            log_.warn("dnsbl_refused", {{"site", sites[i].domain},
                                        {"client", client_ip},
                                        {"why",
                                         "answered 127.255.255.x: the list refuses "
                                         "this resolver's queries"}});
        if (!judged.listed) continue;
        out.score += sites[i].weight;
        out.listed_by.push_back(sites[i].domain + "*" + std::to_string(sites[i].weight));
        if (sites[i].weight > 0 && out.first_block.empty()) {
            out.first_block = sites[i].domain;
            auto txt = co_await lookup_(names[i], dns::RecordType::kTxt);
            if (txt.status == dns::Answer::Status::kOk && !txt.rdata.empty())
                if (auto text = dns::parse_txt(txt.rdata.front())) out.first_block_text = *text;
        }
    }
    co_return out;
}

asio::awaitable<bool> PolicyStage::within(const std::string& kind, const std::string& who,
                                          const Rate& rate, const pipeline::SessionInfo& session) {
    if (rate.off()) co_return true;
    bool ok = co_await store_->take(kind + ":" + who, rate, PolicyStore::Clock::now());
    if (!ok)
        log_.info("rate_limited", {{"client", session.client_ip},
                                   {"limit", kind},
                                   {"key", who},
                                   {"rate", rate.describe()}});
    co_return ok;
}

Verdict PolicyStage::over(const std::string& kind, const std::string& who, const Rate& rate,
                          smtp::ReplyName name) {
    auto r = smtp::reply(name);
    r.text += " (" + kind + " " + who + ": at most " + rate.describe() + ")";
    return Verdict::defer(std::move(r), kind + " rate " + rate.describe() + " exceeded by " + who);
}

asio::awaitable<Verdict> PolicyStage::on_connect(const pipeline::SessionInfo& session) {
    if (session.trusted) co_return Verdict::next();
    const auto& rate = options_.client_connections;
    if (!co_await within("client_connections", session.client_ip, rate, session))
        co_return over("connections from", session.client_ip, rate,
                       smtp::ReplyName::kConnectionRate);
    co_return Verdict::next();
}

asio::awaitable<Verdict> PolicyStage::on_mail(const pipeline::SessionInfo& session,
                                              const smtp::MailCommand& mail) {
    using smtp::ReplyName;
    if (!session.trusted &&
        !co_await within("client_messages", session.client_ip, options_.client_messages, session))
        co_return over("messages from", session.client_ip, options_.client_messages,
                       ReplyName::kRateLimited);
    if (!session.auth_user.empty() &&
        !co_await within("account_messages", session.auth_user, options_.account_messages, session))
        co_return over("messages from account", session.auth_user, options_.account_messages,
                       ReplyName::kRateLimited);
    std::string domain = domain_of(mail);
    if (!co_await within("sender_domain_messages", domain, options_.sender_domain_messages,
                         session))
        co_return over("messages from sender domain", domain, options_.sender_domain_messages,
                       ReplyName::kRateLimited);
    co_return Verdict::next();
}

asio::awaitable<Verdict> PolicyStage::on_rcpt(const pipeline::SessionInfo& session,
                                              const smtp::MailCommand& mail,
                                              const smtp::RcptCommand& rcpt) {
    using smtp::ReplyName;
    Verdict pass = Verdict::next();  // what an accepted RCPT gets: the list score, in score mode
    if (!session.trusted && !options_.dnsbl_sites.empty()) {
        auto listed = co_await score(session.client_ip);
        if (options_.listed_action == ListedAction::kScore && !listed.listed_by.empty())
            pass.scores.push_back(pipeline::ScoreItem{"dnsbl", static_cast<double>(listed.score)});
        bool allowed =
            options_.allowlist_threshold < 0 && listed.score <= options_.allowlist_threshold;
        if (!listed.listed_by.empty())
            log_.info("dnsbl", {{"client", session.client_ip},
                                {"score", listed.score},
                                {"lists", joined(listed.listed_by)},
                                {"to", rcpt.recipient.str()},
                                {"allowlisted", allowed}});
        if (!allowed && listed.score >= options_.dnsbl_threshold &&
            options_.listed_action != ListedAction::kLog &&
            options_.listed_action != ListedAction::kScore) {
            bool reject = options_.listed_action == ListedAction::kReject;
            auto r = smtp::reply(reject ? ReplyName::kClientListed : ReplyName::kClientListedTemp);
            // Postfix's wording, which senders' postmasters know how to read.
            r.text +=
                "; Client host [" + session.client_ip + "] blocked using " +
                (listed.first_block.empty() ? std::string("the local lists") : listed.first_block);
            if (!listed.first_block_text.empty()) r.text += "; " + listed.first_block_text;
            std::string why = "DNSBL score " + std::to_string(listed.score);
            co_return reject ? Verdict::reject(std::move(r), why)
                             : Verdict::defer(std::move(r), why);
        }
        if (allowed) co_return pass;  // allow-listed: no per-address limits either
    }
    if (!session.trusted && !co_await within("client_recipients", session.client_ip,
                                             options_.client_recipients, session))
        co_return over("recipients from", session.client_ip, options_.client_recipients,
                       ReplyName::kRateLimited);
    if (!session.auth_user.empty() && !co_await within("account_recipients", session.auth_user,
                                                       options_.account_recipients, session))
        co_return over("recipients from account", session.auth_user, options_.account_recipients,
                       ReplyName::kRateLimited);
    if (options_.greylist && !session.trusted) {
        std::string sender = mail.sender.mailbox ? mail.sender.mailbox->str() : "";
        // The client is greylisted by its network, or by its sender's domain when SPF vouches
        // for the client (the stores key a non-address as it is).
        std::string client = session.client_ip;
        if (options_.greylist_by_spf && options_.spf_pass_domain && !sender.empty()) {
            std::string domain = co_await options_.spf_pass_domain(session, sender);
            if (!domain.empty()) client = "spf:" + ascii_lower(domain);
        }
        auto d = co_await store_->greylist(client, sender, rcpt.recipient.mailbox.str(),
                                           PolicyStore::Clock::now());
        if (!d.pass) {
            auto r = smtp::reply(ReplyName::kGreylisted);
            r.text += ", try again in " + std::to_string(d.wait.count()) + " seconds";
            log_.info("greylisted", {{"client", session.client_ip},
                                     {"from", sender.empty() ? "<>" : sender},
                                     {"to", rcpt.recipient.str()},
                                     {"why", d.why},
                                     {"wait", d.wait.count()},
                                     {"key", client_network(client)}});
            co_return Verdict::defer(std::move(r), std::string("greylisted (") + d.why + ")");
        }
    }
    co_return pass;
}

}  // namespace tern::policy
