// HeaderEdit: prepend, insert and remove applied in order, each on the section as the edits
// before it left it, and the size they add.
#include "message/header_edit.h"

#include <gtest/gtest.h>

namespace tern::message {
namespace {

TEST(HeaderEdit, EditsApplyInOrder) {
    std::vector<std::string> fields{"A: 1\r\n", "B: 2\r\n", "C: 3\r\n"};
    std::vector<HeaderEdit> edits{
        {HeaderEdit::Kind::kPrepend, 0, "P: 0\r\n"},  // P A B C
        {HeaderEdit::Kind::kRemove, 2, ""},           // P A C
        {HeaderEdit::Kind::kInsert, 1, "I: x\r\n"},   // P I A C
        {HeaderEdit::Kind::kInsert, 99, "Z: z\r\n"},  // P I A C Z
        {HeaderEdit::Kind::kRemove, 99, ""},          // beyond the end: nothing
    };
    EXPECT_EQ(edits_size_delta(fields, edits), 6 + 6 + 6 - 6);
    apply_edits(fields, edits);
    EXPECT_EQ(fields, (std::vector<std::string>{"P: 0\r\n", "I: x\r\n", "A: 1\r\n", "C: 3\r\n",
                                                "Z: z\r\n"}));
}

}  // namespace
}  // namespace tern::message
