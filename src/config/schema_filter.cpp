// Configuration schema: the keys of [milter]: which milters each listener kind passes its mail
// through, in order, and their timeouts, failure action and limits (docs/filters.md).
#include "base/text.h"
#include "config/schema.h"

namespace tern::config {
namespace {

std::string check_milter(std::string_view s) {
    auto spec = parse_milter_spec(s);
    return spec ? std::string() : "\"" + std::string(s) + "\": " + spec.error().message;
}

Key milter_list(std::string_view listener, std::string_view doc,
                std::vector<std::string> Config::*field) {
    return {"milter",    listener,   Kind::kStringList,
            "[]",        doc,        [field](Config& c, const Value& v) { c.*field = v.list; },
            0,           UINT64_MAX, {},
            check_milter};
}

}  // namespace

Result<MilterSpec> parse_milter_spec(std::string_view text) {
    auto words = split_blanks(text);
    if (words.empty()) return fail(ErrorCode::kInvalid, "no address");
    auto address = net::StreamAddress::parse(words[0]);
    if (!address) return std::unexpected(address.error());
    MilterSpec spec{*address, std::nullopt};
    for (std::size_t i = 1; i < words.size(); ++i) {
        if (words[i] == "default_action=accept")
            spec.accept_on_failure = true;
        else if (words[i] == "default_action=tempfail")
            spec.accept_on_failure = false;
        else
            return fail(ErrorCode::kInvalid, "unknown option \"" + std::string(words[i]) +
                                                 "\" (default_action=accept or tempfail)");
    }
    return spec;
}

std::vector<Key> filter_keys() {
    return {
        milter_list("mx",
                    "Milters that mail of the MX listener passes through at the end of data, in "
                    "order: \"inet:IP:PORT\" or \"unix:/path\", optionally followed by "
                    "\"default_action=accept\" or \"default_action=tempfail\" for that milter.",
                    &Config::milters_mx),
        milter_list("submission",
                    "Milters that mail of the submission and submissions listeners passes "
                    "through, in the same form as milter.mx.",
                    &Config::milters_submission),
        {"milter", "connect_timeout", Kind::kDuration, R"("30s")",
         "Time to connect to a milter and agree on the protocol options; then its default action.",
         [](Config& c, const Value& v) { c.milter_connect_timeout = v.duration; }, 1, 3600},
        {"milter", "command_timeout", Kind::kDuration, R"("30s")",
         "Time a milter may take to answer one command (connect, HELO, MAIL, RCPT, a header, a "
         "body chunk); a progress message restarts it. Then its default action.",
         [](Config& c, const Value& v) { c.milter_command_timeout = v.duration; }, 1, 3600},
        {"milter", "end_timeout", Kind::kDuration, R"("5m")",
         "Time a milter may take at the end of a message for its changes and final answer; a "
         "progress message restarts it. Then its default action.",
         [](Config& c, const Value& v) { c.milter_end_timeout = v.duration; }, 1, 3600},
        {"milter",
         "default_action",
         Kind::kEnum,
         R"("tempfail")",
         "What a message gets when a milter cannot be reached, times out, breaks the protocol or "
         "closes early: tempfail (451 4.7.1, the client tries again) or accept (as if the milter "
         "were not there). A milter's own default_action= overrides it.",
         [](Config& c, const Value& v) { c.milter_default_action = v.text; },
         0,
         0,
         {"tempfail", "accept"}},
        {"milter", "max_frame", Kind::kSize, R"("1M")",
         "Largest response frame a milter may send, in octets; a larger one is a protocol error "
         "(the default action).",
         [](Config& c, const Value& v) { c.milter_max_frame = v.number; }, 65536, 1ull << 30},
        {"milter", "max_body", Kind::kSize, R"("10M")",
         "Octets of message body kept in memory for the milters while a message arrives; a "
         "message with a larger body is not given to the milters (logged milter_skipped). Also "
         "the most a milter may send back as a new body (replbody); more is a milter failure.",
         [](Config& c, const Value& v) { c.milter_max_body = v.number; }, 0, 1ull << 32},
    };
}

}  // namespace tern::config
