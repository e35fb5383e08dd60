#pragma once
// The HTTP handlers of the merchant API and the public pass download. Each is thin:
// authenticate, parse and validate, one storage/service call, map the result.
#include "api/api_context.hpp"
#include "http/types.hpp"

namespace cardsmith::api {

using http_server::RequestContext;
using http_server::Response;

net::awaitable<Response> handle_healthz(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_readyz(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_metrics(ApiContext& ctx, RequestContext& rc);

net::awaitable<Response> handle_create_merchant(ApiContext& ctx, RequestContext& rc);
// API key rotation (key_handlers.cpp): a merchant's keys (the merchant or the admin) and the
// admin keys (the admin).
net::awaitable<Response> handle_list_merchant_keys(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_create_merchant_key(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_revoke_merchant_key(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_list_admin_keys(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_create_admin_key(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_revoke_admin_key(ApiContext& ctx, RequestContext& rc);

net::awaitable<Response> handle_list_templates(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_create_program(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_get_program(ApiContext& ctx, RequestContext& rc);

net::awaitable<Response> handle_create_card(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_get_card(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_download_pass(ApiContext& ctx, RequestContext& rc);

net::awaitable<Response> handle_stylesheet(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_program_image(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_join_qr(ApiContext& ctx, RequestContext& rc, bool svg);
net::awaitable<Response> handle_card_page(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_google_save(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_google_callback(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_join_poster(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_join_page(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_join_submit(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_join_verify(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_program_stats(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_program_daily_stats(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_search_cards(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_save_identity(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_list_identities(ApiContext& ctx, RequestContext& rc);
// PUT /api/v1/identities/{id}/relay-keys; `on_saved` gets the identity with its new keys.
net::awaitable<Response> handle_set_identity_relay_keys(
    ApiContext& ctx, RequestContext& rc,
    const std::function<void(const domain::Identity&)>& on_saved);
net::awaitable<Response> handle_set_program_identity(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_set_program_enrollment(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_patch_design(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_put_image(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_list_designs(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_get_design(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_design_preview(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_design_image(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_publish_design(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_list_rollouts(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_get_rollout(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_rollout_action(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_create_campaign(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_get_campaign(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_list_campaigns(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_cancel_campaign(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_patch_program(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_create_webhook(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_list_webhooks(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_delete_webhook(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_list_deliveries(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_list_events(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_create_transaction(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_list_transactions(ApiContext& ctx, RequestContext& rc);
// The merchant console (console_handlers.cpp) and the program list it starts from.
net::awaitable<Response> handle_console_page(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_console_script(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_console_stylesheet(ApiContext& ctx, RequestContext& rc);
net::awaitable<Response> handle_list_programs(ApiContext& ctx, RequestContext& rc);

}  // namespace cardsmith::api
