// Template: the Mustache subset of the API (values, {{{raw}}} and {{& raw}}, sections over
// lists, objects and true values, inverted sections, comments, dotted names, standalone tag
// lines removed as the Mustache spec says); no partials, lambdas or delimiter changes.
#include "api/template.h"

#include <algorithm>
#include <cctype>

#include "base/text.h"

namespace tern::api {
namespace {

// A name's length: a lookup's cost is bounded by it and the depth of sections.
constexpr std::size_t kMaxName = 128;

bool blank(char c) {
    return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
        s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
        s.remove_suffix(1);
    return s;
}

// Falsey as Mustache templates expect from JSON: null, false, "", [].
bool truthy(const nlohmann::json& v) {
    if (v.is_null()) return false;
    if (v.is_boolean()) return v.get<bool>();
    if (v.is_string()) return !v.get_ref<const std::string&>().empty();
    if (v.is_array()) return !v.empty();
    return true;
}

}  // namespace

std::expected<Template, std::string> Template::compile(std::string_view text, Escape escape,
                                                       std::size_t max_depth) {
    Template t;
    t.escape_ = escape;
    // The open sections: each level's node list, and the name that opened it.
    std::vector<std::vector<Node>*> levels{&t.nodes_};
    std::vector<std::string> open;
    std::size_t at = 0;
    auto add_text = [&](std::string_view piece) {
        if (piece.empty()) return;
        auto& list = *levels.back();
        if (!list.empty() && list.back().kind == Node::Kind::kText)
            list.back().text += piece;
        else
            list.push_back({Node::Kind::kText, std::string(piece), {}});
    };
    while (at < text.size()) {
        auto start = text.find("{{", at);
        if (start == std::string_view::npos) {
            add_text(text.substr(at));
            break;
        }
        bool triple = text.substr(start, 3) == "{{{";
        auto close = text.find(triple ? "}}}" : "}}", start + (triple ? 3 : 2));
        if (close == std::string_view::npos) return std::unexpected("a tag {{ is not ended");
        std::string_view inside =
            trim(text.substr(start + (triple ? 3 : 2), close - start - (triple ? 3 : 2)));
        std::size_t after = close + (triple ? 3 : 2);
        char sigil = triple || inside.empty() ? '\0' : inside.front();
        if (sigil == '>') return std::unexpected("partials ({{> name}}) are not supported");
        if (sigil == '=')
            return std::unexpected("changing the delimiters ({{= =}}) is not supported");
        bool structural = sigil == '#' || sigil == '^' || sigil == '/' || sigil == '!';
        std::string_view name = triple                         ? inside
                                : (structural || sigil == '&') ? trim(inside.substr(1))
                                                               : inside;
        if (sigil != '!' && name.empty()) return std::unexpected("a tag without a name");
        if (sigil != '!' && name.size() > kMaxName)
            return std::unexpected("a name longer than " + std::to_string(kMaxName) + " octets");
        // A structural tag alone on its line takes the line with it (Mustache "standalone").
        std::string_view before = text.substr(at, start - at);
        if (structural) {
            // Back over blanks only, never past the last tag: linear in the template's size.
            std::size_t line_from = start;
            while (line_from > at && blank(text[line_from - 1]))
                --line_from;
            // Nothing but blanks before it on its line, and no earlier tag on that line.
            bool alone_before = line_from == 0 || text[line_from - 1] == '\n';
            std::size_t end = after;
            while (end < text.size() && blank(text[end]))
                ++end;
            bool crlf = end + 1 < text.size() && text[end] == '\r' && text[end + 1] == '\n';
            bool alone_after = end == text.size() || text[end] == '\n' || crlf;
            if (alone_before && alone_after) {
                before = text.substr(at, line_from - at);
                after = end == text.size() ? end : end + (crlf ? 2 : 1);
            }
        }
        add_text(before);
        at = after;
        switch (sigil) {
            case '!':
                break;
            case '#':
            case '^': {
                if (open.size() >= max_depth)
                    return std::unexpected("sections are nested more than " +
                                           std::to_string(max_depth) + " deep");
                auto& list = *levels.back();
                list.push_back({sigil == '#' ? Node::Kind::kSection : Node::Kind::kInverted,
                                std::string(name),
                                {}});
                levels.push_back(&list.back().children);
                open.emplace_back(name);
                break;
            }
            case '/':
                if (open.empty())
                    return std::unexpected("{{/" + std::string(name) + "}} closes no section");
                if (open.back() != name)
                    return std::unexpected("{{/" + std::string(name) + "}} closes {{#" +
                                           open.back() + "}}");
                open.pop_back();
                levels.pop_back();
                break;
            default:
                levels.back()->push_back(
                    {triple || sigil == '&' ? Node::Kind::kRawValue : Node::Kind::kValue,
                     std::string(name),
                     {}});
        }
    }
    if (!open.empty()) return std::unexpected("the section {{#" + open.back() + "}} is not closed");
    return t;
}

namespace {

struct Renderer {
    std::vector<const nlohmann::json*> stack;
    std::string out;
    std::size_t max_output = 0;
    RenderBudget& budget;
    bool html = false;
    std::string error;

    // The value of `name`, from the innermost frame out; charges a step per frame it searches.
    const nlohmann::json& lookup(const std::string& name) {
        static const nlohmann::json kNull;
        if (name == ".") return *stack.back();
        std::string_view rest = name;
        auto dot = rest.find('.');
        std::string first(rest.substr(0, dot));
        const nlohmann::json* found = nullptr;
        for (auto it = stack.rbegin(); it != stack.rend() && !found; ++it) {
            if (budget.steps > 0) --budget.steps;
            if (!(*it)->is_object()) continue;
            auto member = (*it)->find(first);
            if (member != (*it)->end()) found = &*member;
        }
        while (found && dot != std::string_view::npos) {
            rest.remove_prefix(dot + 1);
            dot = rest.find('.');
            std::string part(rest.substr(0, dot));
            if (!found->is_object()) return kNull;
            auto member = found->find(part);
            found = member == found->end() ? nullptr : &*member;
        }
        return found ? *found : kNull;
    }

    bool spend(std::size_t octets) {
        if (budget.steps == 0) {
            error = "the request's templates take too much work to render";
            return false;
        }
        --budget.steps;
        if (octets > budget.bytes || out.size() + octets > max_output) {
            error = "the rendered text is longer than " +
                    std::to_string(std::min<std::uint64_t>(max_output, budget.bytes)) + " octets";
            return false;
        }
        budget.bytes -= octets;
        return true;
    }

    bool value(const nlohmann::json& v, bool escape) {
        std::string text;
        if (v.is_string())
            text = v.get<std::string>();
        else if (v.is_number() || v.is_boolean())
            text = v.dump();
        std::string escaped;
        if (escape) append_html_escaped(text, escaped);
        const std::string& piece = escape ? escaped : text;
        if (!spend(piece.size())) return false;
        out += piece;
        return true;
    }

    bool run(const std::vector<Template::Node>& nodes);
};

}  // namespace

std::expected<std::string, std::string> Template::render(const nlohmann::json& values,
                                                         std::size_t max_output,
                                                         RenderBudget& budget) const {
    return render_frames({&values}, max_output, budget);
}

std::expected<std::string, std::string> Template::render_frames(
    std::initializer_list<const nlohmann::json*> frames, std::size_t max_output,
    RenderBudget& budget) const {
    Renderer r{std::vector<const nlohmann::json*>(frames),
               {},
               max_output,
               budget,
               escape_ == Escape::kHtml,
               {}};
    if (!r.run(nodes_)) return std::unexpected(r.error);
    return std::move(r.out);
}

bool Renderer::run(const std::vector<Template::Node>& nodes) {
    using Kind = Template::Node::Kind;
    for (const auto& n : nodes) {
        switch (n.kind) {
            case Kind::kText:
                if (!spend(n.text.size())) return false;
                out += n.text;
                break;
            case Kind::kValue:
            case Kind::kRawValue:
                if (!value(lookup(n.text), html && n.kind == Kind::kValue)) return false;
                break;
            case Kind::kInverted:
                if (!spend(0)) return false;
                if (!truthy(lookup(n.text)) && !run(n.children)) return false;
                break;
            case Kind::kSection: {
                if (!spend(0)) return false;
                const auto& v = lookup(n.text);
                if (!truthy(v)) break;
                if (v.is_array()) {
                    for (const auto& item : v) {
                        if (!spend(0)) return false;  // an empty section's passes count too
                        stack.push_back(&item);
                        bool ok = run(n.children);
                        stack.pop_back();
                        if (!ok) return false;
                    }
                } else {
                    stack.push_back(&v);
                    bool ok = run(n.children);
                    stack.pop_back();
                    if (!ok) return false;
                }
                break;
            }
        }
    }
    return true;
}

}  // namespace tern::api
