// The merchant console (GET /console, its script and stylesheet) and the program list it
// starts from (GET /api/v1/programs). The console is a static page: it signs in with a
// merchant API key typed by the user and calls the JSON API with it, so its handlers only
// serve bytes with the page's Content-Security-Policy (the server adds nosniff and the
// other common headers, http/security_headers.hpp).
#include <boost/json.hpp>

#include "api/handlers.hpp"
#include "api/request_helpers.hpp"
#include "api/views.hpp"
#include "http/response.hpp"
#include "web/console.hpp"

namespace cardsmith::api {
namespace json = boost::json;
namespace {

Response asset_response(const RequestContext& rc, std::string_view content_type,
                        std::string_view body) {
    auto res = http_server::bytes_response(http::status::ok, std::string(content_type),
                                           std::string(body), rc.request.version());
    // The page links it with ?v=<hash of the text>: cache for good.
    res.set(http::field::cache_control, "public, max-age=31536000, immutable");
    return res;
}

}  // namespace

// GET /console: the page shell; the script draws the rest.
net::awaitable<Response> handle_console_page(ApiContext&, RequestContext& rc) {
    auto res = http_server::bytes_response(http::status::ok, "text/html; charset=utf-8",
                                           web::render_console_page(), rc.request.version());
    res.set("Content-Security-Policy", std::string(web::kConsoleContentSecurityPolicy));
    // Revalidated every time, so a new server's asset hashes reach the browser at once.
    res.set(http::field::cache_control, "no-cache");
    res.set("X-Robots-Tag", "noindex");
    co_return res;
}

net::awaitable<Response> handle_console_script(ApiContext&, RequestContext& rc) {
    co_return asset_response(rc, web::kConsoleScriptContentType, web::console_script());
}

net::awaitable<Response> handle_console_stylesheet(ApiContext&, RequestContext& rc) {
    co_return asset_response(rc, web::kConsoleStylesheetContentType, web::console_stylesheet());
}

// GET /api/v1/programs: a merchant's own programs; the admin's are all of them, or one
// merchant's with ?merchant=<id>. Oldest first.
net::awaitable<Response> handle_list_programs(ApiContext& ctx, RequestContext& rc) {
    auto who = co_await async_authenticate(ctx, rc.request);
    if (!who) {
        co_return fail(who.error(), rc.request);
    }
    std::optional<MerchantId> only;
    if (!who->admin) {
        only = who->merchant;
    } else if (auto it = rc.query.find("merchant"); it != rc.query.end()) {
        auto id = parse_int(it->second);
        if (!id || *id <= 0) {
            co_return fail(invalid("merchant", "must be a merchant id"), rc.request);
        }
        only = MerchantId(*id);
    }
    auto programs = co_await ctx.db.run([](storage::Store& s) { return s.list_programs(); });
    json::array list;
    for (const auto& p : programs) {
        if (!only || p.merchant == *only) {
            list.push_back(program_view(ctx, p));
        }
    }
    co_return json_ok(http::status::ok, json::object{{"programs", std::move(list)}}, rc.request);
}

}  // namespace cardsmith::api
