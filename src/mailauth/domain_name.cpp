// A-label conversion with libidn2 (IDNA2008 with the UTS #46 non-transitional mapping, so that
// upper case and other compatibility forms map as browsers and mail clients map them).
#include "mailauth/domain_name.h"

#include <idn2.h>

#include <memory>

#include "base/text.h"

namespace tern::mailauth {
namespace {

constexpr std::size_t kMaxLabel = 63;
constexpr std::size_t kMaxName = 253;

bool ascii_only(std::string_view s) {
    for (char c : s)
        if (static_cast<unsigned char>(c) >= 0x80) return false;
    return true;
}

bool valid_label_octet(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

bool valid_ascii_name(std::string_view name) {
    if (name.empty() || name.size() > kMaxName) return false;
    std::size_t start = 0;
    while (true) {
        std::size_t dot = name.find('.', start);
        std::string_view label = name.substr(start, dot - start);
        if (label.empty() || label.size() > kMaxLabel) return false;
        for (char c : label)
            if (!valid_label_octet(c)) return false;
        if (dot == std::string_view::npos) return true;
        start = dot + 1;
    }
}

struct FreeIdn2 {
    void operator()(char* p) const { idn2_free(p); }
};

}  // namespace

std::optional<std::string> to_a_label(std::string_view domain) {
    if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
    std::string name;
    if (ascii_only(domain)) {
        name = ascii_lower(domain);
    } else {
        std::string input(domain);
        char* raw = nullptr;
        int rc = idn2_lookup_u8(reinterpret_cast<const uint8_t*>(input.c_str()),
                                reinterpret_cast<uint8_t**>(&raw),
                                IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
        std::unique_ptr<char, FreeIdn2> owned(raw);
        if (rc != IDN2_OK || raw == nullptr) return std::nullopt;
        name = ascii_lower(raw);
    }
    if (!valid_ascii_name(name)) return std::nullopt;
    return name;
}

std::size_t label_count(std::string_view domain) {
    if (domain.empty()) return 0;
    std::size_t n = 1;
    for (char c : domain)
        if (c == '.') ++n;
    return n;
}

std::string_view last_labels(std::string_view domain, std::size_t n) {
    if (n == 0) return {};
    std::size_t seen = 0;
    for (std::size_t i = domain.size(); i-- > 0;)
        if (domain[i] == '.' && ++seen == n) return domain.substr(i + 1);
    return domain;
}

bool is_same_or_below(std::string_view domain, std::string_view ancestor) {
    if (ancestor.empty()) return false;
    if (domain.size() == ancestor.size()) return ascii_iequals(domain, ancestor);
    if (domain.size() < ancestor.size() + 1) return false;
    std::string_view tail = domain.substr(domain.size() - ancestor.size());
    return domain[domain.size() - ancestor.size() - 1] == '.' && ascii_iequals(tail, ancestor);
}

}  // namespace tern::mailauth
