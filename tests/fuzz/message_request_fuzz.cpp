// libFuzzer target for the sending API's request reader (src/api/message_request.h), its
// templates and the MIME composer behind them: JSON from any holder of an API key. Besides "no
// crash": a message composed from an accepted request has CRLF lines of at most 998 octets.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/message_request.h"
#include "api/template.h"
#include "fuzz_check.h"
#include "message/mime_builder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using tern::api::Template;
    using tern::fuzz::check;
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    tern::api::RequestLimits limits;
    limits.max_recipients = 50;
    limits.max_message_size = 1 << 20;
    auto r = tern::api::parse_message_request(bytes, limits);
    if (!r) {
        check(!r.error().field.empty() && !r.error().message.empty());
        return 0;
    }
    check(!r->to.empty());
    if (!r->raw.empty()) return 0;
    tern::message::Composition c;
    c.from = r->from;
    c.to = {{r->to[0].name, r->to[0].address}};
    c.reply_to = r->reply_to;
    c.subject = r->subject;
    c.text = r->text;
    c.html = r->html;
    c.headers = r->headers;
    c.attachments = r->attachments;
    c.message_id = "fuzz@example.org";
    if (r->templated) {
        nlohmann::json values =
            r->substitutions.is_object() ? r->substitutions : nlohmann::json::object();
        for (auto [text, escape] : {std::pair{&c.subject, Template::Escape::kNone},
                                    std::pair{&c.html, Template::Escape::kHtml}}) {
            auto t = Template::compile(*text, escape, 8);
            if (!t) continue;
            tern::api::RenderBudget budget{100000, 1 << 20};
            auto out = t->render(values, 1 << 16, budget);
            if (out) {
                check(out->size() <= (1 << 16));
                *text = *out;
            }
        }
    }
    auto text = tern::message::compose(c);
    if (!text) return 0;
    std::string_view rest = *text;
    check(rest.ends_with("\r\n"));
    while (!rest.empty()) {
        auto end = rest.find("\r\n");
        check(end != std::string_view::npos && end <= 998);
        check(rest.substr(0, end).find('\n') == std::string_view::npos);
        rest.remove_prefix(end + 2);
    }
    return 0;
}
