// The RFC 8601 result keywords, both ways.
#include "mailauth/auth_result.h"

#include <gtest/gtest.h>

namespace tern::mailauth {
namespace {

TEST(AuthResult, NamesRoundTrip) {
    for (auto r : {AuthResult::kNone, AuthResult::kPass, AuthResult::kFail, AuthResult::kSoftFail,
                   AuthResult::kNeutral, AuthResult::kTempError, AuthResult::kPermError,
                   AuthResult::kPolicy})
        EXPECT_EQ(parse_result(result_name(r)), r);
    EXPECT_EQ(parse_result("PermError"), AuthResult::kPermError);
    EXPECT_EQ(parse_result("hardfail"), std::nullopt);
}

}  // namespace
}  // namespace tern::mailauth
