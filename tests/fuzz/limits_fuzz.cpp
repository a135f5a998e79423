// libFuzzer target for the client's reading of an EHLO reply: arbitrary text as the keyword lines
// through parse_ehlo() and parse_limits() (RFC 9422 LIMITS), and the transaction split under it.
//
// Input layout: byte 0 is our own recipients-per-transaction limit (0 = none), the rest is the
// text of the EHLO reply after its first line ('\n' between keyword lines). Besides "no crash":
// parsed values are 1 to 999999 or 0; the limits written back as a LIMITS line parse to
// themselves, with unknown limits added or not; parse_ehlo() finds the same limits as
// parse_limits() on the last LIMITS line; a transaction takes at least one recipient and never
// more than either limit allows.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/text.h"
#include "fuzz_check.h"
#include "smtp/client_session.h"
#include "smtp/limits.h"

namespace tern::smtp {
namespace {

using fuzz::check;

bool valid(std::size_t n) {
    return n <= 999999;
}

std::string render(const ServerLimits& l) {
    std::string s;
    if (l.mail_max) s += " MAILMAX=" + std::to_string(l.mail_max);
    if (l.rcpt_max) s += " rcptmax=" + std::to_string(l.rcpt_max);
    if (l.rcpt_domain_max) s += " RcptDomainMax=" + std::to_string(l.rcpt_domain_max);
    return s;
}

// The parameters of the last "LIMITS" keyword line of `text`, as parse_ehlo() would see them.
std::string last_limits_params(std::string_view text, bool& found) {
    std::string params;
    found = false;
    while (!text.empty()) {
        auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        auto sp = line.find(' ');
        if (ascii_upper(line.substr(0, sp)) != "LIMITS") continue;
        found = true;
        params = sp == std::string_view::npos ? std::string() : std::string(line.substr(sp + 1));
    }
    return params;
}

}  // namespace
}  // namespace tern::smtp

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace tern::smtp;
    if (size < 1) return 0;
    std::size_t ours = data[0];
    std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);

    ServerLimits direct = parse_limits(text);
    check(valid(direct.mail_max) && valid(direct.rcpt_max) && valid(direct.rcpt_domain_max));
    ServerLimits again = parse_limits(render(direct));
    check(again == direct);
    check(parse_limits(render(direct) + " X-FUTURE=1 OTHER=a=b") == direct);

    Reply ehlo{250, "", "mx.example\n" + std::string(text)};
    Capabilities caps = parse_ehlo(ehlo);
    bool found = false;
    std::string params = last_limits_params(text, found);
    check(caps.limits == (found ? parse_limits(params) : ServerLimits{}));

    // Recipients made from the input's words, so that domains repeat and differ.
    std::vector<std::string> addresses;
    for (std::size_t i = 0; i < text.size() && addresses.size() < 300; i += 3)
        addresses.push_back("u" + std::to_string(i) + "@d" + std::to_string(text[i] & 0x07));
    for (const ServerLimits& limits : {direct, caps.limits}) {
        std::size_t n = recipients_per_transaction(addresses, ours, limits);
        check(addresses.empty() ? n == 0 : n >= 1);
        check(n <= addresses.size());
        if (ours != 0) check(n <= ours);
        if (limits.rcpt_max != 0) check(n <= limits.rcpt_max);
        std::set<std::string> domains;
        for (std::size_t k = 0; k < n; ++k)
            domains.insert(addresses[k].substr(addresses[k].find('@')));
        if (limits.rcpt_domain_max != 0) check(domains.size() <= limits.rcpt_domain_max);
    }
    return 0;
}
