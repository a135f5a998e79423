// MessageApi: from a checked request to committed messages. Everything that can refuse the whole
// request (key, JSON, templates, sender domain) is decided before the first spool file is made;
// what can fail for one recipient (a substitution that breaks a header, a stage's verdict) fails
// for that one only. Files are committed in rounds of kCommitRound, so a 10,000-recipient request
// neither holds 10,000 open files nor waits for 10,000 syncs.
#include "api/message_api.h"

#include <algorithm>
#include <boost/beast/http/field.hpp>
#include <chrono>
#include <map>

#include "api/api_auth.h"
#include "api/template.h"
#include "auth/crypto.h"
#include "base/text.h"
#include "base/unix_time.h"
#include "message/address_list.h"
#include "message/header_split.h"
#include "message/header_text.h"
#include "message/mime_builder.h"
#include "message/received.h"
#include "smtp/address.h"
#include "smtp/command.h"
#include "smtp/reply_parser.h"

namespace tern::api {
namespace asio = boost::asio;
using nlohmann::json;

namespace {

constexpr std::size_t kCommitRound = 256;
// A round also ends when its messages hold this much text: large attachments to many
// recipients are not all held in memory at once.
constexpr std::uint64_t kRoundBytes = 32 * 1024 * 1024;

// The outcome for one recipient of the request, in request order.
struct RecipientResult {
    std::string address;
    std::string id;     // the queue id when queued
    std::string error;  // why not, when not
    bool temporary = false;
    bool discarded = false;                           // accepted and dropped by a stage's verdict
    std::optional<suppress::Suppression> suppressed;  // its entry on the suppression list
};

// Tells `sent` (without waiting) who sent each message queued, so that the reports that come
// back about it are events of the same sender and key (docs/feedback.md).
void remember_senders(feedback::SentIndex& sent, log::Logger& log, std::int64_t retention,
                      const std::vector<RecipientResult>& results, const std::string& sender,
                      const std::string& key_name, std::int64_t now) {
    std::vector<feedback::SentOrigin> rows;
    std::map<std::string, std::size_t> row_of;  // queue id -> index in rows
    for (const auto& r : results) {
        if (r.id.empty() || !r.error.empty()) continue;
        auto [at, added] = row_of.emplace(r.id, rows.size());
        if (added) rows.push_back({r.id, sender, "http", key_name, now, {}});
        rows[at->second].recipients.push_back(r.address);
    }
    if (rows.empty()) return;
    sent.submit([rows = std::move(rows), now, retention, &log](Result<feedback::SentDb*> db) {
        Result<void> added =
            db ? (*db)->add(rows, now, retention) : Result<void>(std::unexpected(db.error()));
        if (!added)
            log.error("sent_index", {{"error", added.error().message}, {"messages", rows.size()}});
    });
}

// A message to spool: its text and the recipients of the request it goes to.
struct Draft {
    std::string text;
    std::vector<std::size_t> recipients;  // indexes into the request's `to`
    std::unique_ptr<spool::MessageWriter> writer;
    bool hold = false;
};

struct Templates {
    std::optional<Template> subject, text, html;
};

}  // namespace

MessageApi::MessageApi(MessageApiOptions options, auth::ApiKeyStore& keys,
                       spool::Injector& injector, const policy::RecipientPolicy& recipients,
                       MessageApiServices services, log::Logger& log)
    : options_(std::move(options)),
      keys_(keys),
      injector_(injector),
      recipients_(recipients),
      stages_(services.stages),
      suppressions_(services.suppressions),
      events_(services.events),
      idempotency_(services.idempotency),
      sent_(services.sent),
      unsubscribe_(services.unsubscribe),
      log_(log) {}

void MessageApi::mount(http::HttpServer& server) {
    server.route(http::Verb::post, "/api/v1/messages",
                 [this](const http::Request& request,
                        const http::Peer& peer) -> asio::awaitable<http::Response> {
                     co_return co_await post_messages(request, peer);
                 });
}

asio::awaitable<http::Response> MessageApi::post_messages(const http::Request& request,
                                                          const http::Peer& peer) {
    auto key = authenticate(request, peer, keys_, log_);
    if (!key) co_return std::move(key.error());
    auto header = request.find("Idempotency-Key");
    if (header == request.end() || !idempotency_)
        co_return co_await send_messages(request, peer, *key);

    // RFC 8941 sf-string in the draft; a bare token is accepted as well.
    std::string_view given = header->value();
    if (given.size() >= 2 && given.front() == '"' && given.back() == '"')
        given = given.substr(1, given.size() - 2);
    if (!valid_idempotency_key(given))
        co_return http::json_error(http::Status::bad_request,
                                   "must be 1 to 255 visible ASCII characters", "Idempotency-Key");
    std::string idem(given);
    std::string owner = key->name;
    std::string digest = hex_lower(auth::sha256(request.body()));
    std::int64_t retention = options_.idempotency_retention;
    // Jobs are named locals, not temporaries of the co_await expression (g++ 12).
    auto claim_job = [owner, idem, digest, retention](Result<IdempotencyDb*> db) {
        if (!db) return Result<IdempotencyClaim>(std::unexpected(db.error()));
        return (*db)->begin(owner, idem, digest, unix_now(), retention);
    };
    auto claim = co_await idempotency_->async_run<Result<IdempotencyClaim>>(std::move(claim_job),
                                                                            asio::use_awaitable);
    if (!claim) {
        log_.error("idempotency", {{"error", claim.error().message}});
        co_return http::json_error(http::Status::service_unavailable,
                                   "the idempotency keys cannot be used now");
    }
    using Kind = IdempotencyClaim::Kind;
    if (claim->kind == Kind::kRunning)
        co_return http::json_error(http::Status::conflict,
                                   "a request with this key is still being answered",
                                   "Idempotency-Key");
    if (claim->kind == Kind::kMismatch)
        co_return http::json_error(http::Status::unprocessable_entity,
                                   "this key was used with another request body",
                                   "Idempotency-Key");
    if (claim->kind == Kind::kDone) {
        auto again = http::json_response(static_cast<http::Status>(claim->status), claim->body);
        again.set("Idempotent-Replayed", "true");
        co_return again;
    }
    std::exception_ptr failed;
    http::Response response;
    try {
        response = co_await send_messages(request, peer, *key);
    } catch (...) {
        failed = std::current_exception();
    }
    // Kept: the answers that follow from the body, with the messages they name on disk. Not
    // kept: "try again" (503), and the answers about the request rather than its body (a
    // Content-Type, a domain the key may not use yet): the fixed retry must run.
    auto result = response.result();
    bool keep = !failed && result != http::Status::service_unavailable &&
                result != http::Status::unsupported_media_type &&
                result != http::Status::forbidden && response.result_int() < 500;
    std::string body = keep ? response.body() : std::string();
    int status = static_cast<int>(response.result_int());
    auto store_job = [owner, idem, keep, status, body](Result<IdempotencyDb*> db) {
        if (!db) return Result<void>(std::unexpected(db.error()));
        if (!keep) return (*db)->abandon(owner, idem);
        // An answer that cannot be kept must not leave the key "running" (409 for ever).
        auto kept = (*db)->finish(owner, idem, status, body);
        if (!kept) (void)(*db)->abandon(owner, idem);
        return kept;
    };
    auto stored =
        co_await idempotency_->async_run<Result<void>>(std::move(store_job), asio::use_awaitable);
    if (!stored) log_.error("idempotency", {{"error", stored.error().message}});
    if (failed) std::rethrow_exception(failed);
    co_return response;
}

asio::awaitable<http::Response> MessageApi::send_messages(const http::Request& request,
                                                          const http::Peer& peer,
                                                          const auth::ApiKey& key) {
    if (auto type = request.find(boost::beast::http::field::content_type);
        type != request.end() && !ascii_lower(type->value()).starts_with("application/json"))
        co_return http::json_error(http::Status::unsupported_media_type,
                                   "the body must be application/json");

    auto parsed = parse_message_request(request.body(), options_.limits);
    if (!parsed)
        co_return http::json_error(http::Status::bad_request, parsed.error().message,
                                   parsed.error().field);
    MessageRequest& r = *parsed;
    if (r.unsubscribe && (!unsubscribe_ || options_.unsubscribe_url.empty()))
        co_return http::json_error(http::Status::bad_request,
                                   "one-click unsubscribe is not configured on this server "
                                   "([feedback] unsubscribe_url and secrets)",
                                   "unsubscribe");
    if (r.unsubscribe && !r.raw.empty())
        co_return http::json_error(http::Status::bad_request,
                                   "cannot be given with \"raw\": each recipient needs a message "
                                   "of its own",
                                   "unsubscribe");

    // The sender domains: From (every address of a raw message's From field) and the envelope.
    std::vector<std::pair<std::string, std::string>> senders;  // address, field
    std::string envelope_sender = r.sender;
    bool raw_utf8_header = false;  // a raw message's header section has UTF-8 (RFC 6532)
    if (!r.raw.empty()) {
        r.raw = message::to_crlf(r.raw);
        // A bare CR is a line end to some readers: a From field hidden behind one would pass
        // the check below and show as a second From there.
        for (std::size_t i = 0; i < r.raw.size(); ++i) {
            if (r.raw[i] == '\0' ||
                (r.raw[i] == '\r' && (i + 1 == r.raw.size() || r.raw[i + 1] != '\n')))
                co_return http::json_error(http::Status::bad_request,
                                           "a NUL or a CR without LF in the message", "raw");
        }
        auto split = message::split_header(r.raw);
        for (const auto& f : split.fields)
            if (!message::is_ascii(f)) raw_utf8_header = true;
        auto from = message::field_values(split.fields, "From");
        if (from.size() != 1)
            co_return http::json_error(http::Status::bad_request,
                                       "the message needs exactly one From field", "raw");
        auto addresses = message::parse_address_list(from.front());
        if (addresses.addresses.empty() || !addresses.invalid.empty())
            co_return http::json_error(http::Status::bad_request,
                                       "the From field has no valid address", "raw");
        for (const auto& a : addresses.addresses)
            senders.emplace_back(a, "raw");
        if (envelope_sender.empty()) {
            auto mailbox = smtp::parse_mailbox(addresses.addresses.front(), true);
            if (!mailbox)
                co_return http::json_error(http::Status::bad_request,
                                           "the From address cannot be the envelope sender; "
                                           "give \"sender\"",
                                           "raw");
            envelope_sender = mailbox->str();
        }
    } else {
        senders.emplace_back(r.from.address, "from");
        if (envelope_sender.empty()) envelope_sender = r.from.address;
    }
    if (!r.sender.empty()) senders.emplace_back(r.sender, "sender");
    for (const auto& [address, field] : senders) {
        std::string domain = smtp::domain_of(address);
        if (!key.allows(domain)) {
            log_.warn("api_refused", {{"client", peer.address.to_string()},
                                      {"key", key.name},
                                      {"reason", "sender domain " + domain}});
            co_return http::json_error(http::Status::forbidden,
                                       "the key '" + key.name + "' may not send from " + domain,
                                       field);
        }
    }

    Templates templates;
    if (r.templated) {
        for (auto [field, text, escape, slot] :
             {std::tuple{"subject", &r.subject, Template::Escape::kNone, &templates.subject},
              std::tuple{"text", &r.text, Template::Escape::kNone, &templates.text},
              std::tuple{"html", &r.html, Template::Escape::kHtml, &templates.html}}) {
            if (text->empty()) continue;
            auto compiled = Template::compile(*text, escape, options_.max_template_depth);
            if (!compiled)
                co_return http::json_error(http::Status::bad_request,
                                           "template error: " + compiled.error(), field);
            slot->emplace(std::move(*compiled));
        }
    }

    std::vector<RecipientResult> results(r.to.size());
    for (std::size_t i = 0; i < r.to.size(); ++i)
        results[i].address = r.to[i].address;

    // Suppressed recipients are refused before anything is made. A list that cannot be read
    // refuses the request for now: mailing someone who unsubscribed is worse than a retry.
    if (suppressions_) {
        std::vector<std::string> addresses;
        addresses.reserve(r.to.size());
        for (const auto& to : r.to)
            addresses.push_back(suppress::normalize_address(to.address));
        using Found = Result<std::vector<std::optional<suppress::Suppression>>>;
        // Named, not a temporary of the co_await expression (g++ 12 destroys those twice).
        auto lookup = [addresses = std::move(addresses)](Result<suppress::SuppressionDb*> db) {
            if (!db) return Found(std::unexpected(db.error()));
            return (*db)->find("", addresses);
        };
        auto found =
            co_await suppressions_->async_run<Found>(std::move(lookup), asio::use_awaitable);
        if (!found || found->size() != r.to.size()) {
            log_.error("suppression", {{"error", found ? "short answer" : found.error().message}});
            co_return http::json_error(http::Status::service_unavailable,
                                       "the suppression list cannot be read now");
        }
        for (std::size_t i = 0; i < r.to.size(); ++i) {
            auto& entry = (*found)[i];
            if (!entry) continue;
            results[i].suppressed = std::move(entry);
        }
    }
    auto suppressed = [&results](std::size_t i) { return results[i].suppressed.has_value(); };

    // The envelope every message of the request shares.
    spool::Message base;
    base.arrival = unix_now();
    base.sender = envelope_sender;
    base.client_ip = peer.address.to_string();
    base.helo = options_.hostname;
    base.auth_user = key.name;
    base.protocol = "http";
    // UTF-8 in an address of the envelope or of the header section needs SMTPUTF8 (RFC 6531,
    // 6532) on the way out: for the envelope sender here, for each message's own header section
    // and recipients below (a request with one UTF-8 recipient does not make every recipient's
    // message need it).
    if (!message::is_ascii(envelope_sender) || raw_utf8_header) base.smtputf8 = true;
    auto add_recipient = [&](spool::Message& m, const std::string& address) {
        auto rcpt = smtp::parse_rcpt("TO:<" + address + ">", smtp::local_offered(), true);
        if (!rcpt) return false;
        if (!message::is_ascii(address)) m.smtputf8 = true;
        recipients_.expand(smtp::Recipient{rcpt->recipient, rcpt->params}, m.recipients);
        return true;
    };

    // RFC 5321 section 4.1.3: an IPv6 address literal is tagged.
    std::string address_literal = (peer.address.is_v6() ? "IPv6:" : "") + base.client_ip;
    auto stages = stages_ ? stages_->load() : nullptr;  // held to the end of the request
    pipeline::SessionInfo session;
    session.source = pipeline::Source::kApi;
    session.client_ip = base.client_ip;
    session.helo = options_.hostname;
    session.auth_user = key.name;
    session.tls = peer.tls;
    session.trusted = true;

    std::size_t queued = 0;
    bool temporary = false;
    std::uint64_t max_size = options_.limits.max_message_size;
    auto refuse = [&](const Draft& d, const std::string& why, bool transient) {
        for (auto i : d.recipients) {
            results[i].error = why;
            results[i].temporary = transient;
        }
        temporary = temporary || transient;
    };

    // Makes, runs through the stages, and commits the drafts of one round.
    auto run_round = [&](std::vector<Draft>& round) -> asio::awaitable<void> {
        // Files begun and not committed are thrown away however the round ends (an exception
        // included): nothing of a request is left half-spooled.
        struct Uncommitted {
            std::vector<Draft>& round;
            spool::Injector& injector;
            ~Uncommitted() {
                for (auto& d : round)
                    if (d.writer) injector.discard(*d.writer);
            }
        } uncommitted{round, injector_};
        std::vector<spool::Injector::Draft> ready;
        std::vector<Draft*> owners;
        for (auto& d : round) {
            spool::Message envelope = base;
            envelope.body =
                !message::is_ascii(d.text) ? smtp::BodyType::k8BitMime : smtp::BodyType::k7Bit;
            std::string_view header_section(d.text);
            header_section = header_section.substr(0, header_section.find("\r\n\r\n"));
            if (!message::is_ascii(header_section)) envelope.smtputf8 = true;
            for (auto i : d.recipients)
                if (!add_recipient(envelope, r.to[i].address)) {
                    results[i].error = "not a valid recipient";
                }
            if (envelope.recipients.empty()) continue;
            auto writer = injector_.begin(std::move(envelope));
            if (!writer) {
                refuse(d, "the spool cannot take the message: " + writer.error().message, true);
                continue;
            }
            d.writer = std::move(*writer);
            auto& w = *d.writer;
            std::string received = "Received: from [" + address_literal + "] by " +
                                   options_.hostname + " (Tern HTTP API, key " + key.name +
                                   ")\r\n\tid " + w.id() + "; " +
                                   message::rfc5322_date(std::chrono::system_clock::now()) + "\r\n";
            w.append(received);
            w.append(d.text);
            if (stages && !stages->empty()) {
                if (auto run = stages->start_message(session, w.message())) {
                    run->text(received);
                    run->text(d.text);
                    auto outcome = co_await run->finish();
                    using Kind = pipeline::Verdict::Kind;
                    const auto& v = outcome.verdict;
                    if (v.kind == Kind::kReject || v.kind == Kind::kDefer) {
                        injector_.discard(w);
                        d.writer.reset();
                        refuse(d, smtp::reply_line(v.reply), v.kind == Kind::kDefer);
                        continue;
                    }
                    if (v.kind == Kind::kDiscard) {
                        injector_.discard(w);
                        d.writer.reset();
                        for (auto i : d.recipients)
                            results[i].discarded = true;
                        continue;
                    }
                    d.hold = v.kind == Kind::kHold;
                    w.set_edits(std::move(outcome.edits), outcome.edits_delta);
                }
            }
            std::string().swap(d.text);  // in the file now
            ready.push_back({&w, d.hold});
            owners.push_back(&d);
        }
        if (ready.empty()) co_return;
        auto committed = co_await injector_.commit(std::move(ready));
        // Committed, or removed by the commit: no longer ours to discard.
        for (Draft* d : owners)
            d->writer.reset();
        for (std::size_t k = 0; k < committed.size(); ++k) {
            Draft& d = *owners[k];
            if (!committed[k]) {
                refuse(d, "not committed: " + committed[k].error().message, true);
                continue;
            }
            for (auto i : d.recipients)
                if (results[i].error.empty()) {
                    results[i].id = committed[k]->id;
                    ++queued;
                }
            log_.info("api_message", {{"id", committed[k]->id},
                                      {"key", key.name},
                                      {"client", base.client_ip},
                                      {"from", envelope_sender},
                                      {"recipients", committed[k]->recipients.size()},
                                      {"size", committed[k]->size()}});
        }
    };

    std::vector<Draft> round;
    auto random = auth::random_bytes(12);
    if (!random)
        co_return http::json_error(http::Status::service_unavailable, random.error().message);
    std::string id_prefix = hex_lower(*random);
    bool spooled_any = false;       // a round of this request has run
    RenderBudget budget;            // what the request's templates may cost together
    std::uint64_t round_bytes = 0;  // message text the round holds in memory
    if (!r.raw.empty()) {
        Draft d;
        d.text = std::move(r.raw);
        for (std::size_t i = 0; i < r.to.size(); ++i)
            if (!suppressed(i)) d.recipients.push_back(i);
        if (!d.recipients.empty()) {
            round.push_back(std::move(d));
            co_await run_round(round);
        }
    } else {
        std::vector<std::size_t> composed;  // the recipients not suppressed, in request order
        for (std::size_t i = 0; i < r.to.size(); ++i)
            if (!suppressed(i)) composed.push_back(i);
        for (std::size_t k = 0; k < composed.size(); ++k) {
            std::size_t i = composed[k];
            const RecipientSpec& to = r.to[i];
            message::Composition c;
            c.from = r.from;
            c.to = {{to.name, to.address}};
            c.reply_to = r.reply_to;
            c.headers = r.headers;
            if (r.unsubscribe) {
                // RFC 8058: an HTTPS URI for a POST, and the field saying so; both signed by
                // DKIM (the signer's list has them).
                std::string url = options_.unsubscribe_url + "/unsubscribe/" +
                                  unsubscribe_->make({key.name, to.address});
                c.headers.emplace_back("List-Unsubscribe", "<" + url + ">");
                c.headers.emplace_back("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
            }
            c.attachments = r.attachments;
            c.date = std::chrono::system_clock::now();
            c.subject = r.subject;
            c.text = r.text;
            c.html = r.html;
            std::string failed;
            if (r.templated) {
                // The recipient's values over the request's over its address and name, as
                // frames searched in that order: nothing of the request copied per recipient.
                static const json kNone = json::object();
                json builtins{{"email", to.address}, {"name", to.name}};
                const json* global = r.substitutions.is_object() ? &r.substitutions : &kNone;
                const json* own = to.substitutions.is_object() ? &to.substitutions : &kNone;
                for (auto [name, slot, target] :
                     {std::tuple{"subject", &templates.subject, &c.subject},
                      std::tuple{"text", &templates.text, &c.text},
                      std::tuple{"html", &templates.html, &c.html}}) {
                    if (!*slot) continue;
                    auto rendered =
                        (*slot)->render_frames({&builtins, global, own}, max_size, budget);
                    if (!rendered) {
                        failed = std::string(name) + ": " + rendered.error();
                        break;
                    }
                    *target = std::move(*rendered);
                }
            }
            if (failed.empty()) {
                c.message_id = id_prefix + "." + std::to_string(i) + "@" + options_.hostname;
                auto text = message::compose(c);
                if (!text) {
                    std::string field = text.error().field;
                    if (field.starts_with("to[0]"))
                        field = "to[" + std::to_string(i) + "]" + field.substr(5);
                    // Without templates, content that cannot be composed fails for everyone
                    // alike: the request is refused while nothing of it is spooled.
                    if (!r.templated && !field.starts_with("to[") && !spooled_any)
                        co_return http::json_error(http::Status::bad_request, text.error().message,
                                                   field);
                    failed = field + ": " + text.error().message;
                } else if (text->size() > max_size)
                    failed = "the message is larger than the size limit";
                else {
                    Draft d;
                    round_bytes += text->size();
                    d.text = std::move(*text);
                    d.recipients = {i};
                    round.push_back(std::move(d));
                }
            }
            if (!failed.empty()) results[i].error = failed;
            if (round.size() == kCommitRound || round_bytes >= kRoundBytes ||
                (k + 1 == composed.size() && !round.empty())) {
                spooled_any = true;
                co_await run_round(round);
                round.clear();
                round_bytes = 0;
            }
        }
    }

    json list = json::array();
    std::int64_t now = unix_now();
    for (const auto& res : results) {
        json item{{"address", res.address}};
        if (res.suppressed) {
            if (events_) {
                events::Event event;
                event.time = now;
                event.type = "suppressed";
                event.sender = envelope_sender;
                event.recipient = res.address;
                // The detail (a bounce's reply, an operator's note) is for keys of any domain:
                // it may be about another sender's mail.
                event.reply = std::string(suppress::reason_name(res.suppressed->reason));
                if (key.domains.empty() && !res.suppressed->detail.empty())
                    event.reply += ": " + res.suppressed->detail;
                event.source = "http";
                event.auth = key.name;
                events_->record(std::move(event));
            }
            item["status"] = "suppressed";
            item["reason"] = suppress::reason_name(res.suppressed->reason);
            item["error"] = "the address is on the suppression list";
        } else if (res.discarded) {
            item["status"] = "discarded";
        } else if (!res.id.empty() && res.error.empty()) {
            item["status"] = "queued";
            item["id"] = res.id;
        } else {
            item["status"] = "refused";
            item["error"] = res.error.empty() ? "not queued" : res.error;
            if (res.temporary) item["temporary"] = true;
        }
        list.push_back(std::move(item));
    }
    if (sent_)
        remember_senders(*sent_, log_, options_.sent_retention, results, envelope_sender, key.name,
                         now);
    json body{{"queued", queued}, {"recipients", std::move(list)}};
    // A discard is an acceptance (as SMTP's 250 for a discarded message).
    bool accepted = queued > 0 || std::any_of(results.begin(), results.end(),
                                              [](const RecipientResult& x) { return x.discarded; });
    auto status = accepted    ? http::Status::ok
                  : temporary ? http::Status::service_unavailable
                              : http::Status::unprocessable_entity;
    co_return http::json_response(
        status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

}  // namespace tern::api
