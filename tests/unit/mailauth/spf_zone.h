// FakeZone: DNS data written by hand for the SPF tests, answering an SpfCheck's questions as a
// server would (records, NODATA for a name that exists, NXDOMAIN, or a timeout), and a driver.
#pragma once

#include <arpa/inet.h>

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/text.h"
#include "dns/answer.h"
#include "mailauth/spf.h"

namespace tern::mailauth::testing {

inline std::string wire_name(std::string_view name) {
    std::string out;
    while (!name.empty()) {
        std::size_t dot = name.find('.');
        std::string_view label = name.substr(0, dot);
        out += static_cast<char>(label.size());
        out += label;
        name = dot == std::string_view::npos ? std::string_view{} : name.substr(dot + 1);
    }
    return out + '\0';
}

class FakeZone {
  public:
    // One TXT record made of the given strings (each at most 255 octets).
    FakeZone& txt(const std::string& name, std::vector<std::string> strings) {
        std::string rdata;
        for (const auto& s : strings) {
            rdata += static_cast<char>(s.size());
            rdata += s;
        }
        return add(name, dns::RecordType::kTxt, rdata);
    }
    FakeZone& txt(const std::string& name, const std::string& text) {
        std::vector<std::string> strings;
        for (std::size_t i = 0; i < text.size(); i += 255)
            strings.push_back(text.substr(i, 255));
        if (strings.empty()) strings.emplace_back();
        return txt(name, strings);
    }
    FakeZone& a(const std::string& name, const std::string& ip) {
        unsigned char buf[4];
        inet_pton(AF_INET, ip.c_str(), buf);
        return add(name, dns::RecordType::kA, std::string(reinterpret_cast<char*>(buf), 4));
    }
    FakeZone& aaaa(const std::string& name, const std::string& ip) {
        unsigned char buf[16];
        inet_pton(AF_INET6, ip.c_str(), buf);
        return add(name, dns::RecordType::kAaaa, std::string(reinterpret_cast<char*>(buf), 16));
    }
    FakeZone& mx(const std::string& name, int preference, const std::string& host) {
        std::string rdata{static_cast<char>(preference >> 8), static_cast<char>(preference & 0xff)};
        return add(name, dns::RecordType::kMx, rdata + wire_name(host));
    }
    FakeZone& ptr(const std::string& name, const std::string& host) {
        return add(name, dns::RecordType::kPtr, wire_name(host));
    }
    // Every question about `name` times out (kTempFail).
    FakeZone& timeout(const std::string& name) {
        timeouts_.insert(ascii_lower(name));
        return *this;
    }
    // Only questions of `type` about `name` time out.
    FakeZone& timeout(const std::string& name, dns::RecordType type) {
        typed_timeouts_.insert({ascii_lower(name), type});
        return *this;
    }

    dns::Answer answer(const dns::Query& q) {
        asked.push_back(q);
        std::string name = ascii_lower(q.name);
        dns::Answer a;
        if (timeouts_.contains(name) || typed_timeouts_.contains({name, q.type})) {
            a.status = dns::Answer::Status::kTempFail;
            a.why = "timed out";
            return a;
        }
        auto it = records_.find({name, q.type});
        if (it != records_.end()) {
            a.status = dns::Answer::Status::kOk;
            a.rdata = it->second;
            return a;
        }
        bool exists = false;
        for (const auto& [key, _] : records_)
            if (key.first == name || key.first.ends_with("." + name)) exists = true;
        a.status = exists ? dns::Answer::Status::kNoData : dns::Answer::Status::kNxDomain;
        return a;
    }

    std::vector<dns::Query> asked;

  private:
    FakeZone& add(const std::string& name, dns::RecordType type, std::string rdata) {
        records_[{ascii_lower(name), type}].push_back(std::move(rdata));
        return *this;
    }

    std::map<std::pair<std::string, dns::RecordType>, std::vector<std::string>> records_;
    std::set<std::string> timeouts_;
    std::set<std::pair<std::string, dns::RecordType>> typed_timeouts_;
};

// Runs a check to its end against `zone` (at most 1000 questions, as a guard).
inline SpfOutcome run_check(FakeZone& zone, SpfRequest request, SpfOptions options = {}) {
    SpfCheck check(std::move(request), options);
    for (int i = 0; i < 1000; ++i) {
        auto q = check.next_query();
        if (!q) break;
        check.feed(zone.answer(*q));
    }
    return check.outcome();
}

inline SpfRequest mail_from(const std::string& ip, const std::string& sender,
                            const std::string& helo = "mail.example.net") {
    SpfRequest r;
    r.client = *IpAddress::parse(ip);
    r.sender = sender;
    r.helo = helo;
    r.receiver = "mx.receiver.example";
    r.now = 1700000000;
    return r;
}

}  // namespace tern::mailauth::testing
