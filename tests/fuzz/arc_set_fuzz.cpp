// libFuzzer target for ARC (RFC 8617): arbitrary header fields and body through the ARC set
// parser, the ArcVerifier and the ArcSealer. Byte 0 picks the body chunk size and which DNS
// answers are given, the rest is a message (header fields, an empty line, the body).
//
// Besides "no crash", it checks: a sound chain has sets 1..N with the cv= the RFC wants, the
// result is none/pass/fail and the same whatever the chunking, a pass has an oldest pass in
// 1..N, and a message with no ARC field that the sealer seals, once and twice, verifies.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "mailauth/arc_sealer.h"
#include "mailauth/arc_set.h"
#include "mailauth/arc_verifier.h"
#include "mailauth/key_record.h"
#include "message/header_split.h"

namespace tern::mailauth {
namespace {

using fuzz::check;

constexpr std::int64_t kNow = 1700000000;
constexpr std::size_t kMaxHeader = 1 << 16;

const PrivateKey& sealing_key() {
    static const PrivateKey key = std::move(*PrivateKey::generate(KeyType::kEd25519));
    return key;
}

// One DNS answer for every key name: the sealing key's record, NXDOMAIN or a failure.
dns::Answer answer(std::uint8_t mode) {
    dns::Answer a;
    switch (mode % 3) {
        case 0: {
            a.status = dns::Answer::Status::kOk;
            std::string text = key_record_text(sealing_key().public_key());
            std::string rdata(1, static_cast<char>(text.size()));
            a.rdata.push_back(rdata + text);
            break;
        }
        case 1:
            a.status = dns::Answer::Status::kNxDomain;
            break;
        default:
            a.status = dns::Answer::Status::kTempFail;
            a.why = "fuzz";
    }
    return a;
}

ArcResult verify(const std::vector<std::string>& fields, std::string_view body, std::size_t chunk,
                 std::uint8_t mode) {
    ArcVerifyOptions options;
    options.max_header_bytes = kMaxHeader;
    ArcVerifier verifier(options, kNow);
    for (const std::string& f : fields)
        verifier.header(f);
    verifier.end_headers();
    std::size_t queries = 0;
    while (verifier.next_query()) {
        check(++queries <= 2 * kMaxArcInstance);  // an AS and an AMS key per set at most
        verifier.feed(answer(mode));
    }
    for (std::size_t i = 0; i < body.size(); i += chunk)
        verifier.body(body.substr(i, chunk));
    verifier.end_body();
    return verifier.result();
}

void check_chain(const std::vector<std::string>& fields) {
    ArcChain chain = parse_arc_chain(fields);
    if (chain.empty() || !chain.problem.empty()) return;
    check(chain.sets.size() == chain.highest_instance);
    for (std::size_t k = 0; k < chain.sets.size(); ++k) {
        const ArcSet& set = chain.sets[k];
        check(set.instance == k + 1);
        check(set.seal.signature.chain_validation == (k == 0 ? "none" : "pass"));
        check(set.message_signature.signature.instance == k + 1);
    }
}

// `fields` with the ARC set sealed for `cv` on top, or nothing when the sealer refuses.
std::vector<std::string> seal(const std::vector<std::string>& fields, std::string_view body,
                              ChainStatus cv) {
    auto key = std::make_shared<const PrivateKey>(
        std::move(*PrivateKey::from_pem(sealing_key().to_pem())));
    ArcSealer sealer({}, SigningKey{"fuzz.example", "s", key, ""}, kNow);
    for (const std::string& f : fields)
        sealer.header(f);
    sealer.body(body);
    sealer.end_body();
    auto set = sealer.seal(cv, "fuzz.example", "spf=pass");
    if (!set) return {};
    std::vector<std::string> sealed = *set;
    sealed.insert(sealed.end(), fields.begin(), fields.end());
    return sealed;
}

// Sealing a message with no ARC field, then verifying it with the seal's key, passes; so does
// sealing it a second time with cv=pass.
void check_round_trip(const std::vector<std::string>& fields, std::string_view body) {
    std::size_t header = 0;
    for (const std::string& f : fields)
        header += f.size();
    if (header > kMaxHeader / 2) return;  // the new sets must fit under the verifier's limit
    auto once = seal(fields, body, ChainStatus::kNone);
    if (once.empty()) return;  // no From field
    ArcResult r = verify(once, body, body.size() + 1, 0);
    check(r.result == AuthResult::kPass);
    check(r.instances == 1 && r.oldest_pass == 1);
    auto twice = seal(once, body, ChainStatus::kPass);
    check(!twice.empty());
    r = verify(twice, body, body.size() + 1, 0);
    check(r.result == AuthResult::kPass);
    check(r.instances == 2 && r.oldest_pass == 1);
}

}  // namespace
}  // namespace tern::mailauth

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace tern::mailauth;
    if (size < 1) return 0;
    std::uint8_t mode = data[0];
    std::string text =
        tern::message::to_crlf(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
    auto split = tern::message::split_header(text);
    for (const std::string& f : split.fields)
        (void)parse_arc_authentication_results(field_value(f));
    check_chain(split.fields);

    std::string_view body = split.body;
    std::size_t chunk = 1 + (mode >> 2) % 17;
    ArcResult whole = verify(split.fields, body, body.size() + 1, mode);
    ArcResult cut = verify(split.fields, body, chunk, mode);
    tern::fuzz::check(whole.result == AuthResult::kNone || whole.result == AuthResult::kPass ||
                      whole.result == AuthResult::kFail);
    tern::fuzz::check(whole.result == cut.result && whole.reason == cut.reason &&
                      whole.oldest_pass == cut.oldest_pass);
    if (whole.result == AuthResult::kPass)
        tern::fuzz::check(whole.oldest_pass >= 1 && whole.oldest_pass <= whole.instances);
    if (whole.result == AuthResult::kNone) check_round_trip(split.fields, body);
    return 0;
}
