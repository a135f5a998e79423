// UnsubscribeTokens: made and read back (URL-safe, case of the address kept), secrets rotated,
// changed or cut tokens refused, a VERP tag never taken for one.
#include "feedback/unsubscribe_token.h"

#include <gtest/gtest.h>

namespace tern::feedback {
namespace {

TEST(UnsubscribeTokens, RoundTripAndRotation) {
    UnsubscribeTokens tokens({"first secret 0123456789"});
    std::string t = tokens.make({"shop.key-1", "Jane.Doe+news@Example.net"});
    for (char c : t)
        EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')
            << t;
    auto u = tokens.read(t);
    ASSERT_TRUE(u);
    EXPECT_EQ(u->key, "shop.key-1");
    EXPECT_EQ(u->address, "Jane.Doe+news@Example.net");
    UnsubscribeTokens rotated({"second secret 0123456789", "first secret 0123456789"});
    EXPECT_TRUE(rotated.read(t));
    UnsubscribeTokens retired({"second secret 0123456789"});
    EXPECT_FALSE(retired.read(t));
}

TEST(UnsubscribeTokens, ChangedTokensFail) {
    UnsubscribeTokens tokens({"first secret 0123456789"});
    std::string t = tokens.make({"shop", "bob@example.org"});
    std::string other = tokens.make({"shop", "eve@example.org"});
    // Another address's payload with this tag, a changed tag, cut, empty, junk.
    EXPECT_FALSE(tokens.read(other.substr(0, other.find('.')) + t.substr(t.find('.'))));
    std::string changed = t;
    changed.back() = changed.back() == 'A' ? 'B' : 'A';
    EXPECT_FALSE(tokens.read(changed));
    EXPECT_FALSE(tokens.read(t.substr(0, t.size() - 1)));
    EXPECT_FALSE(tokens.read(t.substr(0, t.find('.'))));
    for (const char* bad : {"", ".", "a.b", "%%%.x", "YWJj.x"})
        EXPECT_FALSE(tokens.read(bad)) << bad;
    EXPECT_FALSE(tokens.read(std::string(5000, 'a') + ".x"));
}

}  // namespace
}  // namespace tern::feedback
