#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <vector>

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

namespace {

// What the API's context can tell: passes signed, the signed-pass cache, the database pool
// and the signing certificates (the app's collectors add the push channels).
void collect_context_metrics(ApiContext& ctx) {
    using Labels = http_server::Metrics::Labels;
    auto& m = ctx.metrics;
    const Labels none;
    const auto passes = ctx.passes.stats();
    m.counter_set("cardsmith_passes_signed_total", "Passes signed since start", none,
                  static_cast<double>(passes.signed_passes));
    m.counter_set("cardsmith_pass_cache_hits_total", "Signed-pass cache hits", none,
                  static_cast<double>(passes.cache_hits));
    m.gauge_set("cardsmith_pass_cache_bytes", "Bytes held by the signed-pass cache", none,
                static_cast<double>(passes.cache_bytes));

    const auto db = ctx.db.stats();
    m.gauge_set("cardsmith_db_pool_threads", "Threads of the database pool", none, db.threads);
    m.gauge_set("cardsmith_db_pool_busy", "Database calls running on the pool", none,
                static_cast<double>(db.busy));
    m.gauge_set("cardsmith_db_pool_queued", "Database calls waiting for a free pool thread", none,
                static_cast<double>(db.queued));
    m.counter_set("cardsmith_db_calls_total", "Database calls finished", none,
                  static_cast<double>(db.calls));
    m.counter_set("cardsmith_db_wait_seconds_total", "Time database calls waited for a pool thread",
                  none, db.wait_seconds);
    m.counter_set("cardsmith_db_busy_seconds_total", "Time database calls ran on the pool", none,
                  db.busy_seconds);

    std::vector<std::pair<Labels, double>> days_left;
    std::vector<std::pair<Labels, double>> not_after;
    const auto now = std::chrono::system_clock::now();
    for (const auto& identity : ctx.passes.identities().all()) {
        Labels labels{{"pass_type_id", identity->pass.pass_type_id}};
        const auto left = std::chrono::duration<double>(identity->not_after - now).count();
        days_left.emplace_back(labels, std::floor(left / 86400.0));
        not_after.emplace_back(std::move(labels),
                               static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(
                                                       identity->not_after.time_since_epoch())
                                                       .count()));
    }
    m.gauge_set_all("cardsmith_certificate_days_left",
                    "Whole days until the pass certificate of each loaded identity expires "
                    "(negative: expired)",
                    days_left);
    m.gauge_set_all("cardsmith_certificate_not_after_seconds",
                    "Expiry of each loaded identity's pass certificate (unix time)", not_after);
}

}  // namespace

net::awaitable<Response> handle_metrics(ApiContext& ctx, RequestContext& rc) {
    collect_context_metrics(ctx);
    ctx.metrics.collect();
    co_return http_server::bytes_response(http::status::ok, "text/plain; version=0.0.4",
                                          ctx.metrics.render(), rc.request.version());
}

}  // namespace cardsmith::api
