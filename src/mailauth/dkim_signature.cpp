// DKIM-Signature tag validation, RFC 6376 sections 3.5 and 6.1.1, with RFC 8301's refusal of
// rsa-sha1. Algorithm, canonicalisation and query words compare case-insensitively (ABNF
// strings); tag names and v= exactly.
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

// Everything but the tags read first in parse_dkim_signature; nullopt when all is well.
std::optional<SignatureProblem> check_tags(const std::vector<Tag>& tags, DkimSignature& sig) {
    const Tag* v = find_tag(tags, "v");
    if (v == nullptr) return neutral("no v= tag");
    if (v->value != "1") return neutral("v=" + std::string(v->value) + " is not version 1");
    for (const char* name : {"a", "b", "bh", "d", "h", "s"})
        if (find_tag(tags, name) == nullptr) return neutral("no " + std::string(name) + "= tag");

    std::string a = ascii_lower(find_tag(tags, "a")->value);
    auto algorithm = parse_algorithm(a);
    if (a == "rsa-sha1")
        return SignatureProblem{AuthResult::kFail, "rsa-sha1 is refused (RFC 8301)"};
    if (!algorithm) return neutral("a=" + sig.algorithm_text + " is not a known algorithm");
    sig.algorithm = *algorithm;

    if (const Tag* c = find_tag(tags, "c")) {
        std::string word = ascii_lower(c->value);
        auto slash = word.find('/');
        auto header = parse_canon(word.substr(0, slash));
        auto body = slash == std::string::npos ? std::optional(Canon::kSimple)
                                               : parse_canon(word.substr(slash + 1));
        if (!header || !body) return neutral("c=" + std::string(c->value) + " is not known");
        sig.header_canon = *header;
        sig.body_canon = *body;
    }
    if (!is_dns_name(sig.domain)) return neutral("d= is not a domain name");
    if (!is_dns_name(sig.selector)) return neutral("s= is not a selector");

    bool from = false;
    for (std::string_view name : split_colon_list(find_tag(tags, "h")->value)) {
        if (!is_field_name(name)) return neutral("h= holds a name that is not a field name");
        from = from || ascii_iequals(name, "from");
        sig.signed_fields.emplace_back(name);
    }
    if (!from) return neutral("h= does not include From");

    if (const Tag* i = find_tag(tags, "i")) {
        auto identity = decode_dkim_quoted_printable(i->value);
        if (!identity) return neutral("i= is not dkim-quoted-printable");
        auto at = identity->rfind('@');
        if (at == std::string::npos) return neutral("i= has no '@'");
        if (!in_domain(std::string_view(*identity).substr(at + 1), sig.domain))
            return neutral("i= is not in the domain of d=");
        sig.identity = std::move(*identity);
    }
    if (const Tag* l = find_tag(tags, "l")) {
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

    auto body_hash = base64_decode(without_fws(find_tag(tags, "bh")->value));
    if (!body_hash) return neutral("bh= is not base64");
    sig.body_hash = std::move(*body_hash);
    sig.signature_text = without_fws(find_tag(tags, "b")->value);
    auto signature = base64_decode(sig.signature_text);
    if (!signature) return neutral("b= is not base64");
    if (signature->empty()) return neutral("b= is empty");
    sig.signature = std::move(*signature);
    return std::nullopt;
}

}  // namespace

bool is_dns_name(std::string_view name) {
    if (name.empty() || name.size() > 253) return false;
    std::size_t label = 0;
    for (char c : name) {
        if (c == '.') {
            if (label == 0) return false;
            label = 0;
            continue;
        }
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
        if (!ok || ++label > 63) return false;
    }
    return label > 0;
}

ParsedSignature parse_dkim_signature(std::string_view value) {
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
    sig.identity = "@" + sig.domain;
    parsed.problem = check_tags(*tags, sig);
    return parsed;
}

}  // namespace tern::mailauth
