// Template: a Mustache template of the sending API (subject, text or html of a message), compiled
// once a request and rendered once a recipient. Values are HTML-escaped in html templates only:
// a subject or text part shows "Tom & Jerry", never "Tom &amp; Jerry".
#pragma once

#include <cstddef>
#include <expected>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace kainjow::mustache {
template <typename string_type>
class basic_mustache;
}

namespace tern::api {

class Template {
  public:
    enum class Escape { kNone, kHtml };

    // `text` compiled, or why it is no template: a section not closed, a tag not ended, nested
    // sections deeper than `max_depth`, a partial ({{> name}}) or a change of delimiters ({{= =}}),
    // which the API does not offer (no template can include itself or hide its tags).
    static std::expected<Template, std::string> compile(std::string_view text, Escape escape,
                                                        std::size_t max_depth);
    Template(Template&&) noexcept;
    Template& operator=(Template&&) noexcept;
    ~Template();

    // The text for `values` (a JSON object: strings, numbers, booleans, arrays for sections,
    // objects for dotted names), or an error when the result would pass `max_output` octets.
    std::expected<std::string, std::string> render(const nlohmann::json& values,
                                                   std::size_t max_output) const;

  private:
    Template() = default;
    std::unique_ptr<kainjow::mustache::basic_mustache<std::string>> compiled_;
};

}  // namespace tern::api
