#include "api/request_helpers.hpp"

#include <charconv>

#include "common/check.hpp"
#include "common/time_format.hpp"
#include "crypto/hash.hpp"
#include "http/response.hpp"

namespace cardsmith::api {
namespace json = boost::json;

net::awaitable<Result<domain::Principal>> async_authenticate(ApiContext& ctx,
                                                             const http_server::Request& req) {
    auto header = req[http::field::authorization];
    constexpr std::string_view kBearer = "Bearer ";
    if (header.size() <= kBearer.size() || header.substr(0, kBearer.size()) != kBearer) {
        co_return ApiError{ApiErrc::unauthorized, "missing bearer API key", {}};
    }
    std::string hash = crypto::sha256_hex(header.substr(kBearer.size()));
    if (ctx.admin_key_hash && crypto::constant_time_equal(hash, *ctx.admin_key_hash)) {
        co_return domain::Principal{true, MerchantId{}};
    }
    // Keys are looked up by their SHA-256: the database compares digests, never keys.
    const auto now = unix_seconds(std::chrono::system_clock::now());
    auto principal =
        co_await ctx.db.run([&](storage::Store& s) { return s.find_api_key(hash, now); });
    if (!principal) {
        co_return ApiError{ApiErrc::unauthorized, "unknown API key", {}};
    }
    co_return *principal;
}

std::optional<std::int64_t> parse_int(std::string_view text) {
    std::int64_t v = 0;
    const char* end = text.data() + text.size();
    auto [at, ec] = std::from_chars(text.data(), end, v);
    if (ec != std::errc() || at != end) {
        return std::nullopt;
    }
    return v;
}

Result<std::int64_t> path_id(const http_server::RequestContext& rc, const std::string& name,
                             std::string what) {
    auto v = parse_int(rc.param(name));
    if (!v || *v <= 0) {
        return not_found(what.empty() ? name : std::move(what));
    }
    return *v;
}

Result<std::int64_t> query_int(const http_server::RequestContext& rc, const std::string& name,
                               std::int64_t lo, std::int64_t hi, std::int64_t fallback) {
    auto it = rc.query.find(name);
    if (it == rc.query.end() || it->second.empty()) {
        return fallback;
    }
    auto v = parse_int(it->second);
    if (!v || *v < lo || *v > hi) {
        return invalid(name, "must be a whole number from " + std::to_string(lo) + " to " +
                                 std::to_string(hi));
    }
    return *v;
}

Result<json::object> parse_json_object(const http_server::Request& req) {
    auto type = req[http::field::content_type];
    if (!type.empty() && type.find("application/json") == std::string_view::npos &&
        type.find("+json") == std::string_view::npos) {
        return ApiError{
            ApiErrc::unsupported_media_type, "Content-Type must be application/json", {}};
    }
    json::parse_options opts;
    opts.max_depth = 32;
    boost::system::error_code ec;
    json::value v = json::parse(req.body(), ec, {}, opts);
    if (ec) {
        return ApiError{ApiErrc::invalid_json, "body is not valid JSON: " + ec.message(), {}};
    }
    if (!v.is_object()) {
        return ApiError{ApiErrc::invalid_json, "body must be a JSON object", {}};
    }
    return std::move(v.as_object());
}

std::optional<ApiError> reject_unknown(const json::object& o,
                                       std::initializer_list<std::string_view> allowed,
                                       const std::string& path) {
    for (const auto& [k, _] : o) {
        bool known = false;
        for (auto a : allowed) {
            known = known || a == k;
        }
        if (!known) {
            return invalid(path + std::string(k), "unknown property");
        }
    }
    return std::nullopt;
}

Result<std::optional<std::string>> get_string(const json::object& o, std::string_view key,
                                              const std::string& path) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) {
        return std::optional<std::string>{};
    }
    if (!v->is_string()) {
        return invalid(path + std::string(key), "must be a string");
    }
    return std::optional<std::string>{std::string(v->as_string())};
}

Result<std::optional<std::int64_t>> get_int(const json::object& o, std::string_view key,
                                            const std::string& path) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) {
        return std::optional<std::int64_t>{};
    }
    if (v->is_int64()) {
        return std::optional<std::int64_t>{v->as_int64()};
    }
    if (v->is_uint64()) {
        return invalid(path + std::string(key), "is too large");
    }
    return invalid(path + std::string(key), "must be an integer");
}

ApiError invalid(const std::vector<domain::Problem>& problems) {
    CARDSMITH_CHECK(!problems.empty());
    json::array all;
    for (const auto& p : problems) {
        all.push_back(json::object{{"field", p.field}, {"message", p.message}});
    }
    ApiError e = invalid(problems.front().field, problems.front().message);
    e.details = {{"problems", std::move(all)}};
    return e;
}

http_server::Response json_ok(http::status status, const json::value& body,
                              const http_server::Request& req) {
    return http_server::json_response(status, body, req.version());
}

http_server::Response fail(const ApiError& e, const http_server::Request& req) {
    return error_to_response(e, req.version());
}

net::awaitable<Result<domain::Program>> async_own_program(ApiContext& ctx,
                                                          const domain::Principal& who,
                                                          const std::string& slug) {
    auto program = co_await ctx.db.run([&](storage::Store& s) { return s.find_program(slug); });
    if (!program || !who.may_touch(program->merchant)) {
        co_return not_found("program");
    }
    co_return std::move(*program);
}

}  // namespace cardsmith::api

namespace cardsmith::api {
net::awaitable<Result<domain::Program>> async_own_program(ApiContext& ctx,
                                                          http_server::RequestContext& rc) {
    auto who = co_await async_authenticate(ctx, rc.request);
    if (!who) {
        co_return who.error();
    }
    co_return co_await async_own_program(ctx, *who, rc.param("slug"));
}
}  // namespace cardsmith::api
