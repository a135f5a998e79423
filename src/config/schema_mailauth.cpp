// Configuration schema: the keys of [mailauth] and [dkim]: which listeners verify SPF, DKIM,
// ARC and DMARC, what a DMARC failure leads to, and the keys Tern signs with.
#include "base/text.h"
#include "config/schema.h"

namespace tern::config {
namespace {

// "domain selector key-file": three words.
std::string check_dkim_key(std::string_view s) {
    auto words = split_blanks(s);
    if (words.size() == 3 && words[0].find('@') == std::string_view::npos) return "";
    return "\"" + std::string(s) + "\" is not \"domain selector key-file\"";
}

}  // namespace

std::vector<Key> mailauth_keys() {
    return {
        // [mailauth]: verifying
        {"mailauth", "authserv_id", Kind::kString, R"("")",
         "The authserv-id of the Authentication-Results field Tern adds (RFC 8601); incoming "
         "fields claiming it are removed. Empty means server.hostname.",
         [](Config& c, const Value& v) { c.authserv_id = v.text; }},
        {"mailauth",
         "verify",
         Kind::kStringList,
         R"(["mx", "submission"])",
         "Listeners whose mail is verified (SPF, DKIM, DMARC) and gets an Authentication-Results "
         "field: \"mx\", \"submission\" (submission and submissions). Mail from trusted "
         "clients (authenticated, or in relay.trusted_networks) is verified only when it has a "
         "local recipient, and its results are recorded, never enforced.",
         [](Config& c, const Value& v) { c.verify_on = v.list; },
         0,
         UINT64_MAX,
         {},
         check_listener},
        {"mailauth", "spf", Kind::kBool, "true",
         "Check SPF (RFC 7208) of the MAIL FROM identity, or of the HELO name for a null sender.",
         [](Config& c, const Value& v) { c.verify_spf = v.flag; }},
        {"mailauth", "dkim", Kind::kBool, "true",
         "Verify DKIM signatures (RFC 6376, RFC 8463; RFC 8301's key and hash rules).",
         [](Config& c, const Value& v) { c.verify_dkim = v.flag; }},
        {"mailauth", "arc", Kind::kBool, "true",
         "Validate the ARC chain (RFC 8617) of forwarded mail.",
         [](Config& c, const Value& v) { c.verify_arc = v.flag; }},
        {"mailauth", "dmarc", Kind::kBool, "true",
         "Apply DMARC (DMARCbis) to the From domain, using the SPF and DKIM results.",
         [](Config& c, const Value& v) { c.verify_dmarc = v.flag; }},
        {"mailauth", "timeout", Kind::kDuration, R"("20s")",
         "DNS time one message's checks may take together; SPF and DMARC past it are temperror.",
         [](Config& c, const Value& v) { c.mailauth_timeout = v.duration; }, 1, 600},
        {"mailauth", "dkim_max_signatures", Kind::kCount, "10",
         "DKIM-Signature fields checked per message; the rest are reported unchecked (neutral).",
         [](Config& c, const Value& v) { c.dkim_max_signatures = v.number; }, 1, 1000},
        {"mailauth",
         "dmarc_reject",
         Kind::kEnum,
         R"("reject")",
         "What mail failing DMARC under p=reject gets: reject (550 5.7.1 at the end of DATA), "
         "hold (queued on hold for the postmaster), tag (delivered with an X-Tern-DMARC field) or "
         "accept.",
         [](Config& c, const Value& v) { c.dmarc_on_reject = v.text; },
         0,
         0,
         {"reject", "hold", "tag", "accept"}},
        {"mailauth",
         "dmarc_quarantine",
         Kind::kEnum,
         R"("tag")",
         "What mail failing DMARC under p=quarantine gets: hold, tag or accept.",
         [](Config& c, const Value& v) { c.dmarc_on_quarantine = v.text; },
         0,
         0,
         {"hold", "tag", "accept"}},
        {"mailauth",
         "dmarc_temperror",
         Kind::kEnum,
         R"("accept")",
         "When a DNS failure keeps DMARC from an answer: accept (fail open) or defer (451 4.4.3, "
         "the sender tries again).",
         [](Config& c, const Value& v) { c.dmarc_on_temperror = v.text; },
         0,
         0,
         {"accept", "defer"}},
        {"mailauth", "trusted_arc_sealers", Kind::kStringList, "[]",
         "Forwarders (ARC-Seal d= domains) whose recorded dmarc=pass overrides a DMARC failure "
         "here, when their ARC chain validates (mailing lists that rewrite messages).",
         [](Config& c, const Value& v) { c.trusted_arc_sealers = v.list; }},
        {"mailauth", "arc_seal", Kind::kBool, "true",
         "Add an ARC set (RFC 8617) to mail from other hosts that a local alias forwards to a "
         "remote address, sealed with the RSA signing key of the alias's domain ([dkim] keys or a "
         "generated one); needs mailauth.arc to judge the chain it extends.",
         [](Config& c, const Value& v) { c.arc_seal = v.flag; }},
        // [dkim]: signing
        {"dkim", "sign", Kind::kBool, "true",
         "Sign mail whose From domain is a signing domain, when it comes from a trusted client "
         "(authenticated, or in relay.trusted_networks) or is a notice of Tern's own.",
         [](Config& c, const Value& v) { c.dkim_sign = v.flag; }},
        {"dkim", "domains", Kind::kStringList, "[]",
         "Signing domains; empty means the local domains (local.domains).",
         [](Config& c, const Value& v) { c.dkim_domains = v.list; }},
        {"dkim",
         "keys",
         Kind::kStringList,
         "[]",
         "Signing keys, each \"domain selector key-file\" (PEM, RSA of 1024 bits or more, or "
         "Ed25519); several for one domain sign together (dual signing). `tern dkim keygen` "
         "makes them.",
         [](Config& c, const Value& v) { c.dkim_keys = v.list; },
         0,
         UINT64_MAX,
         {},
         check_dkim_key},
        {"dkim", "generate_keys", Kind::kBool, "true",
         "A signing domain without a key in dkim.keys gets an RSA-2048 and an Ed25519 key "
         "(selectors tern-rsa and tern-ed25519) made in dkim.key_dir on first start; the DNS "
         "records to publish are logged.",
         [](Config& c, const Value& v) { c.dkim_generate_keys = v.flag; }},
        {"dkim", "key_dir", Kind::kString, R"("")",
         "Directory of generated keys; empty means <data_dir>/dkim.",
         [](Config& c, const Value& v) { c.dkim_key_dir = v.text; }},
    };
}

}  // namespace tern::config
