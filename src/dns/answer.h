// Query and Answer: one DNS question and what came back, with no I/O attached, so that the
// sans-I/O evaluators (SPF, DKIM, DMARC, ARC) can ask and be fed without knowing the resolver.
#pragma once

#include <string>
#include <vector>

#include "dns/records.h"

namespace tern::dns {

struct Query {
    std::string name;  // the domain name asked for, without a trailing dot
    RecordType type = RecordType::kTxt;
    bool operator==(const Query&) const = default;
};

struct Answer {
    enum class Status {
        kOk,        // records present
        kNoData,    // the name exists but has no records of this type
        kNxDomain,  // the name does not exist (permanent)
        kTempFail,  // SERVFAIL, timeout, bogus DNSSEC, or a local failure (temporary)
    };
    Status status = Status::kTempFail;
    bool secure = false;             // validated by DNSSEC
    std::string canonical;           // the name after following CNAMEs
    std::vector<std::string> rdata;  // one entry per record
    std::string why;                 // for kTempFail: what went wrong
};

}  // namespace tern::dns
