// Campaigns (issue 6): an offer to a segment of a program's card holders, sent by
// marketing::CampaignRunner through every wallet; the merchant reads its counters.
#include <boost/json.hpp>

#include "api/handlers.hpp"
#include "api/request_helpers.hpp"
#include "api/views.hpp"
#include "common/time_format.hpp"
#include "domain/campaign.hpp"
#include "domain/lint.hpp"
#include "marketing/campaign_runner.hpp"

namespace cardsmith::api {
namespace json = boost::json;
namespace {

double rate(std::int64_t part, std::int64_t whole) {
    return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole);
}

json::object campaign_view(const ApiContext& ctx, const storage::Campaign& c,
                           const std::string& slug, const storage::CampaignResults& r) {
    const auto options = domain::options_from_json(json::parse(c.options_json).as_object());
    json::object body{
        {"id", c.id},
        {"program", slug},
        {"state", c.state},
        {"message", c.message},
        {"header", c.header.empty() ? json::value(nullptr) : json::value(c.header)},
        {"link", c.link.empty() ? json::value(nullptr) : json::value(c.link)},
        {"segment", json::parse(c.segment_json)},
        {"sendAt", iso_ms_or_null(c.send_at)},
        {"expiresAt", iso_ms_or_null(c.expires_at)},
        {"options", domain::options_to_json(options)},
        {"targeted", c.targeted},
        {"heldOut", c.held_out},
        {"capped", c.capped},
        {"unreachable", c.unreachable},
        {"sent", c.sent},
        {"failed", c.failed},
        {"delivered", r.delivered},
        {"redeemed", r.redeemed},
        {"heldOutRedeemed", r.held_out_redeemed},
        {"redemptionRate", rate(r.redeemed, r.delivered)},
        {"holdoutRedemptionRate", rate(r.held_out_redeemed, c.held_out)},
        // The offer's effect: the offered group against the holdout, both counted from the
        // draw (delivered cards alone would favour phones that are switched on and used).
        {"effect",
         {{"offered", r.offered},
          {"offeredRedeemed", r.offered_redeemed},
          {"offeredRate", rate(r.offered_redeemed, r.offered)},
          {"heldOut", c.held_out},
          {"heldOutRedeemed", r.held_out_redeemed},
          {"holdoutRate", rate(r.held_out_redeemed, c.held_out)},
          {"lift", rate(r.offered_redeemed, r.offered) - rate(r.held_out_redeemed, c.held_out)}}},
        {"googleNotified", c.google_notified},
        {"googleSilent", c.google_silent},
        {"createdAt", iso_ms_or_null(c.created_at)},
        {"startedAt", iso_ms_or_null(c.started_at)},
        {"finishedAt", iso_ms_or_null(c.finished_at)},
        {"links", {{"self", ctx.public_url + "/api/v1/campaigns/" + std::to_string(c.id)}}}};
    body["options"].as_object().erase("expiresAt");
    return body;
}

// The campaign in the path with its program, when the caller may touch it.
net::awaitable<Result<std::pair<storage::Campaign, domain::Program>>> own_campaign(
    ApiContext& ctx, RequestContext& rc) {
    auto who = co_await async_authenticate(ctx, rc.request);
    if (!who) {
        co_return who.error();
    }
    auto path = path_id(rc, "id", "campaign");
    if (!path) {
        co_return path.error();
    }
    const std::int64_t id = *path;
    auto found = co_await ctx.db.run([id](storage::Store& s) {
        std::optional<std::pair<storage::Campaign, domain::Program>> out;
        if (auto c = s.find_campaign(id)) {
            if (auto p = s.find_program(c->program)) {
                out.emplace(std::move(*c), std::move(*p));
            }
        }
        return out;
    });
    if (!found || !who->may_touch(found->second.merchant)) {
        co_return not_found("campaign");
    }
    co_return std::move(*found);
}

net::awaitable<Response> respond_with_campaign(ApiContext& ctx, RequestContext& rc,
                                               const storage::Campaign& c, const domain::Program& p,
                                               http::status status) {
    const auto options = domain::options_from_json(json::parse(c.options_json).as_object());
    const std::int64_t id = c.id;
    const std::int64_t window = options.redeem_days * 86400;
    auto results = co_await ctx.db.run(
        [id, window](storage::Store& s) { return s.campaign_results(id, window); });
    co_return json_ok(status, campaign_view(ctx, c, p.slug, results), rc.request);
}

}  // namespace

// POST /api/v1/programs/{slug}/campaigns: {"message", "segment"?, "sendAt"?, ...} → 202.
// With "dryRun": true only the segment's size (and the lint) comes back.
net::awaitable<Response> handle_create_campaign(ApiContext& ctx, RequestContext& rc) {
    auto who = co_await async_authenticate(ctx, rc.request);
    if (!who) {
        co_return fail(who.error(), rc.request);
    }
    auto body = parse_json_object(rc.request);
    if (!body) {
        co_return fail(body.error(), rc.request);
    }
    auto program = co_await async_own_program(ctx, *who, rc.param("slug"));
    if (!program) {
        co_return fail(program.error(), rc.request);
    }
    const auto zone = marketing::zone_of(*program);
    const std::int64_t now = now_unix_millis();
    std::vector<domain::Problem> problems;
    auto request = domain::campaign_from_json(*body, program->design, *zone, now / 1000, problems);
    if (!problems.empty()) {
        co_return fail(invalid(problems), rc.request);
    }
    auto lint = domain::lint_campaign(program->design, request.header, request.message);
    if (!lint.ok()) {
        const auto& first = lint.errors.front();
        co_return fail({ApiErrc::lint_failed,
                        first.field + ": " + first.message,
                        first.field,
                        {{"lint", domain::lint_to_json(lint)}}},
                       rc.request);
    }
    const auto filter =
        marketing::resolve_segment(request.segment, *program, *zone, request.send_at);
    if (request.dry_run) {
        const ProgramId id = program->id;
        auto n = co_await ctx.db.run(
            [id, &filter](storage::Store& s) { return s.count_segment(id, filter); });
        co_return json_ok(
            http::status::ok,
            json::object{{"program", program->slug},
                         {"targeted", n},
                         {"heldOutEstimate", n * request.options.holdout_percent / 100},
                         {"sendAt", iso(request.send_at)},
                         {"lint", domain::lint_to_json(lint)}},
            rc.request);
    }
    storage::NewCampaign nc;
    nc.program = program->id;
    nc.message = request.message;
    nc.header = request.header;
    nc.link = request.link;
    nc.segment_json = json::serialize(domain::segment_to_json(request.segment));
    nc.options_json = json::serialize(domain::options_to_json(request.options));
    nc.send_at_ms = request.send_at * 1000;
    nc.expires_at_ms = request.options.expires_at * 1000;
    nc.now_ms = now;
    auto created = co_await ctx.db.run(
        [&nc](storage::Store& s) { return s.find_campaign(s.create_campaign(nc)); });
    if (!created) {
        co_return fail({ApiErrc::internal, "campaign not saved", {}}, rc.request);
    }
    if (ctx.on_campaign_created) {
        ctx.on_campaign_created();
    }
    auto res = co_await respond_with_campaign(ctx, rc, *created, *program, http::status::accepted);
    json::value v = json::parse(res.body());
    v.as_object()["lint"] = domain::lint_to_json(lint);
    co_return json_ok(http::status::accepted, v, rc.request);
}

// GET /api/v1/campaigns/{id}: state and counters.
net::awaitable<Response> handle_get_campaign(ApiContext& ctx, RequestContext& rc) {
    auto owned = co_await own_campaign(ctx, rc);
    if (!owned) {
        co_return fail(owned.error(), rc.request);
    }
    co_return co_await respond_with_campaign(ctx, rc, owned->first, owned->second,
                                             http::status::ok);
}

// GET /api/v1/programs/{slug}/campaigns: the latest 100, newest first.
net::awaitable<Response> handle_list_campaigns(ApiContext& ctx, RequestContext& rc) {
    auto program = co_await async_own_program(ctx, rc);
    if (!program) {
        co_return fail(program.error(), rc.request);
    }
    const ProgramId id = program->id;
    auto list = co_await ctx.db.run([id](storage::Store& s) {
        std::vector<std::pair<storage::Campaign, storage::CampaignResults>> out;
        for (auto& c : s.list_campaigns(id, 100)) {
            const auto o = domain::options_from_json(json::parse(c.options_json).as_object());
            auto r = s.campaign_results(c.id, o.redeem_days * 86400);
            out.emplace_back(std::move(c), r);
        }
        return out;
    });
    json::array out;
    for (const auto& [c, r] : list) {
        out.push_back(campaign_view(ctx, c, program->slug, r));
    }
    co_return json_ok(http::status::ok,
                      json::object{{"program", program->slug}, {"campaigns", std::move(out)}},
                      rc.request);
}

// POST /api/v1/campaigns/{id}/cancel: stops a scheduled or sending campaign (cards already
// sent keep their offer until it expires).
net::awaitable<Response> handle_cancel_campaign(ApiContext& ctx, RequestContext& rc) {
    auto owned = co_await own_campaign(ctx, rc);
    if (!owned) {
        co_return fail(owned.error(), rc.request);
    }
    const std::int64_t id = owned->first.id;
    const std::int64_t now = now_unix_millis();
    auto after = co_await ctx.db.run([id, now](storage::Store& s) {
        const bool ok = s.cancel_campaign(id, now);
        return std::pair{ok, s.find_campaign(id)};
    });
    if (!after.first) {
        co_return fail(
            {ApiErrc::conflict, "a " + owned->first.state + " campaign cannot be cancelled", {}},
            rc.request);
    }
    co_return co_await respond_with_campaign(ctx, rc, *after.second, owned->second,
                                             http::status::ok);
}

// PATCH /api/v1/programs/{slug}: {"timeZone": "Europe/Moscow"} (IANA name).
net::awaitable<Response> handle_patch_program(ApiContext& ctx, RequestContext& rc) {
    auto who = co_await async_authenticate(ctx, rc.request);
    if (!who) {
        co_return fail(who.error(), rc.request);
    }
    auto body = parse_json_object(rc.request);
    if (!body) {
        co_return fail(body.error(), rc.request);
    }
    auto program = co_await async_own_program(ctx, *who, rc.param("slug"));
    if (!program) {
        co_return fail(program.error(), rc.request);
    }
    if (auto e = reject_unknown(*body, {"timeZone"})) {
        co_return fail(*e, rc.request);
    }
    auto zone = get_string(*body, "timeZone");
    if (!zone) {
        co_return fail(zone.error(), rc.request);
    }
    if (*zone) {
        if (!domain::find_time_zone(**zone)) {
            co_return fail(invalid("timeZone", "must be an IANA time zone such as Europe/Moscow"),
                           rc.request);
        }
        const ProgramId id = program->id;
        const std::string z = **zone;
        (void)co_await ctx.db.run(
            [&](storage::Store& s) { return s.set_program_time_zone(id, z); });
        program->time_zone = z;
    }
    co_return json_ok(http::status::ok, program_view(ctx, *program), rc.request);
}

}  // namespace cardsmith::api
