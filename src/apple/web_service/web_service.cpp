#include "apple/web_service/web_service.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <cctype>
#include <charconv>

#include "common/log.hpp"
#include "common/rate_limiter.hpp"
#include "common/time_format.hpp"
#include "crypto/hash.hpp"
#include "http/response.hpp"

namespace cardsmith::web_service {
namespace json = boost::json;
using http_server::RequestContext;
using http_server::Response;

namespace {

Response error(const RequestContext& rc, http::status status, std::string_view code,
               std::string_view message) {
    return http_server::error_response(status, code, message, rc.request.version());
}

// deviceLibraryIdentifier: Wallet sends a hex string; accept a conservative URL-safe set.
bool valid_device_id(std::string_view id) {
    if (id.empty() || id.size() > 128) {
        return false;
    }
    for (char c : id) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
            return false;
        }
    }
    return true;
}

// APNs tokens are hex; FCM and HMS tokens use letters, digits, ':', '-', '_' and '.'.
bool valid_push_token(std::string_view token) {
    if (token.empty() || token.size() > 1024) {
        return false;
    }
    for (char c : token) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == ':' || c == '-' || c == '_' ||
              c == '.')) {
            return false;
        }
    }
    return true;
}

bool is_apns_token(std::string_view token) {
    return token.size() == 64 && std::all_of(token.begin(), token.end(), [](char c) {
               return std::isxdigit(static_cast<unsigned char>(c));
           });
}

// "Scheme token" → both; a header without a space has no token.
std::pair<std::string_view, std::string_view> split_authorization(std::string_view header) {
    const auto space = header.find(' ');
    if (space == std::string_view::npos) {
        return {header, {}};
    }
    auto token = header.substr(space + 1);
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    return {header.substr(0, space), token};
}

// PassWallet's push service URL: http(s) on an allowlisted host, no credentials, stored
// without a trailing slash; empty when refused.
std::string allowed_push_service(const WebServiceContext& ctx, std::string_view url) {
    if (url.size() > 300) {
        return {};
    }
    auto parsed = boost::urls::parse_absolute_uri(url);
    if (!parsed || parsed->has_userinfo() || parsed->has_query() || parsed->has_fragment()) {
        return {};
    }
    // Schemes and host names are case-insensitive (RFC 3986 §3.1, §3.2.2): compare and
    // store them lower-cased ("HTTP://Push.PassWallet.net/" is the allowlisted host).
    boost::urls::url normal(*parsed);
    normal.normalize_scheme();
    normal.normalize_authority();
    const std::string host = normal.host();
    const auto same_host = [&host](const std::string& allowed) {
        return std::equal(allowed.begin(), allowed.end(), host.begin(), host.end(),
                          [](char a, char b) {
                              return std::tolower(static_cast<unsigned char>(a)) ==
                                     std::tolower(static_cast<unsigned char>(b));
                          });
    };
    if ((normal.scheme() != "http" && normal.scheme() != "https") ||
        std::none_of(ctx.passwallet_hosts.begin(), ctx.passwallet_hosts.end(), same_host)) {
        return {};
    }
    std::string out(normal.buffer());
    while (!out.empty() && out.back() == '/') out.pop_back();
    return out;
}

// The card behind a serial, if the request's ApplePass token is its authenticationToken.
// Answers the error response to send otherwise.
struct Authorized {
    std::optional<std::pair<domain::Card, domain::Program>> found;
    std::optional<Response> error;
};

net::awaitable<Authorized> async_authorize(WebServiceContext& ctx, RequestContext& rc) {
    Authorized out;
    if (!ctx.passes.identities().by_pass_type(rc.param("passType"))) {
        out.error = error(rc, http::status::not_found, "not_found", "unknown pass type");
        co_return out;
    }
    const SerialNumber serial(rc.param("serial"));
    auto found = co_await ctx.db.run([&](storage::Store& s) { return s.find_pass(serial); });
    // The serial must belong to a pass of this pass type (its program's identity).
    const auto identity = found ? ctx.passes.identities().for_program(found->second) : nullptr;
    if (!found || !identity || identity->pass.pass_type_id != rc.param("passType")) {
        out.error = error(rc, http::status::not_found, "not_found", "unknown pass");
        co_return out;
    }
    // Whatever the scheme (ApplePass, WalletUnionPass, AndroidPass...), the token decides.
    const auto [scheme, token] = split_authorization(rc.request[http::field::authorization]);
    if (token.empty() || !crypto::constant_time_equal(token, found->first.auth_token.value())) {
        ctx.metrics.counter_add("cardsmith_apple_auth_failures_total",
                                "Apple web service requests with a wrong ApplePass token", {});
        out.error =
            error(rc, http::status::unauthorized, "unauthorized", "bad authentication token");
        co_return out;
    }
    out.found = std::move(found);
    co_return out;
}

net::awaitable<Response> handle_register(WebServiceContext& ctx, RequestContext& rc, bool attido) {
    if (!valid_device_id(rc.param("device"))) {
        co_return error(rc, http::status::bad_request, "bad_request", "bad device identifier");
    }
    auto auth = co_await async_authorize(ctx, rc);
    if (auth.error) {
        co_return std::move(*auth.error);
    }
    boost::system::error_code ec;
    auto body = json::parse(rc.request.body(), ec);
    const auto* fields = !ec ? body.if_object() : nullptr;
    const json::value* token = fields != nullptr ? fields->if_contains("pushToken") : nullptr;
    if (token == nullptr || !token->is_string() || !valid_push_token(token->as_string())) {
        co_return error(rc, http::status::bad_request, "bad_request",
                        "body must be {\"pushToken\": \"<token>\"}");
    }
    storage::WalletClient wallet;
    const std::string push_token(token->as_string());
    const auto scheme = split_authorization(rc.request[http::field::authorization]).first;
    wallet.kind = wallet_kind(attido, scheme, rc.request["X-Pass-Client"], push_token);
    wallet.user_agent = std::string(rc.request[http::field::user_agent]);
    if (attido) {
        const json::value* url = fields->if_contains("pushServiceUrl");
        if (url != nullptr && url->is_string()) {
            wallet.push_service_url = allowed_push_service(ctx, url->as_string());
        }
        if (wallet.push_service_url.empty()) {
            log::warn("wallet registration refused: push service not allowed",
                      {{"id", rc.request_id}});
            co_return error(rc, http::status::bad_request, "bad_request",
                            "pushServiceUrl must be http(s) on an allowed push service host");
        }
    }
    if (wallet.kind == "unknown") {
        // Registered (the app keeps working by pulling), but nothing can wake it.
        log::info("wallet registration from an unknown app",
                  {{"scheme", std::string(scheme.substr(0, 40))}});
    }
    auto status = co_await ctx.db.run([&](storage::Store& s) {
        return s.register_device(rc.param("device"), push_token, rc.param("passType"),
                                 SerialNumber(rc.param("serial")), now_unix_millis(), wallet,
                                 ctx.max_devices_per_pass);
    });
    if (status == storage::RegisterStatus::not_found) {
        co_return error(rc, http::status::not_found, "not_found", "unknown pass");
    }
    if (status == storage::RegisterStatus::too_many_devices) {
        // Not 429: waiting does not help. Wallet keeps the pass; this device just gets no
        // pushes (it still fetches updates when the holder pulls to refresh).
        ctx.metrics.counter_add("cardsmith_limit_refusals_total",
                                "Cards and devices refused by limits.max_*",
                                {{"limit", "devices_per_pass"}});
        co_return error(rc, http::status::forbidden, "limit_reached",
                        "the pass is registered on too many devices");
    }
    const bool created = status == storage::RegisterStatus::created;
    ctx.metrics.counter_add(
        "cardsmith_apple_registrations_total",
        "Pass web service registrations by wallet and outcome",
        {{"wallet", wallet.kind}, {"outcome", created ? "created" : "updated"}});
    co_return http_server::bytes_response(created ? http::status::created : http::status::ok,
                                          "application/json", "{}", rc.request.version());
}

net::awaitable<Response> handle_unregister(WebServiceContext& ctx, RequestContext& rc) {
    auto auth = co_await async_authorize(ctx, rc);
    if (auth.error) {
        co_return std::move(*auth.error);
    }
    (void)co_await ctx.db.run([&](storage::Store& s) {
        return s.unregister_device(rc.param("device"), rc.param("passType"),
                                   SerialNumber(rc.param("serial")), now_unix_millis());
    });
    ctx.metrics.counter_add("cardsmith_apple_unregistrations_total", "Apple device unregistrations",
                            {});
    co_return http_server::bytes_response(http::status::ok, "application/json", "{}",
                                          rc.request.version());
}

net::awaitable<Response> handle_serials(WebServiceContext& ctx, RequestContext& rc) {
    if (!ctx.passes.identities().by_pass_type(rc.param("passType"))) {
        co_return error(rc, http::status::not_found, "not_found", "unknown pass type");
    }
    // An unparsable tag counts as absent (apple-wallet.md §2.3).
    std::optional<std::int64_t> since;
    if (auto it = rc.query.find("passesUpdatedSince"); it != rc.query.end()) {
        std::int64_t v = 0;
        const auto& s = it->second;
        auto [p, err] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (err == std::errc{} && p == s.data() + s.size()) {
            since = v;
        }
    }
    auto updated = co_await ctx.db.run([&](storage::Store& s) {
        return s.updated_serials(rc.param("device"), rc.param("passType"), since);
    });
    if (updated.serials.empty()) {
        Response res{http::status::no_content, rc.request.version()};
        co_return res;
    }
    json::array serials;
    for (auto& s : updated.serials) {
        serials.emplace_back(s);
    }
    // lastUpdated must be a JSON string: Wallet skips the fetch for a number.
    json::object body{{"serialNumbers", std::move(serials)},
                      {"lastUpdated", std::to_string(updated.last_updated)}};
    co_return http_server::json_response(http::status::ok, body, rc.request.version());
}

net::awaitable<Response> handle_latest_pass(WebServiceContext& ctx, RequestContext& rc) {
    auto auth = co_await async_authorize(ctx, rc);
    if (auth.error) {
        co_return std::move(*auth.error);
    }
    const auto& [card, program] = *auth.found;
    const std::string last_modified = format_http_date(card.modified_at);
    auto since = parse_http_date(rc.request[http::field::if_modified_since]);
    if (since && *since >= card.modified_at) {
        Response res{http::status::not_modified, rc.request.version()};
        res.set(http::field::last_modified, last_modified);
        co_return res;
    }
    auto pass = co_await ctx.passes.async_pass(program, card);
    auto res = http_server::bytes_response(http::status::ok, "application/vnd.apple.pkpass",
                                           pass->bytes, rc.request.version());
    res.set(http::field::last_modified, last_modified);
    res.set(http::field::cache_control, "private, no-cache");
    ctx.metrics.counter_add("cardsmith_apple_pass_fetches_total",
                            "Passes fetched by devices through the web service", {});
    // The device has the pass now: campaign messages on it count as delivered.
    const CardId card_id = card.id;
    const std::int64_t now = now_unix_millis();
    co_await ctx.db.run([card_id, now](storage::Store& s) {
        s.mark_delivered(card_id, now);
        return 0;
    });
    co_return res;
}

// The device log endpoint needs no credentials: at most 20 lines a second (a burst of 20)
// reach our log, whoever sends them; the rest are counted and dropped. One bucket.
RateLimiter g_log_throttle(20.0, 20.0, 1);

net::awaitable<Response> handle_log(WebServiceContext& ctx, RequestContext& rc) {
    boost::system::error_code ec;
    auto body = json::parse(rc.request.body(), ec);
    const json::value* logs =
        !ec && body.is_object() ? body.as_object().if_contains("logs") : nullptr;
    if (logs == nullptr || !logs->is_array()) {
        co_return error(rc, http::status::bad_request, "bad_request",
                        "body must be {\"logs\": [\"...\"]}");
    }
    std::size_t n = 0;
    for (const auto& line : logs->as_array()) {
        if (++n > 50 || !line.is_string()) {
            break;
        }
        if (!g_log_throttle.take("log").allowed) {
            ctx.metrics.counter_add("cardsmith_apple_device_log_dropped_total",
                                    "Device log lines dropped by the throttle", {});
            continue;
        }
        std::string text(std::string_view(line.as_string()).substr(0, 300));
        log::warn("wallet device log", {{"id", rc.request_id}, {"line", text}});
    }
    co_return http_server::bytes_response(http::status::ok, "application/json", "{}",
                                          rc.request.version());
}

}  // namespace

std::string wallet_kind(bool attido_path, std::string_view scheme, std::string_view pass_client,
                        std::string_view push_token) {
    if (attido_path) {
        return "passwallet";
    }
    if (pass_client == "Passes") return "pass2u";
    if (pass_client == "Passworks") return "passworks";
    if (scheme == "WalletUnionPass") return "walletunion_fcm";
    if (scheme == "WalletUnionHMSPass") return "walletunion_hms";
    if (scheme == "AndroidPass") return "walletpasses";
    if (scheme == "ApplePass" && is_apns_token(push_token)) return "apple";
    return "unknown";
}

void register_routes(http_server::Router& router, WebServiceContext& ctx) {
    using V = http::verb;
    auto bind = [&ctx](auto fn) { return [&ctx, fn](RequestContext& rc) { return fn(ctx, rc); }; };
    const std::string p(kPathPrefix);
    const std::string reg = p + "/v1/devices/{device}/registrations/{passType}/{serial}";
    router.add(V::post, reg,
               [&ctx](RequestContext& rc) { return handle_register(ctx, rc, false); });
    // PassWallet registers here, with the push service its pushes go to.
    router.add(V::post, p + "/v1/devices/{device}/registrations_attido/{passType}/{serial}",
               [&ctx](RequestContext& rc) { return handle_register(ctx, rc, true); });
    router.add(V::delete_, reg, bind(handle_unregister));
    router.add(V::get, p + "/v1/devices/{device}/registrations/{passType}", bind(handle_serials));
    router.add(V::get, p + "/v1/passes/{passType}/{serial}", bind(handle_latest_pass));
    router.add(V::post, p + "/v1/log", bind(handle_log), {64 * 1024});
}

}  // namespace cardsmith::web_service
