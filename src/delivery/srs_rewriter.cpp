// SrsRewriter: the rules of docs/srs.md on top of the codec: which deliveries get an SRS return
// path (forwarded recipients of foreign senders) and which RCPT addresses are reversed.
#include "delivery/srs_rewriter.h"

#include "base/text.h"

namespace tern::delivery {
namespace {

std::string_view domain_of(std::string_view address) {
    auto at = address.rfind('@');
    return at == std::string_view::npos ? std::string_view() : address.substr(at + 1);
}

// The local part without its quotes ("\"a b\"" -> "a b"), as the SRS local part holds it.
std::string unquote(std::string_view local) {
    if (local.size() < 2 || local.front() != '"' || local.back() != '"') return std::string(local);
    std::string out;
    for (std::size_t i = 1; i + 1 < local.size(); ++i) {
        if (local[i] == '\\' && i + 2 < local.size()) ++i;
        out += local[i];
    }
    return out;
}

// An SRS local part that is not a dot-atom (a space from a quoted original) is quoted again.
std::string quote_if_needed(std::string_view local) {
    static constexpr std::string_view kAtext =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~.";
    bool atom = !local.empty() && local.front() != '.' && local.back() != '.' &&
                local.find("..") == std::string_view::npos;
    for (unsigned char c : local)
        if (c < 0x80 && kAtext.find(static_cast<char>(c)) == std::string_view::npos) atom = false;
    if (atom) return std::string(local);
    std::string out = "\"";
    for (char c : local) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

}  // namespace

SrsRewriter::SrsRewriter(SrsRewriterOptions options,
                         std::function<bool(std::string_view)> is_local_domain,
                         std::string default_domain)
    : options_(std::move(options)),
      codec_(options_.codec),
      is_local_domain_(std::move(is_local_domain)),
      default_domain_(std::move(default_domain)) {}

std::string SrsRewriter::return_path(const spool::Message& m, const spool::Recipient& r,
                                     std::int64_t now) const {
    if (!options_.enabled || !r.forwarded || m.sender.empty()) return m.sender;
    std::string_view sender_domain = domain_of(m.sender);
    if (sender_domain.empty() || is_local_domain_(sender_domain)) return m.sender;
    std::string domain = options_.domain;
    if (domain.empty()) {
        domain = ascii_lower(domain_of(r.original));
        if (domain.empty()) domain = default_domain_;
    }
    if (ascii_iequals(sender_domain, domain)) return m.sender;
    auto at = m.sender.rfind('@');
    std::string plain = unquote(std::string_view(m.sender).substr(0, at)) + m.sender.substr(at);
    auto made = codec_.forward(plain, domain, now);
    if (!made) return m.sender;
    auto made_at = made->rfind('@');
    return quote_if_needed(std::string_view(*made).substr(0, made_at)) + made->substr(made_at);
}

bool SrsRewriter::is_ours(std::string_view local, std::string_view domain) const {
    if (!options_.enabled || !is_srs_local_part(local)) return false;
    return is_local_domain_(domain) ||
           (!options_.domain.empty() && ascii_iequals(domain, options_.domain));
}

}  // namespace tern::delivery
