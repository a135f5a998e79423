// SuppressionsApi: one handler for the collection and its entries; every read and write runs on
// the suppression list's worker thread.
#include "api/suppressions_api.h"

#include "api/api_auth.h"
#include "api/query.h"
#include "base/unix_time.h"
#include "smtp/address.h"

namespace tern::api {
namespace asio = boost::asio;
using nlohmann::json;
using suppress::Suppression;

namespace {

constexpr std::string_view kPrefix = "/api/v1/suppressions";
constexpr std::size_t kMaxDetail = 1000;

std::unexpected<RequestError> error(std::string field, std::string message) {
    return std::unexpected(RequestError{std::move(field), std::move(message)});
}

// `text` as a mailbox, normalized; the error names `field`.
std::expected<std::string, RequestError> checked_address(std::string_view text,
                                                         const std::string& field) {
    auto mailbox = smtp::parse_mailbox(text, true);
    if (!mailbox) return error(field, "is not a valid address");
    return suppress::normalize_address(mailbox->str());
}

std::expected<Suppression, RequestError> entry_of(const json& v, std::string address,
                                                  const std::string& where) {
    if (!v.is_object()) return error(where.empty() ? "body" : where, "must be an object");
    Suppression s;
    s.reason = suppress::Reason::kManual;
    std::string prefix = where.empty() ? "" : where + ".";
    for (const auto& [key, value] : v.items()) {
        // An empty name is shown as "" (as JSON writes it), so the error still names a field.
        std::string field = prefix + (key.empty() ? std::string("\"\"") : key);
        if (key == "address" && address.empty()) {
            if (!value.is_string()) return error(field, "must be a string");
            auto checked = checked_address(value.get<std::string>(), field);
            if (!checked) return std::unexpected(checked.error());
            s.address = std::move(*checked);
        } else if (key == "reason") {
            auto reason =
                value.is_string() ? suppress::parse_reason(value.get<std::string>()) : std::nullopt;
            if (!reason)
                return error(field, "must be one of bounce, complaint, unsubscribe, manual");
            s.reason = *reason;
        } else if (key == "detail") {
            if (!value.is_string()) return error(field, "must be a string");
            s.detail = value.get<std::string>();
            if (s.detail.size() > kMaxDetail) return error(field, "is longer than 1000 octets");
        } else {
            return error(field, "is not a field of a suppression (address, reason, detail)");
        }
    }
    if (!address.empty()) s.address = std::move(address);
    if (s.address.empty()) return error(prefix + "address", "is missing");
    return s;
}

http::Response json_ok(const json& body, http::Status status = http::Status::ok) {
    return http::json_response(
        status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

}  // namespace

json suppression_json(const Suppression& s) {
    json j{{"address", s.address},
           {"reason", suppress::reason_name(s.reason)},
           {"detail", s.detail},
           {"source", s.source},
           {"created", s.created}};
    if (!s.tenant.empty()) j["tenant"] = s.tenant;
    return j;
}

std::expected<std::vector<Suppression>, RequestError> parse_suppression_request(
    std::string_view body, std::string_view address, std::size_t max_entries,
    std::size_t max_depth) {
    json doc = json::object();
    if (!body.empty() || address.empty()) {
        auto parsed = parse_json_body(body, max_depth);
        if (!parsed) return std::unexpected(parsed.error());
        doc = std::move(*parsed);
    }
    std::vector<Suppression> out;
    if (!address.empty()) {
        auto checked = checked_address(address, "address");
        if (!checked) return std::unexpected(checked.error());
        auto e = entry_of(doc, std::move(*checked), "");
        if (!e) return std::unexpected(e.error());
        out.push_back(std::move(*e));
        return out;
    }
    if (!doc.is_object()) return error("body", "must be a JSON object");
    for (const auto& [key, value] : doc.items())
        if (key != "suppressions")
            return error(key.empty() ? std::string("\"\"") : key,
                         "is not a field of the request (suppressions)");
    auto list = doc.find("suppressions");
    if (list == doc.end() || !list->is_array()) return error("suppressions", "must be an array");
    if (list->empty()) return error("suppressions", "is empty");
    if (list->size() > max_entries)
        return error("suppressions", "has more than " + std::to_string(max_entries) + " entries");
    for (std::size_t i = 0; i < list->size(); ++i) {
        auto e = entry_of((*list)[i], "", "suppressions[" + std::to_string(i) + "]");
        if (!e) return std::unexpected(e.error());
        out.push_back(std::move(*e));
    }
    return out;
}

void SuppressionsApi::mount(http::HttpServer& server) {
    for (auto verb : {http::Verb::get, http::Verb::put, http::Verb::delete_}) {
        for (auto path : {std::string(kPrefix), std::string(kPrefix) + "/"}) {
            if (verb == http::Verb::delete_ && !path.ends_with('/')) continue;
            server.route(verb, path,
                         [this](const http::Request& request,
                                const http::Peer& peer) -> asio::awaitable<http::Response> {
                             co_return co_await handle(request, peer);
                         });
        }
    }
}

asio::awaitable<http::Response> SuppressionsApi::handle(const http::Request& request,
                                                        const http::Peer& peer) {
    auto key = authenticate(request, peer, keys_, log_);
    if (!key) co_return std::move(key.error());
    std::string_view target = request.target();
    std::string_view path = target.substr(0, target.find('?'));
    std::string address;  // of /api/v1/suppressions/ADDRESS, decoded
    if (path.size() > kPrefix.size()) {
        auto decoded = percent_decode(path.substr(kPrefix.size() + 1));
        if (!decoded || decoded->empty())
            co_return http::json_error(http::Status::not_found, "no such resource");
        auto checked = checked_address(*decoded, "address");
        if (!checked)
            co_return http::json_error(http::Status::bad_request, checked.error().message,
                                       "address");
        address = std::move(*checked);
    }
    bool any_domain = key->domains.empty();
    auto method = request.method();
    if (method != http::Verb::put && !any_domain) {
        log_.warn("api_refused", {{"client", peer.address.to_string()},
                                  {"key", key->name},
                                  {"reason", "suppression list read or delete"}});
        co_return http::json_error(http::Status::forbidden,
                                   "the key '" + key->name +
                                       "' may only add to the suppression list (reading and "
                                       "deleting need a key for any domain)");
    }
    auto unavailable = [this](const Error& e) {
        log_.error("suppression", {{"error", e.message}});
        return http::json_error(http::Status::service_unavailable,
                                "the suppression list cannot be used now");
    };

    if (method == http::Verb::put) {
        auto entries = parse_suppression_request(request.body(), address, max_entries_, max_depth_);
        if (!entries)
            co_return http::json_error(http::Status::bad_request, entries.error().message,
                                       entries.error().field);
        std::int64_t now = unix_now();
        for (auto& e : *entries) {
            e.source = "api:" + key->name;
            e.created = now;
        }
        std::size_t count = entries->size();
        // Jobs are named locals, not temporaries of the co_await expression (g++ 12 destroys
        // those twice).
        // A key for some domains adds, never replaces: it must not turn another sender's
        // "unsubscribe" into its own entry, nor learn from "new" what the list held.
        auto add = [entries = std::move(*entries),
                    replace = any_domain](Result<suppress::SuppressionDb*> db) {
            if (!db) return Result<std::size_t>(std::unexpected(db.error()));
            return (*db)->add(entries, replace);
        };
        auto added =
            co_await list_.async_run<Result<std::size_t>>(std::move(add), asio::use_awaitable);
        if (!added) co_return unavailable(added.error());
        log_.info("api_suppressions", {{"key", key->name}, {"entries", count}, {"new", *added}});
        if (!any_domain) co_return json_ok({{"stored", count}});
        co_return json_ok({{"stored", count}, {"new", *added}});
    }

    if (method == http::Verb::delete_) {
        if (address.empty())
            co_return http::json_error(http::Status::method_not_allowed, "method not allowed");
        auto remove = [address](Result<suppress::SuppressionDb*> db) {
            if (!db) return Result<bool>(std::unexpected(db.error()));
            return (*db)->remove("", address);
        };
        auto removed =
            co_await list_.async_run<Result<bool>>(std::move(remove), asio::use_awaitable);
        if (!removed) co_return unavailable(removed.error());
        if (!*removed)
            co_return http::json_error(http::Status::not_found, "not on the suppression list",
                                       "address");
        log_.info("api_unsuppressed", {{"key", key->name}, {"address", address}});
        co_return json_ok({{"deleted", address}});
    }

    if (!address.empty()) {
        using Found = Result<std::vector<std::optional<Suppression>>>;
        auto find = [address](Result<suppress::SuppressionDb*> db) {
            if (!db) return Found(std::unexpected(db.error()));
            return (*db)->find("", {address});
        };
        auto found = co_await list_.async_run<Found>(std::move(find), asio::use_awaitable);
        if (!found) co_return unavailable(found.error());
        if (found->empty() || !found->front())
            co_return http::json_error(http::Status::not_found, "not on the suppression list",
                                       "address");
        co_return json_ok(suppression_json(*found->front()));
    }

    std::string after;
    std::size_t limit = kDefaultLimit;
    if (auto v = query_value(target, "after")) {
        auto decoded = percent_decode(*v);
        if (!decoded)
            co_return http::json_error(http::Status::bad_request, "not percent-encoded", "after");
        after = suppress::normalize_address(*decoded);
    }
    if (auto v = query_value(target, "limit")) {
        auto n = parse_number(*v);
        if (!n || *n == 0 || *n > kMaxLimit)
            co_return http::json_error(http::Status::bad_request,
                                       "must be 1 to " + std::to_string(kMaxLimit), "limit");
        limit = static_cast<std::size_t>(*n);
    }
    auto read = [after, limit](Result<suppress::SuppressionDb*> db) {
        if (!db) return Result<std::vector<Suppression>>(std::unexpected(db.error()));
        return (*db)->list(std::string(), "", after, limit);
    };
    auto page = co_await list_.async_run<Result<std::vector<Suppression>>>(std::move(read),
                                                                           asio::use_awaitable);
    if (!page) co_return unavailable(page.error());
    json list = json::array();
    for (const auto& s : *page)
        list.push_back(suppression_json(s));
    // "next": the cursor for the following page, null at the end.
    json next = page->size() == limit ? json(page->back().address) : json(nullptr);
    co_return json_ok({{"suppressions", std::move(list)}, {"next", std::move(next)}});
}

}  // namespace tern::api
