// A DNS stand-in for the DMARC tests: TXT records by name, names that fail or do not exist, and
// the questions asked in order, so a test can say exactly which lookups an evaluation made.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "../../fuzz/fuzz_dns.h"
#include "dns/answer.h"
#include "mailauth/dmarc_evaluator.h"

namespace tern::mailauth::testing {

// One TXT record's rdata in wire form: character-strings of at most 255 octets.
using fuzz::txt_rdata;

struct FakeDns {
    std::map<std::string, std::vector<std::string>> txt;  // owner name -> texts
    std::set<std::string> failing;                        // temporary failures
    std::set<std::string> nonexistent;                    // NXDOMAIN for A queries
    std::vector<std::string> asked;

    // TXT: the records, else NXDOMAIN. A: NXDOMAIN for `nonexistent`, else NODATA.
    dns::Answer answer(const dns::Query& q) {
        asked.push_back(q.name);
        dns::Answer a;
        if (failing.contains(q.name)) {
            a.status = dns::Answer::Status::kTempFail;
            a.why = "SERVFAIL";
            return a;
        }
        if (q.type == dns::RecordType::kA) {
            a.status = nonexistent.contains(q.name) ? dns::Answer::Status::kNxDomain
                                                    : dns::Answer::Status::kNoData;
            return a;
        }
        auto it = txt.find(q.name);
        if (it == txt.end()) {
            a.status = dns::Answer::Status::kNxDomain;
            return a;
        }
        a.status = dns::Answer::Status::kOk;
        for (const std::string& t : it->second)
            a.rdata.push_back(txt_rdata(t));
        return a;
    }

    DmarcResult run(DmarcEvaluator& e) {
        for (int guard = 0; guard < 1000; ++guard) {
            auto q = e.next_query();
            if (!q) return e.result();
            e.feed(answer(*q));
        }
        ADD_FAILURE() << "the evaluation did not end";
        return e.result();
    }
};

}  // namespace tern::mailauth::testing
