// libFuzzer target for DKIM key records (untrusted DNS TXT data): the record parser, the public
// key decoders of OpenSSL behind it, and the checks against a signature. Input layout: the TXT
// rdata as it comes off the wire (length-prefixed strings).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "dns/answer.h"
#include "fuzz_check.h"
#include "mailauth/key_lookup.h"
#include "mailauth/key_record.h"

namespace tern::mailauth {
namespace {

using fuzz::check;

void fuzz_key(std::string_view rdata) {
    dns::Answer answer;
    answer.status = dns::Answer::Status::kOk;
    answer.rdata.emplace_back(rdata);
    FetchedKey fetched = key_from_answer(answer, "s._domainkey.example.com");
    if (fetched.problem) {
        check(fetched.problem->result == AuthResult::kPermError);
        return;
    }
    check(fetched.record.has_value());
    check(fetched.record->revoked() != fetched.key.has_value());
    for (Algorithm a : {Algorithm::kRsaSha256, Algorithm::kEd25519Sha256}) {
        auto problem = check_key(fetched, a, "example.com", "@sub.example.com", KeyLimits{});
        if (problem) check(!problem->reason.empty());
        if (!problem) check(fetched.key->type() == key_type_of(a));
    }
    if (fetched.key) {
        // What a record publishes reads back as the same key.
        auto text = key_record_text(*fetched.key);
        auto again = parse_key_record(text);
        check(again.has_value());
        auto key = PublicKey::from_record(again->type, again->key);
        check(key.has_value() && *key == *fetched.key);
        check(!fetched.key->verify(std::string(32, 'x'), "not a signature"));
    }
}

}  // namespace
}  // namespace tern::mailauth

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    tern::mailauth::fuzz_key(input);
    // The same bytes as the text of a record, without the wire framing.
    auto record = tern::mailauth::parse_key_record(input);
    if (record && !record->revoked())
        (void)tern::mailauth::PublicKey::from_record(record->type, record->key);
    return 0;
}
