// API key rotation (docs/api.md "API keys"): a merchant (or the admin for it) makes a new
// key, the merchant's other keys keep working for a grace period, and any key can be
// revoked at once; the admin keys the same way under /api/v1/admin/keys. The new key is
// shown once, in the 201 answer; only its SHA-256 is stored.
#include <boost/json.hpp>
#include <chrono>

#include "api/api_keys.hpp"
#include "api/handlers.hpp"
#include "api/request_helpers.hpp"
#include "common/time_format.hpp"

namespace cardsmith::api {
namespace json = boost::json;
namespace {

constexpr std::int64_t kDefaultGrace = 24 * 3600;  // a day to deploy the new key
constexpr std::int64_t kMaxGrace = 30 * 24 * 3600;

json::value iso_or_null(const std::optional<std::int64_t>& unix_seconds) {
    if (!unix_seconds) {
        return nullptr;
    }
    return json::string(format_iso8601(SysTime(std::chrono::seconds(*unix_seconds))));
}

json::object key_json(const storage::ApiKeyInfo& k, std::int64_t now) {
    const char* state = k.revoked_at          ? "revoked"
                        : !k.expires_at       ? "active"
                        : *k.expires_at > now ? "expiring"
                                              : "expired";
    return json::object{{"id", k.id},
                        {"prefix", k.prefix},
                        {"state", state},
                        {"createdAt", iso_or_null(k.created_at)},
                        {"expiresAt", iso_or_null(k.expires_at)},
                        {"revokedAt", iso_or_null(k.revoked_at)}};
}

// Whose keys the path names, if the caller may manage them: {id} of a merchant route (the
// merchant itself or the admin; anyone else answers like a missing merchant), or the admin
// keys (the admin only).
net::awaitable<Result<std::optional<MerchantId>>> async_key_owner(ApiContext& ctx,
                                                                  RequestContext& rc,
                                                                  bool admin_keys) {
    auto who = co_await async_authenticate(ctx, rc.request);
    if (!who) {
        co_return who.error();
    }
    if (admin_keys) {
        if (!who->admin) {
            co_return ApiError{ApiErrc::forbidden, "only the admin key may manage admin keys", {}};
        }
        co_return std::optional<MerchantId>();
    }
    auto id = path_id(rc, "id", "merchant");
    if (!id) {
        co_return id.error();
    }
    const MerchantId merchant(*id);
    if (!who->may_touch(merchant)) {
        co_return not_found("merchant");
    }
    auto found = co_await ctx.db.run(
        [merchant](storage::Store& s) { return s.find_merchant(merchant).has_value(); });
    if (!found) {
        co_return not_found("merchant");
    }
    co_return std::optional<MerchantId>(merchant);
}

// graceSeconds from an optional JSON body: how long the owner's other keys keep working.
Result<std::int64_t> grace_of(const http_server::Request& request) {
    if (request.body().empty()) {
        return kDefaultGrace;
    }
    auto body = parse_json_object(request);
    if (!body) {
        return body.error();
    }
    if (auto e = reject_unknown(*body, {"graceSeconds"})) {
        return *e;
    }
    auto grace = get_int(*body, "graceSeconds");
    if (!grace) {
        return grace.error();
    }
    if (!*grace) {
        return kDefaultGrace;
    }
    if (**grace < 0 || **grace > kMaxGrace) {
        return invalid("graceSeconds",
                       "must be a whole number from 0 to " + std::to_string(kMaxGrace));
    }
    return **grace;
}

std::int64_t now_seconds() { return unix_seconds(std::chrono::system_clock::now()); }

net::awaitable<Response> list_keys(ApiContext& ctx, RequestContext& rc, bool admin_keys) {
    auto owner = co_await async_key_owner(ctx, rc, admin_keys);
    if (!owner) {
        co_return fail(owner.error(), rc.request);
    }
    const std::optional<MerchantId> who = *owner;
    auto keys = co_await ctx.db.run([who](storage::Store& s) { return s.list_api_keys(who); });
    const std::int64_t now = now_seconds();
    json::array out;
    for (const auto& k : keys) {
        out.push_back(key_json(k, now));
    }
    co_return json_ok(http::status::ok, json::object{{"keys", std::move(out)}}, rc.request);
}

net::awaitable<Response> create_key(ApiContext& ctx, RequestContext& rc, bool admin_keys) {
    auto owner = co_await async_key_owner(ctx, rc, admin_keys);
    if (!owner) {
        co_return fail(owner.error(), rc.request);
    }
    auto grace = grace_of(rc.request);
    if (!grace) {
        co_return fail(grace.error(), rc.request);
    }
    const std::optional<MerchantId> who = *owner;
    const std::int64_t now = now_seconds();
    const std::int64_t others_expire_at = now + *grace;
    const NewApiKey key = generate_api_key();
    auto made = co_await ctx.db.run([&](storage::Store& s) {
        return s.rotate_api_key(who, key.hash, key.prefix, now, others_expire_at);
    });
    json::object body = key_json(made, now);
    body["apiKey"] = key.key;  // shown once, here
    body["othersExpireAt"] = iso_or_null(others_expire_at);
    co_return json_ok(http::status::created, body, rc.request);
}

net::awaitable<Response> revoke_key(ApiContext& ctx, RequestContext& rc, bool admin_keys) {
    auto owner = co_await async_key_owner(ctx, rc, admin_keys);
    if (!owner) {
        co_return fail(owner.error(), rc.request);
    }
    auto id = path_id(rc, "keyId", "key");
    if (!id) {
        co_return fail(id.error(), rc.request);
    }
    const std::optional<MerchantId> who = *owner;
    const std::int64_t key_id = *id;
    const std::int64_t now = now_seconds();
    auto status = co_await ctx.db.run(
        [who, key_id, now](storage::Store& s) { return s.revoke_api_key(who, key_id, now); });
    if (status != storage::StoreStatus::ok) {
        co_return fail(not_found("key"), rc.request);
    }
    co_return Response{http::status::no_content, rc.request.version()};
}

}  // namespace

net::awaitable<Response> handle_list_merchant_keys(ApiContext& ctx, RequestContext& rc) {
    co_return co_await list_keys(ctx, rc, false);
}
net::awaitable<Response> handle_create_merchant_key(ApiContext& ctx, RequestContext& rc) {
    co_return co_await create_key(ctx, rc, false);
}
net::awaitable<Response> handle_revoke_merchant_key(ApiContext& ctx, RequestContext& rc) {
    co_return co_await revoke_key(ctx, rc, false);
}
net::awaitable<Response> handle_list_admin_keys(ApiContext& ctx, RequestContext& rc) {
    co_return co_await list_keys(ctx, rc, true);
}
net::awaitable<Response> handle_create_admin_key(ApiContext& ctx, RequestContext& rc) {
    co_return co_await create_key(ctx, rc, true);
}
net::awaitable<Response> handle_revoke_admin_key(ApiContext& ctx, RequestContext& rc) {
    co_return co_await revoke_key(ctx, rc, true);
}

}  // namespace cardsmith::api
