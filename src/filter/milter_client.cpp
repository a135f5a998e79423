// MilterClient: one coroutine a message. A Conversation owns the socket, the deadline timer and
// the frame decoder; run_milter walks the protocol's steps in order and stops at the first
// decision that ends the message.
#include "filter/milter_client.h"

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace tern::filter {
namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using milter::Response;
using Kind = Response::Kind;
using Decision = MilterOutcome::Decision;

std::uint32_t offered_actions() {
    using namespace milter;
    return kAddHeaders | kChangeBody | kAddRecipient | kDeleteRecipient | kChangeHeaders |
           kQuarantine | kChangeFrom | kAddRecipientWithArgs | kSetMacroList;
}

std::uint32_t offered_steps() {
    using namespace milter;
    return kNoConnect | kNoHelo | kNoMail | kNoRcpt | kNoBody | kNoHeaders | kNoEndOfHeaders |
           kNoReplyHeader | kNoUnknown | kNoData | kSkip | kNoReplyConnect | kNoReplyHelo |
           kNoReplyMail | kNoReplyRcpt | kNoReplyData | kNoReplyUnknown | kNoReplyEndOfHeaders |
           kNoReplyBody | kHeaderLeadingSpace;
}

void MilterConversations::stop_all() {
    std::map<std::uint64_t, std::function<void()>> cancels;
    {
        std::lock_guard lock(mutex_);
        stopped_ = true;
        cancels.swap(cancels_);
    }
    for (auto& [key, cancel] : cancels)
        cancel();
}

std::optional<std::uint64_t> MilterConversations::add(std::function<void()> cancel) {
    std::lock_guard lock(mutex_);
    if (stopped_) return std::nullopt;
    cancels_.emplace(next_, std::move(cancel));
    return next_++;
}

void MilterConversations::remove(std::uint64_t key) {
    std::lock_guard lock(mutex_);
    cancels_.erase(key);
}

namespace {

std::unexpected<Error> failure(ErrorCode code, std::string what) {
    return std::unexpected(Error{code, std::move(what)});
}

class Conversation {
  public:
    Conversation(asio::any_io_executor ex, const MilterClientOptions& options)
        : options_(options), socket_(ex), timer_(ex), decoder_(options.max_frame) {}

    ~Conversation() {
        *alive_ = false;
        if (conversations_ && key_) conversations_->remove(*key_);
    }

    // Registers with `conversations` (if any): false when they are stopped already.
    bool join(MilterConversations* conversations) {
        if (!conversations) return true;
        conversations_ = conversations;
        // The stop runs on this conversation's loop, and only while it exists.
        key_ = conversations->add([this, alive = alive_, ex = socket_.get_executor()] {
            asio::post(ex, [this, alive] {
                if (!*alive) return;
                stopped_ = true;
                boost::system::error_code ignored;
                socket_.close(ignored);
                timer_.cancel();
            });
        });
        return key_.has_value();
    }
    bool stopped() const { return stopped_; }

    asio::awaitable<Result<void>> connect() {
        const auto& a = options_.address;
        asio::generic::stream_protocol::endpoint peer;
        if (a.unix_socket)
            peer = asio::local::stream_protocol::endpoint(a.path);
        else
            peer = asio::ip::tcp::endpoint(asio::ip::make_address(a.host), a.port);
        timer_.expires_after(options_.timeouts.connect);
        auto r = co_await (socket_.async_connect(peer, asio::as_tuple(asio::use_awaitable)) ||
                           timer_.async_wait(asio::as_tuple(asio::use_awaitable)));
        if (r.index() == 1)
            co_return failure(ErrorCode::kTimeout, "connect to " + a.str() + ": timed out");
        if (auto [ec] = std::get<0>(r); ec)
            co_return failure(ErrorCode::kTemporary, "connect to " + a.str() + ": " + ec.message());
        co_return Result<void>{};
    }

    asio::awaitable<Result<void>> write(std::string_view data) {
        timer_.expires_after(options_.timeouts.command);
        auto r = co_await (
            asio::async_write(socket_, asio::buffer(data), asio::as_tuple(asio::use_awaitable)) ||
            timer_.async_wait(asio::as_tuple(asio::use_awaitable)));
        if (r.index() == 1) co_return failure(ErrorCode::kTimeout, "write timed out");
        if (auto [ec, n] = std::get<0>(r); ec)
            co_return failure(ErrorCode::kTemporary, "write: " + ec.message());
        co_return Result<void>{};
    }

    // The next response that is not "progress"; each progress gives the filter `limit` again.
    asio::awaitable<Result<Response>> answer(std::chrono::milliseconds limit) {
        while (true) {
            auto r = co_await read(limit);
            if (!r || r->kind != Kind::kProgress) co_return r;
        }
    }

  private:
    asio::awaitable<Result<Response>> read(std::chrono::milliseconds limit) {
        timer_.expires_after(limit);
        while (true) {
            auto next = decoder_.next();
            if (!next) co_return std::unexpected(next.error());
            if (*next) co_return std::move(**next);
            auto r = co_await (socket_.async_read_some(asio::buffer(input_),
                                                       asio::as_tuple(asio::use_awaitable)) ||
                               timer_.async_wait(asio::as_tuple(asio::use_awaitable)));
            if (r.index() == 1) co_return failure(ErrorCode::kTimeout, "no answer in time");
            auto [ec, n] = std::get<0>(r);
            if (ec == asio::error::eof)
                co_return failure(ErrorCode::kTemporary, "the filter closed the connection");
            if (ec) co_return failure(ErrorCode::kTemporary, "read: " + ec.message());
            decoder_.feed(std::string_view(input_.data(), n));
        }
    }

    const MilterClientOptions& options_;
    MilterConversations* conversations_ = nullptr;
    std::optional<std::uint64_t> key_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // read on this loop only
    bool stopped_ = false;
    asio::generic::stream_protocol::socket socket_;
    asio::steady_timer timer_;
    milter::FrameDecoder decoder_;
    std::array<char, 16384> input_{};
};

// A step's answer in the middle of a message: what the outcome becomes, or that it goes on.
// Modifications are refused here: they belong to the end of the message only.
Result<bool> ends_message(const Response& r, std::string_view step, MilterOutcome& out) {
    switch (r.kind) {
        case Kind::kContinue:
        case Kind::kSkip:
            return false;
        case Kind::kAccept:
            out.decision = Decision::kAccept;
            break;
        case Kind::kReject:
        case Kind::kShutdown:
        case Kind::kConnectionFailure:
            out.decision = r.kind == Kind::kReject ? Decision::kReject : Decision::kTempfail;
            break;
        case Kind::kTempfail:
            out.decision = Decision::kTempfail;
            break;
        case Kind::kDiscard:
            out.decision = Decision::kDiscard;
            break;
        case Kind::kReplyCode:
            out.decision = Decision::kReplyCode;
            out.reply_text = r.text;
            break;
        default:
            return fail(ErrorCode::kInvalid, "unexpected response '" +
                                                 std::string(1, static_cast<char>(r.kind)) +
                                                 "' to " + std::string(step));
    }
    out.step = step;
    return true;
}

// A macro name without its braces: "{rcpt_addr}" and "rcpt_addr" name the same macro.
std::string unbraced(std::string_view name) {
    if (name.size() >= 2 && name.front() == '{' && name.back() == '}')
        name = name.substr(1, name.size() - 2);
    return std::string(name);
}

// The words of a SETSYMLIST list, separated by blanks (libmilter's own separator).
std::vector<std::string_view> split_words(std::string_view list) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < list.size()) {
        while (i < list.size() && (list[i] == ' ' || list[i] == '\t' || list[i] == ','))
            ++i;
        std::size_t start = i;
        while (i < list.size() && list[i] != ' ' && list[i] != '\t' && list[i] != ',')
            ++i;
        if (i > start) out.push_back(list.substr(start, i - start));
    }
    return out;
}

// The steps of one message after negotiation; `conv` is connected and negotiated.
class Steps {
  public:
    Steps(Conversation& conv, const MilterClientOptions& options, MilterOutcome& out)
        : conv_(conv), options_(options), out_(out) {}

    bool wants(std::uint32_t no_flag) const { return (out_.steps & no_flag) == 0; }

    // Sends `macros` (when there are any) and `command`; when the filter answers this step,
    // returns its answer.
    asio::awaitable<Result<std::optional<Response>>> step(const Macros& macros,
                                                          milter::Command which,
                                                          const std::string& command,
                                                          std::uint32_t no_reply_flag) {
        std::string frames;
        Macros sent = macros_for(macros, which, out_);
        if (!sent.empty()) frames = milter::encode_macros(which, sent);
        frames += command;
        if (auto w = co_await conv_.write(frames); !w) co_return std::unexpected(w.error());
        if (!wants(no_reply_flag)) co_return std::nullopt;
        auto r = co_await conv_.answer(options_.timeouts.command);
        if (!r) co_return std::unexpected(r.error());
        co_return std::optional<Response>(std::move(*r));
    }

    // Runs a step whose answer may end the message; true when it did.
    asio::awaitable<Result<bool>> decisive(std::string_view name, const Macros& macros,
                                           milter::Command which, const std::string& command,
                                           std::uint32_t no_reply_flag) {
        auto r = co_await step(macros, which, command, no_reply_flag);
        if (!r) co_return std::unexpected(r.error());
        if (!*r) co_return false;
        co_return ends_message(**r, name, out_);
    }

  private:
    Conversation& conv_;
    const MilterClientOptions& options_;
    MilterOutcome& out_;
};

asio::awaitable<Result<void>> negotiate(Conversation& conv, const MilterClientOptions& options,
                                        MilterOutcome& out) {
    if (auto w = co_await conv.write(
            milter::encode_optneg(milter::kVersion, offered_actions(), offered_steps()));
        !w)
        co_return std::unexpected(w.error());
    auto r = co_await conv.answer(options.timeouts.connect);
    if (!r) co_return std::unexpected(r.error());
    if (r->kind != Kind::kOptionNegotiation)
        co_return failure(ErrorCode::kInvalid, "no option negotiation reply");
    if (r->version < 2 || r->version > milter::kVersion)
        co_return failure(ErrorCode::kInvalid,
                          "filter speaks protocol version " + std::to_string(r->version));
    std::uint32_t size_flags = milter::kMaxData256K | milter::kMaxData1M;
    if ((r->actions & ~offered_actions()) != 0 ||
        (r->steps & ~(offered_steps() | size_flags | milter::kRejectedRcpts)) != 0)
        co_return failure(ErrorCode::kInvalid, "filter asks for actions or steps not offered");
    out.actions = r->actions;
    // Tern never sends rejected recipients; a filter asking for them still gets the others.
    out.steps = r->steps & ~milter::kRejectedRcpts;
    if (r->actions & milter::kSetMacroList)
        for (const auto& [stage, list] : r->macro_lists) {
            auto& names = out.macros_wanted[stage];  // an empty list asks for none at all
            for (auto name : split_words(list))
                names.emplace_back(unbraced(name));
        }
    co_return Result<void>{};
}

// Headers, end of headers and the body. True when the filter ended the message.
asio::awaitable<Result<bool>> content(Steps& steps, const MilterMessage& m, MilterOutcome& out) {
    using C = milter::Command;
    bool leading_space = (out.steps & milter::kHeaderLeadingSpace) != 0;
    if (steps.wants(milter::kNoHeaders)) {
        for (const auto& [name, value] : m.headers) {
            std::string_view v = value;
            if (!leading_space)
                while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
                    v.remove_prefix(1);
            // The filter sees folds as LF (as Sendmail and Postfix pass them).
            std::string plain;
            for (std::size_t i = 0; i < v.size(); ++i)
                if (!(v[i] == '\r' && i + 1 < v.size() && v[i + 1] == '\n')) plain += v[i];
            auto r =
                co_await steps.decisive("header", {}, C::kHeader,
                                        milter::encode_header(name, plain), milter::kNoReplyHeader);
            if (!r || *r) co_return r;
        }
    }
    if (steps.wants(milter::kNoEndOfHeaders)) {
        auto r =
            co_await steps.decisive("end-of-headers", {}, C::kEndOfHeaders,
                                    milter::encode_end_of_headers(), milter::kNoReplyEndOfHeaders);
        if (!r || *r) co_return r;
    }
    if (!steps.wants(milter::kNoBody)) co_return false;
    std::string_view body = m.body;
    while (!body.empty()) {
        std::size_t n = std::min(body.size(), milter::kMaxBodyChunk);
        std::string chunk;
        milter::encode_body(body.substr(0, n), chunk);
        body.remove_prefix(n);
        auto r = co_await steps.step({}, C::kBody, chunk, milter::kNoReplyBody);
        if (!r) co_return std::unexpected(r.error());
        if (!*r) continue;
        if ((*r)->kind == Kind::kSkip) break;  // the filter has seen enough of the body
        auto ended = ends_message(**r, "body", out);
        if (!ended || *ended) co_return ended;
    }
    co_return false;
}

// The end of the message: modifications, then the final answer.
asio::awaitable<Result<void>> end_of_message(Conversation& conv, const MilterClientOptions& options,
                                             const MilterMessage& m, MilterOutcome& out) {
    std::string frames;
    Macros end_macros = macros_for(m.end_macros, milter::Command::kEndOfBody, out);
    if (!end_macros.empty())
        frames = milter::encode_macros(milter::Command::kEndOfBody, end_macros);
    frames += milter::encode_end_of_body();
    if (auto w = co_await conv.write(frames); !w) co_return std::unexpected(w.error());
    std::size_t replaced = 0;  // octets of replacement body so far
    while (true) {
        auto r = co_await conv.answer(options.timeouts.end_of_message);
        if (!r) co_return std::unexpected(r.error());
        if (r->kind == Kind::kReplaceBody) {
            replaced += r->value.size();
            if (replaced > options.max_replaced_body)
                co_return failure(ErrorCode::kInvalid,
                                  "replacement body over the limit of " +
                                      std::to_string(options.max_replaced_body) + " octets");
        }
        switch (r->kind) {
            case Kind::kAddHeader:
            case Kind::kInsertHeader:
            case Kind::kChangeHeader:
            case Kind::kAddRecipient:
            case Kind::kAddRecipientWithArgs:
            case Kind::kDeleteRecipient:
            case Kind::kChangeFrom:
            case Kind::kReplaceBody:
            case Kind::kQuarantine:
                out.modifications.push_back(std::move(*r));
                continue;
            default:
                break;
        }
        auto ended = ends_message(*r, "end-of-message", out);
        if (!ended) co_return std::unexpected(ended.error());
        if (!*ended) out.step = "end-of-message";
        co_return Result<void>{};
    }
}

// The RCPT steps. A refused recipient is noted and the message goes on while another is kept;
// when every one is refused the message is, deferred if any refusal was temporary. True when the
// filter ended the message.
asio::awaitable<Result<bool>> recipients(Steps& steps, const MilterMessage& m, MilterOutcome& out) {
    std::size_t kept = 0;
    std::optional<MilterOutcome> refusal;  // the one the message gets if all are refused
    for (std::size_t i = 0; i < m.rcpt_args.size(); ++i) {
        static const Macros none;
        auto r = co_await steps.step(i < m.rcpt_macros.size() ? m.rcpt_macros[i] : none,
                                     milter::Command::kRcpt, milter::encode_rcpt(m.rcpt_args[i]),
                                     milter::kNoReplyRcpt);
        if (!r) co_return std::unexpected(r.error());
        if (!*r) {
            ++kept;
            continue;
        }
        const Response& answer = **r;
        if (answer.kind == Kind::kReject || answer.kind == Kind::kTempfail ||
            answer.kind == Kind::kReplyCode) {
            MilterOutcome this_one;
            auto ended = ends_message(answer, "rcpt", this_one);
            if (!ended) co_return std::unexpected(ended.error());
            out.refused_recipients.emplace_back(i, answer);
            auto temporary = [](const MilterOutcome& o) {
                return o.decision == Decision::kTempfail || o.reply_text.starts_with('4');
            };
            if (!refusal || !temporary(*refusal)) refusal = std::move(this_one);
            continue;
        }
        auto ended = ends_message(answer, "rcpt", out);
        if (!ended || *ended) co_return ended;
        ++kept;
    }
    if (kept > 0 || !refusal) co_return false;
    out.decision = refusal->decision;
    out.reply_text = refusal->reply_text;
    out.step = "rcpt";
    co_return true;
}

// Every step from CONNECT to the end of the message; stops at the first decision.
asio::awaitable<Result<void>> converse(Conversation& conv, const MilterClientOptions& options,
                                       const MilterMessage& m, MilterOutcome& out) {
    using C = milter::Command;
    Steps steps(conv, options, out);
    if (steps.wants(milter::kNoConnect)) {
        auto r = co_await steps.decisive(
            "connect", m.connect_macros, C::kConnect,
            milter::encode_connect(m.client_name, m.family, m.client_port, m.client_address),
            milter::kNoReplyConnect);
        if (!r) co_return std::unexpected(r.error());
        if (*r) co_return Result<void>{};
    }
    if (steps.wants(milter::kNoHelo)) {
        auto r = co_await steps.decisive("helo", m.helo_macros, C::kHelo,
                                         milter::encode_helo(m.helo), milter::kNoReplyHelo);
        if (!r) co_return std::unexpected(r.error());
        if (*r) co_return Result<void>{};
    }
    if (steps.wants(milter::kNoMail)) {
        auto r = co_await steps.decisive("mail", m.mail_macros, C::kMail,
                                         milter::encode_mail(m.mail_args), milter::kNoReplyMail);
        if (!r) co_return std::unexpected(r.error());
        if (*r) co_return Result<void>{};
    }
    if (steps.wants(milter::kNoRcpt)) {
        auto r = co_await recipients(steps, m, out);
        if (!r) co_return std::unexpected(r.error());
        if (*r) co_return Result<void>{};
    }
    if (steps.wants(milter::kNoData)) {
        auto r = co_await steps.decisive("data", m.data_macros, C::kData, milter::encode_data(),
                                         milter::kNoReplyData);
        if (!r) co_return std::unexpected(r.error());
        if (*r) co_return Result<void>{};
    }
    auto r = co_await content(steps, m, out);
    if (!r) co_return std::unexpected(r.error());
    if (*r) co_return Result<void>{};
    co_return co_await end_of_message(conv, options, m, out);
}

}  // namespace

asio::awaitable<Result<MilterOutcome>> run_milter(asio::any_io_executor executor,
                                                  const MilterClientOptions& options,
                                                  const MilterMessage& message,
                                                  MilterConversations* conversations) {
    Conversation conv(executor, options);
    MilterOutcome out;
    auto stopped = [&](const Error& e) {
        if (!conv.stopped()) return std::unexpected(e);
        return std::unexpected(Error{ErrorCode::kShutdown, "stopped: the daemon is shutting down"});
    };
    if (!conv.join(conversations))
        co_return failure(ErrorCode::kShutdown, "stopped: the daemon is shutting down");
    if (auto c = co_await conv.connect(); !c) co_return stopped(c.error());
    if (auto n = co_await negotiate(conv, options, out); !n) co_return stopped(n.error());
    if (auto r = co_await converse(conv, options, message, out); !r) co_return stopped(r.error());
    // The conversation is over either way; a filter that is gone by now changes nothing.
    (void)co_await conv.write(milter::encode_quit());
    co_return out;
}

Macros macros_for(const Macros& ours, milter::Command step, const MilterOutcome& out) {
    // The protocol's step numbers of SETSYMLIST (libmilter's SMFIM_*), in order.
    using C = milter::Command;
    constexpr std::array kSteps{C::kConnect, C::kHelo,      C::kMail,        C::kRcpt,
                                C::kData,    C::kEndOfBody, C::kEndOfHeaders};
    auto at = std::ranges::find(kSteps, step);
    if (at == kSteps.end()) return ours;
    auto stage = static_cast<std::uint32_t>(at - kSteps.begin());
    auto wanted = out.macros_wanted.find(stage);
    if (wanted == out.macros_wanted.end()) return ours;
    Macros sent;
    for (const auto& macro : ours)
        if (std::ranges::find(wanted->second, unbraced(macro.first)) != wanted->second.end())
            sent.push_back(macro);
    return sent;
}

}  // namespace tern::filter
