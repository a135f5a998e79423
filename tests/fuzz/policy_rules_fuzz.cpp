// libFuzzer target for the policy's operator-written rules: DNSBL sites in postscreen's syntax
// and "N/period" rates. Besides "no crash": a parsed site has a domain, a weight other than 0
// and a filter of four octets, judging any answer against it is safe, and a parsed rate that
// is on has a count and a period.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "policy/dnsbl.h"
#include "policy/rate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using tern::fuzz::check;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto site = tern::policy::parse_dnsbl_site(text)) {
        check(!site->domain.empty() && site->weight != 0);
        check(!site->filter || site->filter->size() == 4);
        auto name = tern::policy::dnsbl_query_name("192.0.2.1", site->domain);
        check(name && name->ends_with(site->domain));
        auto judged = tern::policy::judge_answer(*site, {"127.0.0.2", std::string(text)});
        check(!judged.listed || !judged.address.empty());
    }
    if (auto rate = tern::policy::parse_rate(text)) {
        check(rate->off() || (rate->count > 0 && rate->period.count() > 0));
        check(rate->off() || !rate->describe().empty());
    }
    tern::policy::dnsbl_query_name(text, "bl.example.net");
    return 0;
}
