// RFC 5322 section 3.4 address lists, read token by token: comments (nested, with quoted pairs),
// quoted strings and domain literals are whole tokens, so a ',' '@' or '<' inside them never
// splits an address. Group syntax (RFC 6854) and obsolete routes ("<@a,@b:u@c>") are accepted.
#include "mailauth/author_domain.h"

#include <algorithm>
#include <span>

#include "base/text.h"
#include "mailauth/domain_name.h"
#include "mailauth/header_field.h"

namespace tern::mailauth {
namespace {

struct Token {
    enum class Kind { kAtom, kQuoted, kLiteral, kSpecial };
    Kind kind;
    std::string_view text;  // the atom, the quoted string or literal with its delimiters, the char
    bool special(char c) const { return kind == Kind::kSpecial && text[0] == c; }
};

bool is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// RFC 5322 specials, which end an atom ('.' is kept inside atoms: dot-atoms are one token).
bool is_special(char c) {
    return std::string_view("()<>[]:;@\\,\"").find(c) != std::string_view::npos;
}

// The end of the delimited run starting at text[i] (a quote, comment or literal), past its
// closing delimiter; npos when it is not closed. Comments nest; backslash quotes a character.
std::size_t delimited_end(std::string_view text, std::size_t i) {
    char open = text[i];
    char close = open == '"' ? '"' : open == '(' ? ')' : ']';
    int depth = 1;
    for (std::size_t j = i + 1; j < text.size(); ++j) {
        char c = text[j];
        if (c == '\\') {
            ++j;
        } else if (open == '(' && c == '(') {
            ++depth;
        } else if (c == close && --depth == 0) {
            return j + 1;
        }
    }
    return std::string_view::npos;
}

// The tokens of `text` without comments and blanks; nullopt when a quote, comment or literal is
// not closed.
std::optional<std::vector<Token>> tokenize(std::string_view text) {
    std::vector<Token> tokens;
    std::size_t i = 0;
    while (i < text.size()) {
        char c = text[i];
        if (is_blank(c)) {
            ++i;
        } else if (c == '"' || c == '(' || c == '[') {
            std::size_t end = delimited_end(text, i);
            if (end == std::string_view::npos) return std::nullopt;
            if (c != '(') {
                auto kind = c == '"' ? Token::Kind::kQuoted : Token::Kind::kLiteral;
                tokens.push_back({kind, text.substr(i, end - i)});
            }
            i = end;
        } else if (is_special(c)) {
            tokens.push_back({Token::Kind::kSpecial, text.substr(i, 1)});
            ++i;
        } else {
            std::size_t end = i;
            while (end < text.size() && !is_blank(text[end]) && !is_special(text[end]))
                ++end;
            tokens.push_back({Token::Kind::kAtom, text.substr(i, end - i)});
            i = end;
        }
    }
    return tokens;
}

using Span = std::span<const Token>;

// The domain of an addr-spec (local-part "@" domain); nullopt when it is not one, "" for a
// domain literal. Dots may stand apart from atoms (obs-domain allows CFWS around them).
std::optional<std::string> addr_spec_domain(Span spec) {
    auto at =
        std::find_if(spec.rbegin(), spec.rend(), [](const Token& t) { return t.special('@'); });
    if (at == spec.rend()) return std::nullopt;
    std::size_t at_index = spec.size() - 1 - static_cast<std::size_t>(at - spec.rbegin());
    Span local = spec.first(at_index);
    Span domain = spec.subspan(at_index + 1);
    if (local.empty() || domain.empty()) return std::nullopt;
    for (const Token& t : local)
        if (t.kind == Token::Kind::kSpecial || t.kind == Token::Kind::kLiteral) return std::nullopt;
    if (domain.size() == 1 && domain[0].kind == Token::Kind::kLiteral) return std::string();
    std::string name;
    for (const Token& t : domain) {
        if (t.kind != Token::Kind::kAtom) return std::nullopt;
        name += t.text;
    }
    return name;
}

// The domain of one mailbox: name-addr ("Name <addr-spec>", with an obsolete route allowed) or
// a bare addr-spec.
std::optional<std::string> mailbox_domain(Span box) {
    auto open = std::find_if(box.begin(), box.end(), [](const Token& t) { return t.special('<'); });
    if (open == box.end()) return addr_spec_domain(box);
    auto close = std::find_if(open, box.end(), [](const Token& t) { return t.special('>'); });
    if (close == box.end() || close + 1 != box.end()) return std::nullopt;
    Span inner(open + 1, close);
    auto route_end =
        std::find_if(inner.rbegin(), inner.rend(), [](const Token& t) { return t.special(':'); });
    if (route_end != inner.rend())
        inner = inner.last(static_cast<std::size_t>(route_end - inner.rbegin()));
    return addr_spec_domain(inner);
}

// Splits the tokens into mailboxes at ',' outside angle brackets; a group's name and ':' are
// dropped and its ';' ends it. Returns nullopt when a mailbox is malformed.
std::optional<std::vector<std::string>> mailbox_domains(const std::vector<Token>& tokens) {
    std::vector<std::string> domains;
    std::size_t start = 0;
    int angle = 0;
    auto flush = [&](std::size_t end) -> bool {
        Span box(tokens.data() + start, end - start);
        start = end + 1;
        if (box.empty()) return true;  // "a@b,,c@d" and empty groups name nothing
        auto d = mailbox_domain(box);
        if (!d) return false;
        domains.push_back(std::move(*d));
        return true;
    };
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        const Token& t = tokens[i];
        if (t.special('<')) {
            ++angle;
        } else if (t.special('>')) {
            --angle;
        } else if (angle == 0 && t.special(':')) {
            start = i + 1;  // the group's display name is not an address
        } else if (angle == 0 && (t.special(',') || t.special(';'))) {
            if (!flush(i)) return std::nullopt;
        }
    }
    if (angle != 0 || !flush(tokens.size())) return std::nullopt;
    return domains;
}

}  // namespace

AuthorDomain author_domain_of(std::string_view from_value) {
    AuthorDomain author;
    auto tokens = tokenize(from_value);
    auto domains = tokens ? mailbox_domains(*tokens) : std::nullopt;
    if (!domains) {
        author.problem = "the From field is not a list of addresses";
        return author;
    }
    for (const std::string& raw : *domains) {
        if (raw.empty()) {
            author.problem = "a From address has a domain literal, not a domain name";
            return author;
        }
        auto name = to_a_label(raw);
        if (!name) {
            author.problem = "the From domain is not a DNS name";
            return author;
        }
        if (std::find(author.domains.begin(), author.domains.end(), *name) == author.domains.end())
            author.domains.push_back(std::move(*name));
    }
    if (author.domains.empty()) {
        author.problem = "the From field names no address";
    } else if (author.domains.size() > 1) {
        author.problem =
            "the From field names " + std::to_string(author.domains.size()) + " domains";
    } else {
        author.domain = author.domains.front();
    }
    return author;
}

void AuthorDomainFinder::header_field(std::string_view raw) {
    auto value = header_value(raw, "From");
    if (!value) return;
    if (++from_fields_ == 1) from_values_.emplace_back(*value);
}

AuthorDomain AuthorDomainFinder::result() const {
    if (from_fields_ == 1) return author_domain_of(from_values_.front());
    AuthorDomain author;
    author.problem = from_fields_ == 0
                         ? "the message has no From field"
                         : "the message has " + std::to_string(from_fields_) + " From fields";
    return author;
}

}  // namespace tern::mailauth
