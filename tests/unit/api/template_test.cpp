// Unit tests of the API's Mustache templates: escaping only in HTML, sections and lists,
// standalone lines, and the limits (depth, partials, delimiters, work, output size) that keep a
// hostile template bounded.
#include "api/template.h"

#include <gtest/gtest.h>

namespace tern::api {
namespace {

std::string render(std::string_view text, const nlohmann::json& values,
                   Template::Escape escape = Template::Escape::kNone) {
    auto t = Template::compile(text, escape, 8);
    EXPECT_TRUE(t) << t.error();
    if (!t) return "";
    RenderBudget budget;
    auto out = t->render(values, 1 << 20, budget);
    EXPECT_TRUE(out) << out.error();
    return out ? *out : "";
}

TEST(Template, EscapesOnlyInHtml) {
    nlohmann::json v{{"name", "Tom & <Jerry> \"x\" 'y'"}};
    EXPECT_EQ(render("Hi {{name}}", v), "Hi Tom & <Jerry> \"x\" 'y'");
    EXPECT_EQ(render("<p>{{name}}</p>", v, Template::Escape::kHtml),
              "<p>Tom &amp; &lt;Jerry&gt; &quot;x&quot; &#39;y&#39;</p>");
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
    // Whatever the white space, a partial is refused (a value could name the template itself).
    for (std::string text : {"{{\n>p}}", "{{ >p}}", "{{\t> p }}", "{{\r\n=<% %>=}}"})
        EXPECT_FALSE(Template::compile(text, Template::Escape::kNone, 8)) << text;
    EXPECT_FALSE(Template::compile("{{#a}}x{{/b}}", Template::Escape::kNone, 8));
    EXPECT_FALSE(Template::compile("{{/a}}", Template::Escape::kNone, 8));
    EXPECT_FALSE(Template::compile("{{}}", Template::Escape::kNone, 8));
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
    RenderBudget budget;
    auto out = t->render({{"l", items}}, 100000, budget);
    ASSERT_FALSE(out);
    EXPECT_NE(out.error().find("longer than 100000"), std::string::npos);
    // One large value repeated: stopped before it is built, not after.
    auto big = Template::compile("{{#l}}{{x}}{{/l}}", Template::Escape::kNone, 8);
    ASSERT_TRUE(big);
    nlohmann::json many = nlohmann::json::array();
    for (int i = 0; i < 5000; ++i)
        many.push_back(i);
    RenderBudget b2;
    auto large = big->render({{"l", many}, {"x", std::string(1 << 20, 'a')}}, 10 << 20, b2);
    ASSERT_FALSE(large);
}

TEST(Template, WorkIsBoundedAcrossARequest) {
    // Sixteen nested sections over ten items: 10^16 passes, stopped by the budget.
    std::string deep;
    for (int i = 0; i < 16; ++i)
        deep += "{{#l}}";
    deep += "x";
    for (int i = 0; i < 16; ++i)
        deep += "{{/l}}";
    auto t = Template::compile(deep, Template::Escape::kNone, 16);
    ASSERT_TRUE(t);
    RenderBudget budget{100000, 1 << 30};
    auto out = t->render({{"l", {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}}}, 1 << 30, budget);
    ASSERT_FALSE(out);
    EXPECT_NE(out.error().find("too much work"), std::string::npos);
    // The budget is the request's: spent, the next recipient's render fails at once.
    auto small = Template::compile("hi", Template::Escape::kNone, 16);
    ASSERT_TRUE(small);
    EXPECT_FALSE(small->render(nlohmann::json::object(), 100, budget));
}

TEST(Template, EmptySectionsAndLookupsCountToo) {
    nlohmann::json many = nlohmann::json::array();
    for (int i = 0; i < 100000; ++i)
        many.push_back(0);
    for (std::string text : {"{{#l}}{{#l}}{{/l}}{{/l}}", "{{#l}}{{!x}}{{/l}}"}) {
        auto t = Template::compile(text, Template::Escape::kNone, 8);
        ASSERT_TRUE(t) << text;
        RenderBudget budget{50000, 1 << 30};
        EXPECT_FALSE(t->render({{"l", many}}, 1 << 30, budget)) << text;
    }
    EXPECT_FALSE(
        Template::compile("{{" + std::string(200, 'a') + "}}", Template::Escape::kNone, 8));
    // Many tags on one line compile in linear time (no walk back to the line's start each).
    std::string tags;
    for (int i = 0; i < 200000; ++i)
        tags += "{{!}}";
    EXPECT_TRUE(Template::compile(tags, Template::Escape::kNone, 8));
}

TEST(Template, FramesAreSearchedLastFirst) {
    auto t = Template::compile("{{a}} {{b}} {{c}}", Template::Escape::kNone, 8);
    ASSERT_TRUE(t);
    nlohmann::json bottom{{"a", "1"}, {"b", "1"}, {"c", "1"}}, middle{{"b", "2"}}, top{{"c", "3"}};
    RenderBudget budget;
    auto out = t->render_frames({&bottom, &middle, &top}, 100, budget);
    ASSERT_TRUE(out);
    EXPECT_EQ(*out, "1 2 3");
}

TEST(Template, StandaloneTagLinesLeaveNoBlankLines) {
    nlohmann::json v{{"items", {{{"t", "a"}}, {{"t", "b"}}}}};
    EXPECT_EQ(render("Hi\n{{#items}}\n- {{t}}\n{{/items}}\nBye\n", v), "Hi\n- a\n- b\nBye\n");
    EXPECT_EQ(render("Hi\r\n  {{! note }}  \r\nBye", v), "Hi\r\nBye");
    EXPECT_EQ(render("a {{#items}}{{t}}{{/items}} b\n", v), "a ab b\n");
    EXPECT_EQ(render("{{^none}}empty{{/none}}", v), "empty");
}

}  // namespace
}  // namespace tern::api
