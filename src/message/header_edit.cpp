// HeaderEdit: applying a sequence of edits to a header section, positions counted as each edit
// finds the section.
#include "message/header_edit.h"

#include <algorithm>

namespace tern::message {

void apply_edits(std::vector<std::string>& fields, const std::vector<HeaderEdit>& edits) {
    for (const auto& e : edits) {
        switch (e.kind) {
            case HeaderEdit::Kind::kPrepend:
                fields.insert(fields.begin(), e.field);
                break;
            case HeaderEdit::Kind::kInsert:
                fields.insert(
                    fields.begin() + static_cast<std::ptrdiff_t>(std::min(e.index, fields.size())),
                    e.field);
                break;
            case HeaderEdit::Kind::kRemove:
                if (e.index < fields.size())
                    fields.erase(fields.begin() + static_cast<std::ptrdiff_t>(e.index));
                break;
        }
    }
}

long long edits_size_delta(const std::vector<std::string>& fields,
                           const std::vector<HeaderEdit>& edits) {
    auto total = [](const std::vector<std::string>& list) {
        long long n = 0;
        for (const auto& f : list)
            n += static_cast<long long>(f.size());
        return n;
    };
    std::vector<std::string> after = fields;
    apply_edits(after, edits);
    return total(after) - total(fields);
}

}  // namespace tern::message
