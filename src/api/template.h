// Template: a Mustache template of the sending API (subject, text or html of a message), compiled
// once a request and rendered once a recipient. Values are HTML-escaped in html templates only:
// a subject or text part shows "Tom & Jerry", never "Tom &amp; Jerry". Our own renderer, so that
// what a template may cost is bounded: nesting at compile time, work and output while rendering.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace tern::api {

// What the renders of one request may still spend together: node visits and output octets.
struct RenderBudget {
    std::uint64_t steps = 20'000'000;
    std::uint64_t bytes = 1ull << 30;
};

class Template {
  public:
    enum class Escape { kNone, kHtml };

    // `text` compiled, or why it is no template: a tag not ended, a section not closed or closed
    // by another name, sections nested deeper than `max_depth`, a partial ({{> name}}) or a
    // change of delimiters ({{= =}}), which the API does not offer.
    static std::expected<Template, std::string> compile(std::string_view text, Escape escape,
                                                        std::size_t max_depth);

    // The text for `values` (a JSON object: strings, numbers, booleans, arrays for sections,
    // objects for sections and dotted names), or an error when it would pass `max_output`
    // octets or `budget` runs out; what it spends is taken from `budget`.
    std::expected<std::string, std::string> render(const nlohmann::json& values,
                                                   std::size_t max_output,
                                                   RenderBudget& budget) const;
    // The same over several objects, the last searched first (a recipient's values over the
    // request's), without copying them.
    std::expected<std::string, std::string> render_frames(
        std::initializer_list<const nlohmann::json*> frames, std::size_t max_output,
        RenderBudget& budget) const;

    // The compiled form: text and tags, sections holding what they enclose.
    struct Node {
        enum class Kind { kText, kValue, kRawValue, kSection, kInverted };
        Kind kind = Kind::kText;
        std::string text;  // the text, or the name looked up
        std::vector<Node> children;
    };

  private:
    Escape escape_ = Escape::kNone;
    std::vector<Node> nodes_;
};

}  // namespace tern::api
