// HeaderEdit: one change a pipeline stage makes to a message's header section (prepend a
// field, insert one at a position, remove one), kept apart from the received text so that the
// spool stores the text as it came and delivery applies the edits on the way out.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace tern::message {

struct HeaderEdit {
    enum class Kind {
        kPrepend,  // `field` goes before every other field
        kInsert,   // `field` goes at position `index` (0 = first; beyond the end = last)
        kRemove,   // the field at position `index` goes away
    };
    Kind kind = Kind::kPrepend;
    std::size_t index = 0;  // a position in the header section as the earlier edits left it
    std::string field;      // the whole field: "Name: value" with folding and the final CRLF

    bool operator==(const HeaderEdit&) const = default;
};

// Applies `edits` in order to `fields` (raw fields, top first). A removal beyond the end is
// ignored; an insertion beyond the end appends.
void apply_edits(std::vector<std::string>& fields, const std::vector<HeaderEdit>& edits);

// The octets the edits add to a header section (negative when they remove more); `fields` is
// the section before the edits, needed for the sizes of removed fields.
long long edits_size_delta(const std::vector<std::string>& fields,
                           const std::vector<HeaderEdit>& edits);

}  // namespace tern::message
