// Webhooks to the merchant's CRM and the event feed for CRMs that pull (issue 6). The
// calls themselves are made by marketing::WebhookSender from the outbox.
#include <boost/json.hpp>

#include "api/handlers.hpp"
#include "api/request_helpers.hpp"
#include "api/views.hpp"
#include "common/random.hpp"
#include "common/time_format.hpp"
#include "http/response.hpp"
#include "marketing/webhook_sender.hpp"

namespace cardsmith::api {
namespace json = boost::json;
namespace {

constexpr std::array<std::string_view, 5> kEventKinds{
    "card.created", "pass.installed", "pass.removed", "transaction.created", "campaign.finished"};

json::object webhook_view(const storage::Webhook& w) {
    json::array events;
    if (w.events == "*") {
        for (auto k : kEventKinds) {
            events.push_back(json::string(k));
        }
    } else {
        for (std::size_t at = 0; at < w.events.size();) {
            auto comma = w.events.find(',', at);
            if (comma == std::string::npos) comma = w.events.size();
            events.push_back(json::string(w.events.substr(at, comma - at)));
            at = comma + 1;
        }
    }
    return {{"id", w.id},         {"merchant", w.merchant.value()},
            {"url", w.url},       {"events", std::move(events)},
            {"active", w.active}, {"createdAt", iso_ms_or_null(w.created_at)}};
}

// The merchant a request speaks for: its own, or the admin's ?merchant= / "merchant".
Result<MerchantId> merchant_of(const domain::Principal& who, std::optional<std::int64_t> asked) {
    if (!who.admin) {
        if (asked && MerchantId(*asked) != who.merchant) {
            return not_found("merchant");
        }
        return who.merchant;
    }
    if (!asked) {
        return invalid("merchant", "is required with the admin key");
    }
    return MerchantId(*asked);
}

std::optional<std::int64_t> query_merchant(const RequestContext& rc) {
    // One that is not an id counts as absent.
    if (auto it = rc.query.find("merchant"); it != rc.query.end()) {
        if (auto v = parse_int(it->second); v && *v >= 0) {
            return v;
        }
    }
    return std::nullopt;
}

// The webhook in the path, when the caller may touch it.
net::awaitable<Result<storage::Webhook>> own_webhook(ApiContext& ctx, RequestContext& rc) {
    auto who = co_await async_authenticate(ctx, rc.request);
    if (!who) {
        co_return who.error();
    }
    auto id = path_id(rc, "id", "webhook");
    if (!id) {
        co_return id.error();
    }
    const std::int64_t wid = *id;
    auto hook = co_await ctx.db.run([wid](storage::Store& s) { return s.find_webhook(wid); });
    if (!hook || !who->may_touch(hook->merchant)) {
        co_return not_found("webhook");
    }
    co_return std::move(*hook);
}

}  // namespace

// POST /api/v1/webhooks: {"url", "events"?: [...], "merchant"? (admin)} → 201 with the
// signing secret, shown this once.
net::awaitable<Response> handle_create_webhook(ApiContext& ctx, RequestContext& rc) {
    auto who = co_await async_authenticate(ctx, rc.request);
    if (!who) {
        co_return fail(who.error(), rc.request);
    }
    auto body = parse_json_object(rc.request);
    if (!body) {
        co_return fail(body.error(), rc.request);
    }
    if (auto e = reject_unknown(*body, {"url", "events", "merchant"})) {
        co_return fail(*e, rc.request);
    }
    auto url = get_string(*body, "url");
    auto asked = get_int(*body, "merchant");
    if (!url) {
        co_return fail(url.error(), rc.request);
    }
    if (!asked) {
        co_return fail(asked.error(), rc.request);
    }
    auto merchant = merchant_of(*who, *asked);
    if (!merchant) {
        co_return fail(merchant.error(), rc.request);
    }
    const std::string u = url->value_or("");
    if (u.size() > 500 || !(u.starts_with("https://") || u.starts_with("http://")) ||
        u.find_first_of(" \t\r\n\"<>\\") != std::string::npos || u.find("://", 0) + 3 >= u.size()) {
        co_return fail(invalid("url", "must be an http(s) URL of at most 500 characters"),
                       rc.request);
    }
    std::string events = "*";
    if (const auto* e = body->if_contains("events"); e != nullptr && !e->is_null()) {
        if (!e->is_array() || e->as_array().empty()) {
            co_return fail(invalid("events", "must be a non-empty array of event types"),
                           rc.request);
        }
        events.clear();
        for (const auto& k : e->as_array()) {
            if (!k.is_string() || std::find(kEventKinds.begin(), kEventKinds.end(),
                                            std::string_view(k.as_string())) == kEventKinds.end()) {
                co_return fail(invalid("events",
                                       "must name card.created, pass.installed, "
                                       "pass.removed, transaction.created or "
                                       "campaign.finished"),
                               rc.request);
            }
            events += (events.empty() ? "" : ",") + std::string(k.as_string());
        }
    }
    if (ctx.secrets == nullptr) {
        co_return fail({ApiErrc::unavailable, "no server key to seal the webhook secret", {}},
                       rc.request);
    }
    const MerchantId owner = *merchant;
    auto exists =
        co_await ctx.db.run([owner](storage::Store& s) { return s.find_merchant(owner); });
    if (!exists) {
        co_return fail(not_found("merchant"), rc.request);
    }
    const std::string secret = "whsec_" + random::base64url(32);
    const std::string sealed = ctx.secrets->seal(secret, marketing::webhook_secret_context(owner));
    const std::int64_t now = now_unix_millis();
    auto hook = co_await ctx.db.run([&](storage::Store& s) {
        return s.find_webhook(s.create_webhook(owner, u, sealed, events, now));
    });
    json::object view = webhook_view(*hook);
    view["secret"] = secret;
    co_return json_ok(http::status::created, view, rc.request);
}

// GET /api/v1/webhooks[?merchant= (admin)]
net::awaitable<Response> handle_list_webhooks(ApiContext& ctx, RequestContext& rc) {
    auto who = co_await async_authenticate(ctx, rc.request);
    if (!who) {
        co_return fail(who.error(), rc.request);
    }
    auto merchant = merchant_of(*who, query_merchant(rc));
    if (!merchant) {
        co_return fail(merchant.error(), rc.request);
    }
    const MerchantId m = *merchant;
    auto hooks = co_await ctx.db.run([m](storage::Store& s) { return s.list_webhooks(m); });
    json::array out;
    for (const auto& h : hooks) {
        out.push_back(webhook_view(h));
    }
    co_return json_ok(http::status::ok, json::object{{"webhooks", std::move(out)}}, rc.request);
}

// DELETE /api/v1/webhooks/{id}: no more calls (pending ones are dropped) → 204.
net::awaitable<Response> handle_delete_webhook(ApiContext& ctx, RequestContext& rc) {
    auto hook = co_await own_webhook(ctx, rc);
    if (!hook) {
        co_return fail(hook.error(), rc.request);
    }
    const std::int64_t id = hook->id;
    (void)co_await ctx.db.run([id](storage::Store& s) { return s.delete_webhook(id); });
    Response res{http::status::no_content, rc.request.version()};
    co_return res;
}

// GET /api/v1/webhooks/{id}/deliveries: the latest 100 deliveries, newest first.
net::awaitable<Response> handle_list_deliveries(ApiContext& ctx, RequestContext& rc) {
    auto hook = co_await own_webhook(ctx, rc);
    if (!hook) {
        co_return fail(hook.error(), rc.request);
    }
    const std::int64_t id = hook->id;
    auto list = co_await ctx.db.run([id](storage::Store& s) { return s.list_deliveries(id, 100); });
    json::array out;
    for (const auto& d : list) {
        out.push_back(json::object{
            {"id", d.id},
            {"event", d.event_id},
            {"type", d.event_kind},
            {"state", d.state},
            {"attempts", d.attempts},
            {"lastStatus", d.last_status == 0 ? json::value(nullptr) : json::value(d.last_status)},
            {"lastError", d.last_error.empty() ? json::value(nullptr) : json::value(d.last_error)},
            {"createdAt", iso_ms_or_null(d.created_at)},
            {"updatedAt", iso_ms_or_null(d.updated_at)}});
    }
    co_return json_ok(http::status::ok,
                      json::object{{"webhook", id}, {"deliveries", std::move(out)}}, rc.request);
}

// GET /api/v1/events?after=<id>&limit=<1-1000>[&merchant= (admin)]: the pull mode; a CRM
// keeps the last id it saw and asks for what came after.
net::awaitable<Response> handle_list_events(ApiContext& ctx, RequestContext& rc) {
    auto who = co_await async_authenticate(ctx, rc.request);
    if (!who) {
        co_return fail(who.error(), rc.request);
    }
    auto merchant = merchant_of(*who, query_merchant(rc));
    if (!merchant) {
        co_return fail(merchant.error(), rc.request);
    }
    std::int64_t after = 0;
    if (auto it = rc.query.find("after"); it != rc.query.end()) {
        auto v = parse_int(it->second);
        if (!v || *v < 0) {
            co_return fail(invalid("after", "must be an event id (a whole number)"), rc.request);
        }
        after = *v;
    }
    auto limit = query_int(rc, "limit", 1, 1000, 100);
    if (!limit) {
        co_return fail(limit.error(), rc.request);
    }
    const MerchantId m = *merchant;
    const int n = static_cast<int>(*limit);
    auto events = co_await ctx.db.run(
        [m, after, n](storage::Store& s) { return s.list_events(m, after, n); });
    json::array out;
    for (const auto& e : events) {
        out.push_back(json::parse(marketing::event_json(e)));
    }
    const std::int64_t last = events.empty() ? after : events.back().id;
    co_return json_ok(
        http::status::ok,
        json::object{{"events", std::move(out)},
                     {"next", ctx.public_url + "/api/v1/events?after=" + std::to_string(last)},
                     {"last", last}},
        rc.request);
}

}  // namespace cardsmith::api
