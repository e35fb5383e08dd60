// POST /google/callback: Google Wallet's save/delete callbacks (google-wallet.md §8),
// verified (ECv2SigningOnly, google/callbacks.hpp) and counted like Apple registrations:
// a save is a pass.installed event, a deletion pass.removed (wallet "google"). Google
// retries, so each nonce counts once; expired messages are dropped; both answer 200 fast.
#include <boost/json.hpp>

#include "api/handlers.hpp"
#include "api/request_helpers.hpp"
#include "common/log.hpp"
#include "common/time_format.hpp"
#include "http/response.hpp"

namespace cardsmith::api {

net::awaitable<Response> handle_google_callback(ApiContext& ctx, RequestContext& rc) {
    if (ctx.google == nullptr || ctx.google_callbacks == nullptr) {
        co_return http_server::error_response(http::status::not_found, "not_found",
                                              "Google Wallet callbacks are off",
                                              rc.request.version());
    }
    const auto now = now_unix_millis();
    const auto outcome = [&](const char* what) {
        ctx.metrics.counter_add("cardsmith_google_callbacks_total",
                                "Google Wallet save/delete callbacks by outcome",
                                {{"outcome", what}});
    };
    auto verified = ctx.google_callbacks->verify(rc.request.body(), now);
    if (const auto* problem = std::get_if<std::string>(&verified)) {
        outcome("refused");
        log::warn("google callback refused", {{"reason", *problem}});
        co_return http_server::error_response(http::status::bad_request, "bad_signature", *problem,
                                              rc.request.version());
    }
    const auto event = std::get<google::CallbackEvent>(std::move(verified));
    const auto ok = [&] {
        return http_server::bytes_response(http::status::ok, "application/json", "{}",
                                           rc.request.version());
    };
    if (event.exp_ms != 0 && event.exp_ms < now) {
        outcome("expired");
        co_return ok();
    }
    const std::string number = ctx.google->card_number_of(event.object_id);
    const CardNumber card_number(number);
    auto card = co_await ctx.db.run([&](storage::Store& s) { return s.find_card(card_number); });
    if (number.empty() || !card) {
        outcome("unknown_object");
        co_return ok();
    }
    const CardId id = card->id;
    const std::string kind = event.event_type == "save" ? "pass.installed" : "pass.removed";
    const std::string nonce = event.nonce;
    const bool counted = co_await ctx.db.run(
        [&](storage::Store& s) { return s.record_google_callback(id, kind, nonce, now); });
    outcome(counted ? (event.event_type == "save" ? "save" : "del") : "repeat");
    co_return ok();
}

}  // namespace cardsmith::api
