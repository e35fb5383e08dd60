#include "api/routes.hpp"

#include "api/handlers.hpp"

namespace cardsmith::api {

void register_routes(http_server::Router& router, ApiContext& ctx) {
    using V = http::verb;
    auto bind = [&ctx](auto fn) { return [&ctx, fn](RequestContext& rc) { return fn(ctx, rc); }; };
    router.add(V::get, "/healthz", bind(handle_healthz));
    router.add(V::get, "/readyz", bind(handle_readyz));
    router.add(V::get, "/metrics", bind(handle_metrics));
    router.add(V::post, "/api/v1/merchants", bind(handle_create_merchant));
    router.add(V::get, "/api/v1/merchants/{id}/keys", bind(handle_list_merchant_keys));
    router.add(V::post, "/api/v1/merchants/{id}/keys", bind(handle_create_merchant_key));
    router.add(V::delete_, "/api/v1/merchants/{id}/keys/{keyId}", bind(handle_revoke_merchant_key));
    router.add(V::get, "/api/v1/admin/keys", bind(handle_list_admin_keys));
    router.add(V::post, "/api/v1/admin/keys", bind(handle_create_admin_key));
    router.add(V::delete_, "/api/v1/admin/keys/{keyId}", bind(handle_revoke_admin_key));
    router.add(V::get, "/api/v1/templates", bind(handle_list_templates));
    router.add(V::post, "/api/v1/programs", bind(handle_create_program));
    router.add(V::get, "/api/v1/programs", bind(handle_list_programs));
    router.add(V::get, "/api/v1/programs/{slug}", bind(handle_get_program));
    router.add(V::get, "/api/v1/programs/{slug}/stats", bind(handle_program_stats));
    router.add(V::get, "/api/v1/programs/{slug}/stats/daily", bind(handle_program_daily_stats));
    router.add(V::get, "/api/v1/programs/{slug}/cards", bind(handle_search_cards));
    router.add(V::patch, "/api/v1/programs/{slug}", bind(handle_patch_program));
    router.add(V::post, "/api/v1/webhooks", bind(handle_create_webhook));
    router.add(V::get, "/api/v1/webhooks", bind(handle_list_webhooks));
    router.add(V::delete_, "/api/v1/webhooks/{id}", bind(handle_delete_webhook));
    router.add(V::get, "/api/v1/webhooks/{id}/deliveries", bind(handle_list_deliveries));
    router.add(V::get, "/api/v1/events", bind(handle_list_events));
    router.add(V::post, "/api/v1/programs/{slug}/campaigns", bind(handle_create_campaign));
    router.add(V::get, "/api/v1/programs/{slug}/campaigns", bind(handle_list_campaigns));
    router.add(V::get, "/api/v1/campaigns/{id}", bind(handle_get_campaign));
    router.add(V::post, "/api/v1/campaigns/{id}/cancel", bind(handle_cancel_campaign));
    router.add(V::patch, "/api/v1/programs/{slug}/design", bind(handle_patch_design));
    router.add(V::put, "/api/v1/programs/{slug}/images/{name}", bind(handle_put_image),
               {ctx.image_body_limit});
    router.add(V::get, "/api/v1/programs/{slug}/designs", bind(handle_list_designs));
    router.add(V::get, "/api/v1/programs/{slug}/designs/{version}", bind(handle_get_design));
    router.add(V::get, "/api/v1/programs/{slug}/designs/{version}/preview",
               bind(handle_design_preview));
    router.add(V::get, "/api/v1/programs/{slug}/designs/{version}/images/{file}",
               bind(handle_design_image));
    router.add(V::post, "/api/v1/programs/{slug}/designs/{version}/publish",
               bind(handle_publish_design));
    router.add(V::get, "/api/v1/programs/{slug}/rollouts", bind(handle_list_rollouts));
    router.add(V::get, "/api/v1/rollouts/{id}", bind(handle_get_rollout));
    router.add(V::post, "/api/v1/rollouts/{id}/{action}", bind(handle_rollout_action));
    router.add(V::post, "/api/v1/programs/{slug}/cards", bind(handle_create_card));
    router.add(V::get, "/api/v1/cards/{cardNumber}", bind(handle_get_card));
    router.add(V::post, "/api/v1/cards/{cardNumber}/transactions", bind(handle_create_transaction));
    router.add(V::get, "/api/v1/cards/{cardNumber}/transactions", bind(handle_list_transactions));
    router.add(V::post, "/api/v1/identities", bind(handle_save_identity));
    router.add(V::get, "/api/v1/identities", bind(handle_list_identities));
    router.add(V::put, "/api/v1/programs/{slug}/identity", bind(handle_set_program_identity));
    router.add(V::put, "/api/v1/programs/{slug}/enrollment", bind(handle_set_program_enrollment));
    // A card's serial is the capability of these links (links.pkpass, links.page,
    // links.googleSave): the access log keeps it out.
    http_server::RouteOptions capability;
    capability.log_path = false;
    router.add(V::get, "/p/{file}", bind(handle_download_pass), capability);
    router.add(V::get, "/c/{serial}", bind(handle_card_page), capability);
    router.add(V::get, "/g/{serial}", bind(handle_google_save), capability);
    router.add(V::post, "/google/callback", bind(handle_google_callback), {64 * 1024});
    router.add(V::get, "/assets/cardsmith.css", bind(handle_stylesheet));
    router.add(V::get, "/console", bind(handle_console_page));
    router.add(V::get, "/assets/console.js", bind(handle_console_script));
    router.add(V::get, "/assets/console.css", bind(handle_console_stylesheet));
    router.add(V::get, "/images/{slug}/{file}", bind(handle_program_image));
    router.add(V::get, "/join/{slug}", bind(handle_join_page));
    router.add(V::post, "/join/{slug}", bind(handle_join_submit), {16 * 1024});
    router.add(V::post, "/join/{slug}/verify", bind(handle_join_verify), {4 * 1024});
    router.add(V::get, "/join/{slug}/poster", bind(handle_join_poster));
    router.add(V::get, "/join/{slug}/qr.svg",
               [&ctx](RequestContext& rc) { return handle_join_qr(ctx, rc, true); });
    router.add(V::get, "/join/{slug}/qr.png",
               [&ctx](RequestContext& rc) { return handle_join_qr(ctx, rc, false); });
}

}  // namespace cardsmith::api
