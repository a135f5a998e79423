// Template: Mustache through kainjow's header-only renderer (Debian libkainjow-mustache-dev), with
// the limits an API open to many clients needs: section depth checked before compiling, output
// size checked while rendering.
#include "api/template.h"

#include <kainjow/mustache.hpp>

namespace tern::api {
namespace {

namespace mustache = kainjow::mustache;

struct OutputTooLarge {};

// Values as the renderer takes them: numbers as their JSON text, null as false.
mustache::data to_data(const nlohmann::json& v) {
    if (v.is_object()) {
        mustache::data object{mustache::data::type::object};
        for (const auto& [key, value] : v.items())
            object.set(key, to_data(value));
        return object;
    }
    if (v.is_array()) {
        mustache::data list{mustache::data::type::list};
        for (const auto& item : v)
            list.push_back(to_data(item));
        return list;
    }
    if (v.is_string()) return mustache::data(v.get<std::string>());
    if (v.is_boolean()) return mustache::data(v.get<bool>());
    if (v.is_null()) return mustache::data(false);
    return mustache::data(v.dump());
}

// What compile() refuses before the renderer sees the text.
std::string check_tags(std::string_view text, std::size_t max_depth) {
    std::size_t depth = 0;
    for (std::size_t at = text.find("{{"); at != std::string_view::npos;
         at = text.find("{{", at + 2)) {
        std::size_t i = at + 2;
        if (i < text.size() && text[i] == '{') continue;  // {{{name}}}: a value, unescaped
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t'))
            ++i;
        if (i >= text.size()) break;
        switch (text[i]) {
            case '#':
            case '^':
                if (++depth > max_depth)
                    return "sections are nested more than " + std::to_string(max_depth) + " deep";
                break;
            case '/':
                if (depth > 0) --depth;
                break;
            case '>':
                return "partials ({{> name}}) are not supported";
            case '=':
                return "changing the delimiters ({{= =}}) is not supported";
            default:
                break;
        }
    }
    return "";
}

}  // namespace

Template::Template(Template&&) noexcept = default;
Template& Template::operator=(Template&&) noexcept = default;
Template::~Template() = default;

std::expected<Template, std::string> Template::compile(std::string_view text, Escape escape,
                                                       std::size_t max_depth) {
    if (auto why = check_tags(text, max_depth); !why.empty()) return std::unexpected(why);
    Template t;
    t.compiled_ = std::make_unique<mustache::mustache>(std::string(text));
    if (!t.compiled_->is_valid()) return std::unexpected(t.compiled_->error_message());
    if (escape == Escape::kNone)
        t.compiled_->set_custom_escape([](const std::string& s) { return s; });
    return t;
}

std::expected<std::string, std::string> Template::render(const nlohmann::json& values,
                                                         std::size_t max_output) const {
    std::string out;
    mustache::data data = to_data(values);
    try {
        compiled_->render(data, [&out, max_output](const std::string& piece) {
            if (out.size() + piece.size() > max_output) throw OutputTooLarge{};
            out += piece;
        });
    } catch (const OutputTooLarge&) {
        return std::unexpected("the rendered text is longer than " + std::to_string(max_output) +
                               " octets");
    }
    if (!compiled_->is_valid()) return std::unexpected(compiled_->error_message());
    return out;
}

}  // namespace tern::api
