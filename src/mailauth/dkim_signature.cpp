// DKIM-Signature tag validation, RFC 6376 sections 3.5 and 6.1.1, with RFC 8301's refusal of
// rsa-sha1, and what differs in the ARC signature fields (RFC 8617 sections 4.1.2, 4.1.3).
// Algorithm, canonicalisation and query words compare case-insensitively (ABNF strings); tag
// names and v= exactly.
#include "mailauth/dkim_signature.h"

#include <array>

#include "base/base64.h"
#include "base/text.h"
#include "mailauth/tag_list.h"

namespace tern::mailauth {
namespace {

// A field name (RFC 5322 ftext: printable ASCII but the colon).
bool is_field_name(std::string_view name) {
    if (name.empty()) return false;
    for (char c : name)
        if (c < 0x21 || c > 0x7E || c == ':') return false;
    return true;
}

bool in_domain(std::string_view host, std::string_view domain) {
    if (ascii_iequals(host, domain)) return true;
    return host.size() > domain.size() && host[host.size() - domain.size() - 1] == '.' &&
           ascii_iequals(host.substr(host.size() - domain.size()), domain);
}

SignatureProblem neutral(std::string reason) {
    return SignatureProblem{AuthResult::kNeutral, std::move(reason)};
}

// The tags that say which field this is: v=1 for DKIM, i= (the instance) for ARC, and cv= for
// an ARC-Seal. nullopt when they are right.
std::optional<SignatureProblem> check_kind(const std::vector<Tag>& tags, SignatureField field,
                                           DkimSignature& sig) {
    if (field == SignatureField::kDkim) {
        const Tag* v = find_tag(tags, "v");
        if (v == nullptr) return neutral("no v= tag");
        if (v->value != "1") return neutral("v=" + std::string(v->value) + " is not version 1");
        return std::nullopt;
    }
    const Tag* i = find_tag(tags, "i");
    if (i == nullptr) return neutral("no i= tag");
    auto instance = parse_decimal(i->value, 2);
    if (!instance || *instance < 1 || *instance > kMaxArcInstance)
        return neutral("i=" + std::string(i->value) + " is not an instance from 1 to 50");
    sig.instance = static_cast<unsigned>(*instance);
    if (field == SignatureField::kArcMessage) return std::nullopt;
    const Tag* cv = find_tag(tags, "cv");
    if (cv == nullptr) return neutral("no cv= tag");
    sig.chain_validation = ascii_lower(cv->value);
    if (sig.chain_validation != "none" && sig.chain_validation != "pass" &&
        sig.chain_validation != "fail")
        return neutral("cv=" + std::string(cv->value) + " is not none, pass or fail");
    if (find_tag(tags, "h") != nullptr) return neutral("an ARC-Seal may not have h=");
    return std::nullopt;
}

// h=: field names, From among them, and no ARC-Seal in an ARC-Message-Signature.
std::optional<SignatureProblem> check_signed_fields(std::string_view value, SignatureField field,
                                                    DkimSignature& sig) {
    bool from = false;
    for (std::string_view name : split_colon_list(value)) {
        if (!is_field_name(name)) return neutral("h= holds a name that is not a field name");
        if (field == SignatureField::kArcMessage && ascii_iequals(name, "ARC-Seal"))
            return neutral("h= names ARC-Seal (RFC 8617 section 4.1.2)");
        from = from || ascii_iequals(name, "from");
        sig.signed_fields.emplace_back(name);
    }
    if (!from) return neutral("h= does not include From");
    return std::nullopt;
}

// Everything but the tags read first in parse_dkim_signature; nullopt when all is well.
std::optional<SignatureProblem> check_tags(const std::vector<Tag>& tags, SignatureField field,
                                           DkimSignature& sig) {
    if (auto problem = check_kind(tags, field, sig)) return problem;
    bool seal = field == SignatureField::kArcSeal;
    for (const char* name : {"a", "b", "bh", "d", "h", "s"}) {
        bool needed = !seal || (std::string_view(name) != "bh" && std::string_view(name) != "h");
        if (needed && find_tag(tags, name) == nullptr)
            return neutral("no " + std::string(name) + "= tag");
    }

    std::string a = ascii_lower(find_tag(tags, "a")->value);
    auto algorithm = parse_algorithm(a);
    if (a == "rsa-sha1")
        return SignatureProblem{AuthResult::kFail, "rsa-sha1 is refused (RFC 8301)"};
    if (!algorithm) return neutral("a=" + sig.algorithm_text + " is not a known algorithm");
    sig.algorithm = *algorithm;

    if (const Tag* c = find_tag(tags, "c"); c != nullptr && !seal) {
        std::string word = ascii_lower(c->value);
        auto slash = word.find('/');
        auto header = parse_canon(word.substr(0, slash));
        auto body = slash == std::string::npos ? std::optional(Canon::kSimple)
                                               : parse_canon(word.substr(slash + 1));
        if (!header || !body) return neutral("c=" + std::string(c->value) + " is not known");
        sig.header_canon = *header;
        sig.body_canon = *body;
    }
    if (seal) sig.header_canon = Canon::kRelaxed;  // RFC 8617 section 5.1.1
    if (!is_dns_name(sig.domain)) return neutral("d= is not a domain name");
    if (!is_dns_name(sig.selector)) return neutral("s= is not a selector");

    if (!seal) {
        auto problem = check_signed_fields(find_tag(tags, "h")->value, field, sig);
        if (problem) return problem;
    }

    if (const Tag* i = find_tag(tags, "i"); i != nullptr && field == SignatureField::kDkim) {
        auto identity = decode_dkim_quoted_printable(i->value);
        if (!identity) return neutral("i= is not dkim-quoted-printable");
        auto at = identity->rfind('@');
        if (at == std::string::npos) return neutral("i= has no '@'");
        if (!in_domain(std::string_view(*identity).substr(at + 1), sig.domain))
            return neutral("i= is not in the domain of d=");
        sig.identity = std::move(*identity);
    }
    if (const Tag* l = find_tag(tags, "l"); l != nullptr && !seal) {
        sig.body_length = parse_decimal(l->value, 76);
        if (!sig.body_length) return neutral("l= is not a number of at most 76 digits");
    }
    if (const Tag* q = find_tag(tags, "q")) {
        bool dns = false;
        for (std::string_view method : split_colon_list(q->value))
            dns = dns || ascii_iequals(method, "dns/txt");
        if (!dns) return neutral("q= does not offer dns/txt");
    }
    for (auto [name, out] :
         std::array{std::pair{"t", &sig.timestamp}, std::pair{"x", &sig.expiration}}) {
        const Tag* tag = find_tag(tags, name);
        if (tag == nullptr) continue;
        auto n = parse_decimal(tag->value, 12);  // 1*12DIGIT: never past year 33658
        if (!n) return neutral(std::string(name) + "= is not a number of at most 12 digits");
        *out = static_cast<std::int64_t>(*n);
    }
    if (sig.timestamp && sig.expiration && *sig.expiration <= *sig.timestamp)
        return neutral("x= is not after t=");

    if (!seal) {
        auto body_hash = base64_decode(without_fws(find_tag(tags, "bh")->value));
        if (!body_hash) return neutral("bh= is not base64");
        sig.body_hash = std::move(*body_hash);
    }
    sig.signature_text = without_fws(find_tag(tags, "b")->value);
    auto signature = base64_decode(sig.signature_text);
    if (!signature) return neutral("b= is not base64");
    if (signature->empty()) return neutral("b= is empty");
    sig.signature = std::move(*signature);
    return std::nullopt;
}

}  // namespace

std::optional<SignatureProblem> check_signature_times(const DkimSignature& sig, std::int64_t now,
                                                      std::int64_t skew) {
    if (sig.expiration && now > *sig.expiration + skew)
        return SignatureProblem{AuthResult::kFail,
                                "signature expired (x=" + std::to_string(*sig.expiration) + ")"};
    if (sig.timestamp && *sig.timestamp > now + skew)
        return SignatureProblem{AuthResult::kFail, "signature made in the future (t=" +
                                                       std::to_string(*sig.timestamp) + ")"};
    return std::nullopt;
}

ParsedSignature parse_dkim_signature(std::string_view value, SignatureField field) {
    ParsedSignature parsed;
    auto tags = parse_tag_list(value);
    if (!tags) {
        parsed.problem = neutral(tags.error());
        return parsed;
    }
    // What a report names the signature by, read first so that it is there on any error.
    DkimSignature& sig = parsed.signature;
    if (const Tag* d = find_tag(*tags, "d")) sig.domain = ascii_lower(d->value);
    if (const Tag* s = find_tag(*tags, "s")) sig.selector = ascii_lower(s->value);
    if (const Tag* a = find_tag(*tags, "a")) sig.algorithm_text = a->value;
    if (field == SignatureField::kDkim) sig.identity = "@" + sig.domain;
    parsed.problem = check_tags(*tags, field, sig);
    return parsed;
}

}  // namespace tern::mailauth
