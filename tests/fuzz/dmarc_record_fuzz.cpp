// libFuzzer target for DMARC records (DMARCbis section 4.8) and the evaluator that reads them:
// the input is the text of a TXT record. The parser must give a record or "not DMARC" with its
// invariants kept, and an evaluation that finds this record at every _dmarc name it asks must
// end within its query limit with a result from DMARC's vocabulary.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "fuzz_dns.h"
#include "mailauth/dmarc_evaluator.h"
#include "mailauth/dmarc_record.h"

namespace tern::mailauth {
namespace {

using fuzz::check;
using fuzz::txt_rdata;

void check_record(std::string_view text) {
    auto record = parse_dmarc_record(text);
    if (!record) return;
    check(text.find("DMARC1") != std::string_view::npos);
    check(!record->p_invalid || !record->p);
    check(record->usable() == (record->policy_tags_valid() || !record->rua.empty()));
    for (const std::string& uri : record->rua)
        check(uri.find(':') != std::string::npos && uri.find(',') == std::string::npos);
    for (auto scope : {DmarcRecord::Scope::kDomain, DmarcRecord::Scope::kSubdomain,
                       DmarcRecord::Scope::kNonExistentSubdomain}) {
        DmarcPolicy p = record->policy_for(scope);
        check(p == DmarcPolicy::kNone || record->policy_tags_valid());
    }
    // Parsing is a function of the text: the same text, the same record.
    auto again = parse_dmarc_record(text);
    check(again && again->errors == record->errors && again->rua == record->rua);
}

void check_evaluation(std::string_view text, std::size_t split) {
    DmarcOptions options;
    options.max_queries = 12;
    SpfEvidence spf{
        AuthResult::kPass, "bounce.a.b.example.com", SpfEvidence::Identity::kMailFrom, {}, {}};
    DmarcEvaluator e("x.a.b.example.com", spf, {{AuthResult::kPass, "c.example.com", "s", {}, {}}},
                     options);
    std::size_t asked = 0;
    while (auto q = e.next_query()) {
        check(++asked <= options.max_queries);
        dns::Answer a;
        a.status = dns::Answer::Status::kOk;
        // Two records at some names (the text cut in two), one at the others.
        if (asked % 3 == 0) {
            a.rdata = {txt_rdata(text.substr(0, split)), txt_rdata(text.substr(split))};
        } else {
            a.rdata = {txt_rdata(text)};
        }
        if (q->type == dns::RecordType::kA) a.status = dns::Answer::Status::kNxDomain;
        e.feed(a);
    }
    const DmarcResult& r = e.result();
    check(r.queries == asked);
    check(r.result == AuthResult::kNone || r.result == AuthResult::kPass ||
          r.result == AuthResult::kFail || r.result == AuthResult::kTempError ||
          r.result == AuthResult::kPermError);
    check(r.result != AuthResult::kPass || r.spf_aligned() || r.dkim_aligned());
    check(!r.record || !r.policy_domain.empty());
}

}  // namespace
}  // namespace tern::mailauth

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    tern::mailauth::check_record(text);
    if (size <= 4096) tern::mailauth::check_evaluation(text, size / 2);
    return 0;
}
