#include <boost/json.hpp>

#include "api/handlers.hpp"
#include "api/request_helpers.hpp"
#include "api/views.hpp"
#include "common/time_format.hpp"
#include "domain/enrollment.hpp"
#include "domain/holder.hpp"
#include "domain/time_zone.hpp"
#include "enroll/code_sender.hpp"

namespace cardsmith::api {
namespace json = boost::json;

net::awaitable<Response> handle_list_templates(ApiContext& ctx, RequestContext& rc) {
    auto who = co_await async_authenticate(ctx, rc.request);
    if (!who) {
        co_return fail(who.error(), rc.request);
    }
    json::array list;
    for (const auto& [name, t] : ctx.templates) {
        json::array images;
        for (const auto& [image, _] : t.images) {
            images.push_back(json::string(image));
        }
        list.push_back(json::object{{"name", name},
                                    {"design", domain::design_to_json(t.files.design)},
                                    {"images", std::move(images)}});
    }
    co_return json_ok(http::status::ok, json::object{{"templates", std::move(list)}}, rc.request);
}

net::awaitable<Response> handle_create_program(ApiContext& ctx, RequestContext& rc) {
    auto who = co_await async_authenticate(ctx, rc.request);
    if (!who) {
        co_return fail(who.error(), rc.request);
    }
    auto body = parse_json_object(rc.request);
    if (!body) {
        co_return fail(body.error(), rc.request);
    }
    if (auto e = reject_unknown(*body,
                                {"slug", "name", "template", "merchant", "identity", "timeZone"})) {
        co_return fail(*e, rc.request);
    }
    auto slug = get_string(*body, "slug");
    auto name = get_string(*body, "name");
    auto tmpl = get_string(*body, "template");
    auto merchant = get_int(*body, "merchant");
    auto identity = get_int(*body, "identity");
    if (!identity) {
        co_return fail(identity.error(), rc.request);
    }
    auto zone = get_string(*body, "timeZone");
    if (!zone) {
        co_return fail(zone.error(), rc.request);
    }
    if (*zone && !domain::find_time_zone(**zone)) {
        co_return fail(invalid("timeZone", "must be an IANA time zone such as Europe/Moscow"),
                       rc.request);
    }
    for (const auto* r : {&slug, &name, &tmpl}) {
        if (!*r) {
            co_return fail(r->error(), rc.request);
        }
    }
    if (!merchant) {
        co_return fail(merchant.error(), rc.request);
    }
    if (!*slug || !domain::is_valid_slug(**slug)) {
        co_return fail(invalid("slug", "is required: 2-64 of a-z, 0-9 and '-'"), rc.request);
    }
    if (!*name || (*name)->empty() || (*name)->size() > 100 || !domain::is_clean_text(**name)) {
        co_return fail(invalid("name", "is required: 1-100 characters of text"), rc.request);
    }
    auto t = *tmpl ? ctx.templates.find(**tmpl) : ctx.templates.end();
    if (t == ctx.templates.end()) {
        std::string known;
        for (const auto& [n, _] : ctx.templates) {
            known += (known.empty() ? "" : ", ") + n;
        }
        co_return fail(invalid("template", "must be one of: " + known), rc.request);
    }
    MerchantId owner = who->merchant;
    if (who->admin) {
        if (!*merchant) {
            co_return fail(invalid("merchant", "is required with the admin key"), rc.request);
        }
        owner = MerchantId(**merchant);
        auto found = co_await ctx.db.run([&](storage::Store& s) { return s.find_merchant(owner); });
        if (!found) {
            co_return fail(not_found("merchant"), rc.request);
        }
    } else if (*merchant && MerchantId(**merchant) != owner) {
        co_return fail(not_found("merchant"), rc.request);
    }
    storage::NewProgram np;
    if (*identity) {
        const IdentityId wanted(**identity);
        auto found =
            co_await ctx.db.run([&](storage::Store& s) { return s.find_identity(wanted); });
        if (!found || found->merchant != owner) {
            co_return fail(invalid("identity", "no such identity for this merchant"), rc.request);
        }
        np.identity = wanted;
    }
    np.merchant = owner;
    np.time_zone = zone->value_or("UTC");
    np.slug = **slug;
    np.name = **name;
    np.template_name = t->first;
    np.design_json = json::serialize(domain::design_to_json(t->second.files.design));
    np.images = t->second.images;
    np.now = unix_seconds(std::chrono::system_clock::now());
    auto created = co_await ctx.db.run([&](storage::Store& s) { return s.create_program(np); });
    if (created.status == storage::StoreStatus::conflict) {
        co_return fail({ApiErrc::conflict, "slug '" + np.slug + "' is taken", "slug"}, rc.request);
    }
    co_return json_ok(http::status::created, program_view(ctx, *created.value), rc.request);
}

net::awaitable<Response> handle_get_program(ApiContext& ctx, RequestContext& rc) {
    auto program = co_await async_own_program(ctx, rc);
    if (!program) {
        co_return fail(program.error(), rc.request);
    }
    co_return json_ok(http::status::ok, program_view(ctx, *program), rc.request);
}

// PUT /api/v1/programs/{slug}/enrollment: the /join form's fields, terms link, language.
net::awaitable<Response> handle_set_program_enrollment(ApiContext& ctx, RequestContext& rc) {
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
    std::vector<domain::Problem> problems;
    // A webhook secret left out keeps the program's current one.
    auto settings =
        domain::enrollment_from_json(*body, problems, domain::SettingsJson::api,
                                     program->enrollment.verification.webhook_secret_sealed);
    if (!problems.empty()) {
        co_return fail(invalid(problems[0].field, problems[0].message), rc.request);
    }
    auto& verification = settings.verification;
    if (!verification.webhook_secret.empty()) {
        if (ctx.secrets == nullptr) {
            co_return fail({ApiErrc::unavailable, "no server key to seal the webhook secret", {}},
                           rc.request);
        }
        verification.webhook_secret_sealed = ctx.secrets->seal(
            verification.webhook_secret, enroll::webhook_secret_context(program->id));
        verification.webhook_secret.clear();
    }
    const std::string stored =
        json::serialize(domain::enrollment_to_json(settings, domain::SettingsJson::storage));
    const ProgramId id = program->id;
    (void)co_await ctx.db.run(
        [&](storage::Store& s) { return s.set_program_enrollment(id, stored); });
    program->enrollment = settings;
    co_return json_ok(http::status::ok, program_view(ctx, *program), rc.request);
}

// GET /api/v1/programs/{slug}/stats: cards by channel, installs, devices, the ledger.
net::awaitable<Response> handle_program_stats(ApiContext& ctx, RequestContext& rc) {
    auto program = co_await async_own_program(ctx, rc);
    if (!program) {
        co_return fail(program.error(), rc.request);
    }
    const ProgramId id = program->id;
    auto s = co_await ctx.db.run([&](storage::Store& store) { return store.program_stats(id); });
    json::object by_source;
    for (const auto& [source, n] : s.cards_by_source) {
        by_source[source] = n;
    }
    co_return json_ok(http::status::ok,
                      json::object{{"program", program->slug},
                                   {"cardsIssued", s.cards},
                                   {"cardsBySource", std::move(by_source)},
                                   {"verifiedCards", s.verified_cards},
                                   {"referrals", s.referrals},
                                   {"passesInstalled", s.passes_installed},
                                   {"passesRemoved", s.passes_removed},
                                   {"devices", s.devices},
                                   {"transactions", s.transactions},
                                   {"pointsEarned", s.points_earned},
                                   {"pointsRedeemed", s.points_redeemed}},
                      rc.request);
}

// GET /api/v1/programs/{slug}/stats/daily?days=30: per-day series for charts, days in the
// program's time zone (its offset today), oldest first, days without activity as zeros.
net::awaitable<Response> handle_program_daily_stats(ApiContext& ctx, RequestContext& rc) {
    auto program = co_await async_own_program(ctx, rc);
    if (!program) {
        co_return fail(program.error(), rc.request);
    }
    auto asked = query_int(rc, "days", 1, 366, 30);
    if (!asked) {
        co_return fail(asked.error(), rc.request);
    }
    const std::int64_t days = *asked;
    const auto zone = domain::find_time_zone(program->time_zone);
    const std::int64_t now = unix_seconds(std::chrono::system_clock::now());
    const std::int64_t offset = zone ? zone->offset_at(now) : 0;
    const std::int64_t today = (now + offset) / 86400;
    const std::int64_t first = today - days + 1;
    const std::int64_t since = first * 86400 - offset;
    const ProgramId id = program->id;
    auto rows =
        co_await ctx.db.run([&](storage::Store& s) { return s.daily_stats(id, since, offset); });
    std::map<std::int64_t, const storage::DailyStats*> by_day;
    for (const auto& r : rows) {
        by_day[r.day] = &r;
    }
    auto counts = [](const std::map<std::string, std::int64_t>& m) {
        json::object o;
        for (const auto& [k, v] : m) {
            o[k] = v;
        }
        return o;
    };
    json::array out;
    const storage::DailyStats empty;
    for (std::int64_t d = first; d <= today; ++d) {
        const auto it = by_day.find(d);
        const auto& r = it != by_day.end() ? *it->second : empty;
        std::int64_t issued = 0;
        for (const auto& [_, n] : r.cards_by_source) {
            issued += n;
        }
        json::object pushes;
        for (const char* outcome : {"delivered", "retried", "failed", "unregistered"}) {
            const auto p = r.pushes.find(outcome);
            pushes[outcome] = p != r.pushes.end() ? counts(p->second) : json::object{};
        }
        out.push_back(json::object{{"date", format_iso8601_unix(d * 86400).substr(0, 10)},
                                   {"cardsIssued", issued},
                                   {"cardsBySource", counts(r.cards_by_source)},
                                   {"installs", counts(r.installs)},
                                   {"removals", counts(r.removals)},
                                   {"transactions", r.transactions},
                                   {"pointsEarned", r.points_earned},
                                   {"pointsRedeemed", r.points_redeemed},
                                   {"pushes", std::move(pushes)}});
    }
    co_return json_ok(
        http::status::ok,
        json::object{
            {"program", program->slug}, {"timeZone", program->time_zone}, {"days", std::move(out)}},
        rc.request);
}

// GET /api/v1/programs/{slug}/cards?q=<text>&limit=20: card number prefix or holder's
// name, phone or e-mail containing the text; newest first.
net::awaitable<Response> handle_search_cards(ApiContext& ctx, RequestContext& rc) {
    auto program = co_await async_own_program(ctx, rc);
    if (!program) {
        co_return fail(program.error(), rc.request);
    }
    std::string q;
    if (auto it = rc.query.find("q"); it != rc.query.end()) {
        q = it->second;
    }
    if (q.size() > 100 || !domain::is_clean_text(q)) {
        co_return fail(invalid("q", "must be at most 100 characters of text"), rc.request);
    }
    auto limit = query_int(rc, "limit", 1, 100, 20);
    if (!limit) {
        co_return fail(limit.error(), rc.request);
    }
    const ProgramId id = program->id;
    const int n = static_cast<int>(*limit);
    auto cards = co_await ctx.db.run([&](storage::Store& s) { return s.search_cards(id, q, n); });
    json::array out;
    for (const auto& c : cards) {
        out.push_back(card_view(ctx, *program, c));
    }
    co_return json_ok(http::status::ok,
                      json::object{{"program", program->slug}, {"cards", std::move(out)}},
                      rc.request);
}

}  // namespace cardsmith::api
