#include <boost/json.hpp>

#include "api/api_keys.hpp"
#include "api/handlers.hpp"
#include "api/request_helpers.hpp"
#include "common/time_format.hpp"
#include "domain/holder.hpp"

namespace cardsmith::api {

net::awaitable<Response> handle_create_merchant(ApiContext& ctx, RequestContext& rc) {
    auto who = co_await async_authenticate(ctx, rc.request);
    if (!who) {
        co_return fail(who.error(), rc.request);
    }
    if (!who->admin) {
        co_return fail({ApiErrc::forbidden, "only the admin key may create merchants", {}},
                       rc.request);
    }
    auto body = parse_json_object(rc.request);
    if (!body) {
        co_return fail(body.error(), rc.request);
    }
    if (auto e = reject_unknown(*body, {"name"})) {
        co_return fail(*e, rc.request);
    }
    auto name = get_string(*body, "name");
    if (!name) {
        co_return fail(name.error(), rc.request);
    }
    if (!*name || (*name)->empty() || (*name)->size() > 200 || !domain::is_clean_text(**name)) {
        co_return fail(invalid("name", "is required: 1-200 characters of text"), rc.request);
    }
    auto key = generate_api_key();
    auto now = unix_seconds(std::chrono::system_clock::now());
    auto merchant = co_await ctx.db.run(
        [&](storage::Store& s) { return s.create_merchant(**name, key.hash, key.prefix, now); });
    // The key is shown once, here; only its hash is stored.
    co_return json_ok(
        http::status::created,
        boost::json::object{
            {"id", merchant.id.value()}, {"name", merchant.name}, {"apiKey", key.key}},
        rc.request);
}

}  // namespace cardsmith::api
