// Key record parsing and writing, RFC 6376 section 3.6.1.
#include "mailauth/key_record.h"

#include <algorithm>

#include "base/base64.h"
#include "mailauth/tag_list.h"

namespace tern::mailauth {
namespace {

std::vector<std::string> colon_list(std::string_view value) {
    std::vector<std::string> out;
    for (std::string_view item : split_colon_list(value))
        out.emplace_back(item);
    return out;
}

bool contains(const std::vector<std::string>& list, std::string_view word) {
    return std::find(list.begin(), list.end(), word) != list.end();
}

}  // namespace

bool KeyRecord::allows_sha256() const {
    return hashes.empty() || contains(hashes, "sha256");
}

bool KeyRecord::allows_email() const {
    return services.empty() || contains(services, "email") || contains(services, "*");
}

std::expected<KeyRecord, std::string> parse_key_record(std::string_view text) {
    auto tags = parse_tag_list(text);
    if (!tags) return std::unexpected(tags.error());
    KeyRecord record;
    for (std::size_t i = 0; i < tags->size(); ++i) {
        const Tag& tag = (*tags)[i];
        if (tag.name == "v") {
            if (i != 0) return std::unexpected("v= is not the first tag");
            if (tag.value != "DKIM1") return std::unexpected("v= is not DKIM1");
        } else if (tag.name == "k") {
            auto type = parse_key_type(tag.value);
            if (!type) return std::unexpected("k=" + std::string(tag.value) + " is not known");
            record.type = *type;
        } else if (tag.name == "h") {
            record.hashes = colon_list(tag.value);
        } else if (tag.name == "s") {
            record.services = colon_list(tag.value);
        } else if (tag.name == "t") {
            for (std::string_view flag : split_colon_list(tag.value)) {
                if (flag == "y") record.testing = true;
                if (flag == "s") record.strict_identity = true;
            }
        }
    }
    const Tag* p = find_tag(*tags, "p");
    if (p == nullptr) return std::unexpected("no p= tag");
    auto key = base64_decode(without_fws(p->value));
    if (!key) return std::unexpected("p= is not base64");
    record.key = std::move(*key);
    return record;
}

std::string key_record_text(const PublicKey& key, bool testing) {
    std::string text = "v=DKIM1; k=" + std::string(key_type_name(key.type()));
    if (testing) text += "; t=y";
    return text + "; p=" + key.record_value();
}

std::vector<std::string> txt_strings(std::string_view text) {
    std::vector<std::string> out;
    do {
        out.emplace_back(text.substr(0, 255));
        text.remove_prefix(std::min<std::size_t>(255, text.size()));
    } while (!text.empty());
    return out;
}

}  // namespace tern::mailauth
