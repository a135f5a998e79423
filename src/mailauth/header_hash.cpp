// Header field selection (bottom-up, RFC 6376 section 5.4.2), b= removal (section 3.7) and the
// header hash. Cost: linear in the number of fields plus the number of names.
#include "mailauth/header_hash.h"

#include <unordered_map>

#include "base/text.h"
#include "mailauth/tag_list.h"

namespace tern::mailauth {

std::vector<std::optional<std::size_t>> select_fields(std::span<const std::string> fields,
                                                      std::span<const std::string> names,
                                                      std::optional<std::size_t> skip) {
    // Instances of each name, top first; each listing takes the lowest one not yet taken.
    std::unordered_map<std::string, std::vector<std::size_t>> instances;
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (skip && *skip == i) continue;
        std::string_view name = field_name(fields[i]);
        if (!name.empty()) instances[ascii_lower(name)].push_back(i);
    }
    std::vector<std::optional<std::size_t>> chosen;
    chosen.reserve(names.size());
    for (const std::string& name : names) {
        auto it = instances.find(ascii_lower(name));
        if (it == instances.end() || it->second.empty()) {
            chosen.push_back(std::nullopt);
            continue;
        }
        chosen.push_back(it->second.back());
        it->second.pop_back();
    }
    return chosen;
}

std::string without_signature_value(std::string_view raw_field) {
    auto colon = raw_field.find(':');
    if (colon == std::string_view::npos) return std::string(raw_field);
    std::string_view value = raw_field.substr(colon + 1);
    if (value.ends_with("\r\n")) value.remove_suffix(2);
    auto tags = parse_tag_list(value);
    if (!tags) return std::string(raw_field);
    const Tag* b = find_tag(*tags, "b");
    if (b == nullptr) return std::string(raw_field);
    std::string out(raw_field.substr(0, colon + 1 + b->raw_begin));
    out += raw_field.substr(colon + 1 + b->raw_end);
    return out;
}

void HeaderHasher::add_field(std::string_view raw_field) {
    hash_.update(canonical_header(raw_field, canon_));
}

void HeaderHasher::add_signature_field(std::string_view raw_field_without_b) {
    if (raw_field_without_b.ends_with("\r\n")) raw_field_without_b.remove_suffix(2);
    hash_.update(canonical_header(raw_field_without_b, canon_));
}

std::string header_digest(std::span<const std::string> fields, std::span<const std::string> names,
                          Canon canon, std::string_view signature_field_without_b,
                          std::optional<std::size_t> skip) {
    HeaderHasher hasher(canon);
    for (auto index : select_fields(fields, names, skip))
        if (index) hasher.add_field(fields[*index]);
    hasher.add_signature_field(signature_field_without_b);
    return hasher.finish();
}

}  // namespace tern::mailauth
