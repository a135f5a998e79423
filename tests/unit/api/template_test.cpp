// Unit tests of the API's Mustache templates: escaping only in HTML, sections and lists, and the
// limits (depth, partials, delimiters, output size) that keep a hostile template bounded.
#include "api/template.h"

#include <gtest/gtest.h>

namespace tern::api {
namespace {

std::string render(std::string_view text, const nlohmann::json& values,
                   Template::Escape escape = Template::Escape::kNone) {
    auto t = Template::compile(text, escape, 8);
    EXPECT_TRUE(t) << t.error();
    if (!t) return "";
    auto out = t->render(values, 1 << 20);
    EXPECT_TRUE(out) << out.error();
    return out ? *out : "";
}

TEST(Template, EscapesOnlyInHtml) {
    nlohmann::json v{{"name", "Tom & <Jerry> \"x\" 'y'"}};
    EXPECT_EQ(render("Hi {{name}}", v), "Hi Tom & <Jerry> \"x\" 'y'");
    EXPECT_EQ(render("<p>{{name}}</p>", v, Template::Escape::kHtml),
              "<p>Tom &amp; &lt;Jerry&gt; &quot;x&quot; &apos;y&apos;</p>");
    EXPECT_EQ(render("<p>{{{name}}}</p>", v, Template::Escape::kHtml),
              "<p>Tom & <Jerry> \"x\" 'y'</p>");
    EXPECT_EQ(render("<p>{{& name}}</p>", v, Template::Escape::kHtml),
              "<p>Tom & <Jerry> \"x\" 'y'</p>");
}

TEST(Template, ValuesSectionsAndLists) {
    nlohmann::json v{{"n", 3},
                     {"ok", true},
                     {"no", false},
                     {"user", {{"first", "Ann"}}},
                     {"items", {{{"t", "a"}}, {{"t", "b"}}}}};
    EXPECT_EQ(render("{{n}} {{user.first}} {{missing}}.", v), "3 Ann .");
    EXPECT_EQ(render("{{#ok}}yes{{/ok}}{{#no}}never{{/no}}{{^no}}not{{/no}}", v), "yesnot");
    EXPECT_EQ(render("{{#items}}[{{t}}]{{/items}}", v), "[a][b]");
    EXPECT_EQ(render("{{! a comment }}x", v), "x");
}

TEST(Template, RefusesWhatCouldRecurseOrHide) {
    auto partial = Template::compile("{{> other}}", Template::Escape::kNone, 8);
    ASSERT_FALSE(partial);
    EXPECT_NE(partial.error().find("partial"), std::string::npos);
    auto delimiters = Template::compile("{{=<% %>=}}<%x%>", Template::Escape::kNone, 8);
    ASSERT_FALSE(delimiters);
    EXPECT_NE(delimiters.error().find("delimiters"), std::string::npos);
    std::string deep;
    for (int i = 0; i < 9; ++i)
        deep += "{{#a}}";
    for (int i = 0; i < 9; ++i)
        deep += "{{/a}}";
    auto too_deep = Template::compile(deep, Template::Escape::kNone, 8);
    ASSERT_FALSE(too_deep);
    EXPECT_NE(too_deep.error().find("nested"), std::string::npos);
    auto unclosed = Template::compile("{{#a}}x", Template::Escape::kNone, 8);
    EXPECT_FALSE(unclosed);
    auto unended = Template::compile("{{a", Template::Escape::kNone, 8);
    EXPECT_FALSE(unended);
}

TEST(Template, OutputIsBounded) {
    // Three nested sections over 100 items: a million copies, stopped at the limit.
    nlohmann::json items = nlohmann::json::array();
    for (int i = 0; i < 100; ++i)
        items.push_back({{"x", "0123456789"}});
    auto t =
        Template::compile("{{#l}}{{#l}}{{#l}}{{x}}{{/l}}{{/l}}{{/l}}", Template::Escape::kNone, 8);
    ASSERT_TRUE(t);
    auto out = t->render({{"l", items}}, 100000);
    ASSERT_FALSE(out);
    EXPECT_NE(out.error().find("longer than 100000"), std::string::npos);
}

}  // namespace
}  // namespace tern::api
