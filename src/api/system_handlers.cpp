#include <boost/json.hpp>

#include "api/handlers.hpp"
#include "api/request_helpers.hpp"
#include "http/response.hpp"

namespace cardsmith::api {

net::awaitable<Response> handle_healthz(ApiContext&, RequestContext& rc) {
    co_return json_ok(http::status::ok, boost::json::object{{"status", "ok"}}, rc.request);
}

net::awaitable<Response> handle_readyz(ApiContext& ctx, RequestContext& rc) {
    bool storage_ok = co_await ctx.db.run([&](storage::Store& s) { return s.ping(); });
    bool ready = storage_ok && (!ctx.ready || ctx.ready());
    boost::json::object body{{"status", "ready"},
                             {"storage", storage_ok ? "ok" : "down"},
                             {"signing", ctx.ready && !ctx.ready() ? "down" : "ok"}};
    if (ctx.readiness) {
        ctx.readiness(body, ready);
    }
    body["status"] = ready ? "ready" : "unavailable";
    co_return json_ok(ready ? http::status::ok : http::status::service_unavailable, body,
                      rc.request);
}

net::awaitable<Response> handle_metrics(ApiContext& ctx, RequestContext& rc) {
    auto stats = ctx.passes.stats();
    const http_server::Metrics::Labels none;
    ctx.metrics.gauge_set("cardsmith_passes_signed_total", "Passes signed since start", none,
                          static_cast<double>(stats.signed_passes));
    ctx.metrics.gauge_set("cardsmith_pass_cache_hits_total", "Signed-pass cache hits", none,
                          static_cast<double>(stats.cache_hits));
    ctx.metrics.gauge_set("cardsmith_pass_cache_bytes", "Bytes held by the signed-pass cache", none,
                          static_cast<double>(stats.cache_bytes));
    co_return http_server::bytes_response(http::status::ok, "text/plain; version=0.0.4",
                                          ctx.metrics.render(), rc.request.version());
}

}  // namespace cardsmith::api
