// Webhooks: the signature against a value computed by Python's hmac module (an independent
// implementation), and the cursor files' names.
#include "webhooks/webhook_sender.h"

#include <gtest/gtest.h>

namespace tern::webhooks {
namespace {

TEST(WebhookSignature, MatchesAnIndependentHmac) {
    // python3 -c 'import hmac, hashlib; print(hmac.new(b"whsec-0123456789abcdef",
    //     b"1764756000.{\"events\":[]}", hashlib.sha256).hexdigest())'
    EXPECT_EQ(webhook_signature("whsec-0123456789abcdef", 1764756000, "{\"events\":[]}"),
              "t=1764756000,v1=2ba189131a1bb121e6611b7c52785ef38547b292304408c80aa15340d181aea9");
    EXPECT_NE(webhook_signature("whsec-0123456789abcdef", 1764756001, "{\"events\":[]}"),
              webhook_signature("whsec-0123456789abcdef", 1764756000, "{\"events\":[]}"));
}

TEST(WebhookCursor, OneFilePerUrl) {
    auto a = cursor_path("/d", "https://a.example/hook");
    EXPECT_TRUE(a.starts_with("/d/") && a.ends_with(".cursor")) << a;
    EXPECT_EQ(a, cursor_path("/d", "https://a.example/hook"));
    EXPECT_NE(a, cursor_path("/d", "https://a.example/hook2"));
}

}  // namespace
}  // namespace tern::webhooks
