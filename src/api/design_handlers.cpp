// Redesign (issue 6): design changes and image uploads make a new design version, linted
// for lock-screen correctness, and publishing a version starts a rollout that moves every
// card to it (see storage::Store::rollout_step and marketing::RolloutRunner).
#include <boost/json.hpp>

#include "api/handlers.hpp"
#include "api/request_helpers.hpp"
#include "api/views.hpp"
#include "apple/passkit/pass_json.hpp"
#include "common/time_format.hpp"
#include "crypto/hash.hpp"
#include "domain/images.hpp"
#include "domain/lint.hpp"
#include "http/response.hpp"

namespace cardsmith::api {
namespace json = boost::json;
namespace {

bool query_flag(const RequestContext& rc, const std::string& name) {
    auto it = rc.query.find(name);
    return it != rc.query.end() && (it->second == "1" || it->second == "true");
}

json::object rollout_view(const ApiContext& ctx, const storage::Rollout& r,
                          const std::string& slug) {
    const std::int64_t now = now_unix_millis();
    const std::int64_t end = r.finished_at != 0 ? r.finished_at : now;
    // Cards per second while running: time paused or waiting at the canary does not count.
    const std::int64_t running =
        r.active_ms + (r.running_since != 0 ? std::max<std::int64_t>(0, end - r.running_since) : 0);
    double rate = 0;
    if (running > 0) {
        rate = static_cast<double>(r.cards_done) * 1000.0 / static_cast<double>(running);
    }
    json::value eta = nullptr;
    const std::int64_t left = std::max<std::int64_t>(0, r.cards_total - r.cards_done);
    if (r.state == "done") {
        eta = 0;
    } else if (r.state == "running" && rate > 0) {
        eta = static_cast<std::int64_t>(static_cast<double>(left) / rate + 0.5);
    }
    const double progress =
        r.state == "done" || r.cards_total == 0
            ? 1.0
            : static_cast<double>(r.cards_done) / static_cast<double>(r.cards_total);
    return {{"id", r.id},
            {"program", slug},
            {"version", r.version},
            {"fromVersion", r.from_version},
            {"reverts", r.reverts != 0 ? json::value(r.reverts) : json::value(nullptr)},
            {"state", r.state},
            {"canaryPercent", r.canary_percent},
            {"canaryDevices", r.canary_devices},
            {"canaryConfirmed", r.confirmed_at != 0},
            {"cardsTotal", r.cards_total},
            {"cardsDone", r.cards_done},
            {"devicesTotal", r.devices_total},
            {"pushesQueued", r.pushes_queued},
            {"progress", std::min(1.0, progress)},
            {"ratePerSecond", static_cast<std::int64_t>(rate + 0.5)},
            {"etaSeconds", eta},
            {"createdAt", iso_ms_or_null(r.created_at)},
            {"startedAt", iso_ms_or_null(r.started_at)},
            {"finishedAt", iso_ms_or_null(r.finished_at)},
            {"links", {{"self", ctx.public_url + "/api/v1/rollouts/" + std::to_string(r.id)}}}};
}

// A design made of the program's current one and a change: parsed, validated and linted.
struct Checked {
    domain::Design design;
    domain::LintReport lint;
};

Result<Checked> check_design(const domain::Program& program, const json::object& design_json) {
    std::vector<domain::Problem> problems;
    Checked out;
    out.design = domain::design_from_json(design_json, problems);
    if (problems.empty()) {
        domain::validate_design(out.design, problems);
    }
    if (!problems.empty()) {
        return invalid(problems);
    }
    out.lint = domain::lint_design(&program.design, out.design);
    if (!out.lint.ok()) {
        const auto& first = out.lint.errors.front();
        return ApiError{
            ApiErrc::lint_failed,
            "the design would break lock-screen messages: " + first.field + ": " + first.message,
            first.field,
            {{"lint", domain::lint_to_json(out.lint)}}};
    }
    return out;
}

// Makes the new version and, unless ?draft=true, publishes it (?canary=N: the first N%
// of devices, then the rest after POST /api/v1/rollouts/{id}/confirm).
net::awaitable<Response> save_version(ApiContext& ctx, RequestContext& rc,
                                      const domain::Program& program, const Checked& checked,
                                      std::map<std::string, storage::StoredImage> images,
                                      std::string note) {
    auto canary = query_int(rc, "canary", 0, 99, 0);
    if (!canary) {
        co_return fail(canary.error(), rc.request);
    }
    const bool draft = query_flag(rc, "draft");
    const std::string design_text = json::serialize(domain::design_to_json(checked.design));
    if (images.empty() && design_text == json::serialize(domain::design_to_json(program.design))) {
        json::object body = program_view(ctx, program);
        body["unchanged"] = true;
        body["lint"] = domain::lint_to_json(checked.lint);
        co_return json_ok(http::status::ok, body, rc.request);
    }
    storage::NewDesignVersion nv;
    nv.program = program.id;
    nv.base_version = program.design_version;
    nv.design_json = design_text;
    nv.images = std::move(images);
    nv.note = std::move(note);
    nv.now_ms = now_unix_millis();
    const int percent = static_cast<int>(*canary);
    auto saved = co_await ctx.db.run([&](storage::Store& s) {
        std::pair<std::int64_t, std::optional<storage::Rollout>> out;
        out.first = s.add_design_version(nv);
        if (!draft) {
            out.second = s.start_rollout(nv.program, out.first, percent, nv.now_ms);
        }
        return out;
    });
    if (saved.second && ctx.on_rollout_started) {
        ctx.on_rollout_started();
    }
    const ProgramId id = program.id;
    auto fresh = co_await ctx.db.run([&](storage::Store& s) { return s.find_program(id); });
    json::object body = program_view(ctx, fresh ? *fresh : program);
    body["version"] = saved.first;
    body["draft"] = draft;
    body["rollout"] =
        saved.second ? json::value(rollout_view(ctx, *saved.second, program.slug)) : nullptr;
    body["lint"] = domain::lint_to_json(checked.lint);
    co_return json_ok(http::status::ok, body, rc.request);
}

json::object version_view(const ApiContext& ctx, const domain::Program& program,
                          const storage::DesignVersion& d) {
    json::array images;
    for (const auto& n : d.images) {
        images.push_back(json::string(n));
    }
    const std::string base = ctx.public_url + "/api/v1/programs/" + program.slug + "/designs/" +
                             std::to_string(d.version);
    return {{"version", d.version},
            {"current", d.version == program.design_version},
            {"note", d.note.empty() ? json::value(nullptr) : json::value(d.note)},
            {"createdAt", iso(d.created_at)},
            {"publishedAt", iso_ms_or_null(d.published_at)},
            {"images", std::move(images)},
            {"links", {{"self", base}, {"preview", base + "/preview"}}}};
}

}  // namespace

// PATCH /api/v1/programs/{slug}/design: any subset of the design's fields.
net::awaitable<Response> handle_patch_design(ApiContext& ctx, RequestContext& rc) {
    auto owned = co_await async_own_program(ctx, rc);
    if (!owned) {
        co_return fail(owned.error(), rc.request);
    }
    auto body = parse_json_object(rc.request);
    if (!body) {
        co_return fail(body.error(), rc.request);
    }
    if (body->empty()) {
        co_return fail(invalid("design", "the body names no design field"), rc.request);
    }
    const auto& program = *owned;
    auto merged = domain::merge_design_patch(domain::design_to_json(program.design), *body);
    auto checked = check_design(program, merged);
    if (!checked) {
        co_return fail(checked.error(), rc.request);
    }
    // ?dryRun=true: validate and lint only; nothing is saved (the console's "Check").
    if (query_flag(rc, "dryRun")) {
        const auto design = domain::design_to_json(checked->design);
        const bool unchanged =
            json::serialize(design) == json::serialize(domain::design_to_json(program.design));
        co_return json_ok(http::status::ok,
                          json::object{{"program", program.slug},
                                       {"dryRun", true},
                                       {"unchanged", unchanged},
                                       {"design", design},
                                       {"lint", domain::lint_to_json(checked->lint)}},
                          rc.request);
    }
    std::string note = "design: ";
    for (const auto& [k, _] : *body) {
        note += std::string(k) + ' ';
    }
    note.pop_back();
    co_return co_await save_version(ctx, rc, program, *checked, {}, std::move(note));
}

// PUT /api/v1/programs/{slug}/images/{name}: a PNG (icon, logo, strip, thumbnail, @2x/@3x).
net::awaitable<Response> handle_put_image(ApiContext& ctx, RequestContext& rc) {
    auto owned = co_await async_own_program(ctx, rc);
    if (!owned) {
        co_return fail(owned.error(), rc.request);
    }
    const std::string& name = rc.param("name");
    if (!domain::is_image_name(name)) {
        co_return fail(not_found("image name '" + name +
                                 "' (icon, logo, strip, thumbnail, each with optional @2x or @3x)"),
                       rc.request);
    }
    const auto type = rc.request[http::field::content_type];
    if (!type.empty() && !type.starts_with("image/png") &&
        !type.starts_with("application/octet-stream")) {
        co_return fail(
            {ApiErrc::unsupported_media_type, "send the PNG with Content-Type image/png", {}},
            rc.request);
    }
    const std::string& bytes = rc.request.body();
    if (auto problem = domain::check_image(name, bytes); !problem.empty()) {
        co_return fail(invalid(name, problem), rc.request);
    }
    const auto& program = *owned;
    auto checked = check_design(program, domain::design_to_json(program.design));
    if (!checked) {
        co_return fail(checked.error(), rc.request);
    }
    std::map<std::string, storage::StoredImage> images;
    images.emplace(name, storage::StoredImage{crypto::sha256_hex(bytes), bytes});
    co_return co_await save_version(ctx, rc, program, *checked, std::move(images),
                                    "image: " + name);
}

// GET /api/v1/programs/{slug}/designs: every version, newest first.
net::awaitable<Response> handle_list_designs(ApiContext& ctx, RequestContext& rc) {
    auto owned = co_await async_own_program(ctx, rc);
    if (!owned) {
        co_return fail(owned.error(), rc.request);
    }
    const ProgramId id = owned->id;
    auto versions =
        co_await ctx.db.run([&](storage::Store& s) { return s.list_design_versions(id); });
    json::array list;
    for (const auto& d : versions) {
        list.push_back(version_view(ctx, *owned, d));
    }
    co_return json_ok(http::status::ok,
                      json::object{{"program", owned->slug},
                                   {"currentVersion", owned->design_version},
                                   {"versions", std::move(list)}},
                      rc.request);
}

// GET /api/v1/programs/{slug}/designs/{version}: the version's design and its lint.
net::awaitable<Response> handle_get_design(ApiContext& ctx, RequestContext& rc) {
    auto owned = co_await async_own_program(ctx, rc);
    if (!owned) {
        co_return fail(owned.error(), rc.request);
    }
    auto version = path_id(rc, "version");
    if (!version) {
        co_return fail(version.error(), rc.request);
    }
    const ProgramId id = owned->id;
    const std::int64_t v = *version;
    auto d = co_await ctx.db.run([&](storage::Store& s) { return s.find_design_version(id, v); });
    if (!d) {
        co_return fail(not_found("design version"), rc.request);
    }
    json::object body = version_view(ctx, *owned, *d);
    body["design"] = json::parse(d->design_json);
    std::vector<domain::Problem> problems;
    auto design = domain::design_from_json(body["design"], problems);
    body["lint"] = domain::lint_to_json(domain::lint_design(&owned->design, design));
    co_return json_ok(http::status::ok, body, rc.request);
}

// GET /api/v1/programs/{slug}/designs/{version}/preview[?card=N]: the pass's front and
// back as Wallet would draw them, for a sample holder or one of the program's cards.
net::awaitable<Response> handle_design_preview(ApiContext& ctx, RequestContext& rc) {
    auto owned = co_await async_own_program(ctx, rc);
    if (!owned) {
        co_return fail(owned.error(), rc.request);
    }
    auto version = path_id(rc, "version");
    if (!version) {
        co_return fail(version.error(), rc.request);
    }
    domain::Program program = *owned;
    const std::int64_t v = *version;
    std::optional<std::string> card_number;
    if (auto it = rc.query.find("card"); it != rc.query.end()) {
        card_number = it->second;
    }
    auto loaded = co_await ctx.db.run([&](storage::Store& s) {
        std::pair<bool, std::optional<domain::Card>> out;
        out.first = s.load_design_version(program, v);
        if (card_number) {
            out.second = s.find_card(CardNumber(*card_number));
        }
        return out;
    });
    if (!loaded.first) {
        co_return fail(not_found("design version"), rc.request);
    }
    domain::Card card;
    if (card_number) {
        if (!loaded.second || loaded.second->program != program.id) {
            co_return fail(not_found("card"), rc.request);
        }
        card = *loaded.second;
    } else {
        card.number = CardNumber("4000123412341234");
        card.serial = SerialNumber("preview");
        card.holder.name = "Alex Sample";
        card.balance = 120;
        card.lifetime_points = 480;
    }
    const auto values = passkit::placeholder_values(program, card);
    json::object fields;
    for (std::size_t g = 0; g < domain::kFieldGroupNames.size(); ++g) {
        json::array list;
        for (const auto& f : program.design.fields.at(g)) {
            json::object o{{"key", f.key},
                           {"label", domain::render_placeholders(f.label, values)},
                           {"value", domain::render_placeholders(f.value, values)}};
            if (!f.change_message.empty()) {
                o["changeMessage"] = f.change_message;
            }
            list.push_back(std::move(o));
        }
        fields[domain::kFieldGroupNames.at(g)] = std::move(list);
    }
    json::object images;
    const std::string image_base = ctx.public_url + "/api/v1/programs/" + program.slug +
                                   "/designs/" + std::to_string(v) + "/images/";
    const auto& d = program.design;
    co_return json_ok(
        http::status::ok,
        json::object{{"program", program.slug},
                     {"version", v},
                     {"organizationName", d.organization_name},
                     {"logoText", d.logo_text},
                     {"description", d.description},
                     {"colors",
                      {{"background", d.background.hex()},
                       {"foreground", d.foreground.hex()},
                       {"label", d.label.hex()}}},
                     {"fields", std::move(fields)},
                     {"barcode", {{"format", "QR"}, {"message", card.number.value()}}},
                     {"imageBase", image_base}},
        rc.request);
}

// GET /api/v1/programs/{slug}/designs/{version}/images/{file}: a version's PNG (drafts
// too, so the console can preview them; the public /images/ path serves published ones).
net::awaitable<Response> handle_design_image(ApiContext& ctx, RequestContext& rc) {
    auto owned = co_await async_own_program(ctx, rc);
    if (!owned) {
        co_return fail(owned.error(), rc.request);
    }
    auto version = path_id(rc, "version");
    if (!version) {
        co_return fail(version.error(), rc.request);
    }
    std::string name = rc.param("file");
    if (name.ends_with(".png")) {
        name.resize(name.size() - 4);
    }
    const ProgramId id = owned->id;
    const std::int64_t v = *version;
    auto image = co_await ctx.db.run([&](storage::Store& s) {
        std::optional<std::string> out;
        auto images = s.design_images(id, v);
        if (auto it = images.find(name); it != images.end()) {
            out = std::move(it->second);
        }
        return out;
    });
    if (!image) {
        co_return fail(not_found("image"), rc.request);
    }
    auto res = http_server::bytes_response(http::status::ok, "image/png", std::move(*image),
                                           rc.request.version());
    res.set(http::field::cache_control, "private, max-age=3600");
    co_return res;
}

// POST /api/v1/programs/{slug}/designs/{version}/publish[?canary=N]: publishes a version
// (an older one: a roll back).
net::awaitable<Response> handle_publish_design(ApiContext& ctx, RequestContext& rc) {
    auto owned = co_await async_own_program(ctx, rc);
    if (!owned) {
        co_return fail(owned.error(), rc.request);
    }
    auto version = path_id(rc, "version");
    if (!version) {
        co_return fail(version.error(), rc.request);
    }
    auto canary = query_int(rc, "canary", 0, 99, 0);
    if (!canary) {
        co_return fail(canary.error(), rc.request);
    }
    domain::Program program = *owned;
    const std::int64_t v = *version;
    auto found = co_await ctx.db.run([&](storage::Store& s) {
        domain::Program p = program;
        return s.load_design_version(p, v) ? std::optional<domain::Program>(std::move(p))
                                           : std::nullopt;
    });
    if (!found) {
        co_return fail(not_found("design version"), rc.request);
    }
    auto lint = domain::lint_design(&program.design, found->design);
    if (!lint.ok() && !query_flag(rc, "force")) {
        const auto& first = lint.errors.front();
        co_return fail({ApiErrc::lint_failed,
                        "the design would break lock-screen messages: " + first.field + ": " +
                            first.message + " (add ?force=true to publish it anyway)",
                        first.field,
                        {{"lint", domain::lint_to_json(lint)}}},
                       rc.request);
    }
    const int percent = static_cast<int>(*canary);
    const std::int64_t now = now_unix_millis();
    const ProgramId id = program.id;
    auto rollout = co_await ctx.db.run(
        [&](storage::Store& s) { return s.start_rollout(id, v, percent, now); });
    if (ctx.on_rollout_started) {
        ctx.on_rollout_started();
    }
    auto fresh = co_await ctx.db.run([&](storage::Store& s) { return s.find_program(id); });
    json::object body = program_view(ctx, fresh ? *fresh : program);
    body["rollout"] = rollout_view(ctx, rollout, program.slug);
    body["lint"] = domain::lint_to_json(lint);
    co_return json_ok(http::status::ok, body, rc.request);
}

// GET /api/v1/programs/{slug}/rollouts: the latest rollouts, newest first.
net::awaitable<Response> handle_list_rollouts(ApiContext& ctx, RequestContext& rc) {
    auto owned = co_await async_own_program(ctx, rc);
    if (!owned) {
        co_return fail(owned.error(), rc.request);
    }
    const ProgramId id = owned->id;
    auto list = co_await ctx.db.run([&](storage::Store& s) { return s.list_rollouts(id, 50); });
    json::array out;
    for (const auto& r : list) {
        out.push_back(rollout_view(ctx, r, owned->slug));
    }
    co_return json_ok(http::status::ok,
                      json::object{{"program", owned->slug}, {"rollouts", std::move(out)}},
                      rc.request);
}

namespace {

// The rollout in the path with its program, when the caller may touch it.
net::awaitable<Result<std::pair<storage::Rollout, domain::Program>>> own_rollout(
    ApiContext& ctx, RequestContext& rc) {
    auto who = co_await async_authenticate(ctx, rc.request);
    if (!who) {
        co_return who.error();
    }
    auto id = path_id(rc, "id", "rollout");
    if (!id) {
        co_return id.error();
    }
    const std::int64_t rid = *id;
    auto found = co_await ctx.db.run([&](storage::Store& s) {
        std::optional<std::pair<storage::Rollout, domain::Program>> out;
        if (auto r = s.find_rollout(rid)) {
            if (auto p = s.find_program(r->program)) {
                out.emplace(std::move(*r), std::move(*p));
            }
        }
        return out;
    });
    if (!found || !who->may_touch(found->second.merchant)) {
        co_return not_found("rollout");
    }
    co_return std::move(*found);
}

}  // namespace

// GET /api/v1/rollouts/{id}: state and progress.
net::awaitable<Response> handle_get_rollout(ApiContext& ctx, RequestContext& rc) {
    auto owned = co_await own_rollout(ctx, rc);
    if (!owned) {
        co_return fail(owned.error(), rc.request);
    }
    co_return json_ok(http::status::ok, rollout_view(ctx, owned->first, owned->second.slug),
                      rc.request);
}

// POST /api/v1/rollouts/{id}/{action}: pause, resume, confirm (a canary), cancel (the
// cards already moved go back: the answer carries that rollout as "revert").
net::awaitable<Response> handle_rollout_action(ApiContext& ctx, RequestContext& rc) {
    auto owned = co_await own_rollout(ctx, rc);
    if (!owned) {
        co_return fail(owned.error(), rc.request);
    }
    const std::string& name = rc.param("action");
    storage::RolloutAction action{};
    if (name == "pause") {
        action = storage::RolloutAction::pause;
    } else if (name == "resume") {
        action = storage::RolloutAction::resume;
    } else if (name == "confirm") {
        action = storage::RolloutAction::confirm;
    } else if (name == "cancel") {
        action = storage::RolloutAction::cancel;
    } else {
        co_return fail(not_found("rollout action (pause, resume, confirm, cancel)"), rc.request);
    }
    const std::int64_t id = owned->first.id;
    const std::int64_t now = now_unix_millis();
    auto change =
        co_await ctx.db.run([&](storage::Store& s) { return s.control_rollout(id, action, now); });
    if (change.status == storage::StoreStatus::not_found || !change.rollout) {
        co_return fail(not_found("rollout"), rc.request);
    }
    if (change.status == storage::StoreStatus::conflict) {
        std::string why = "a " + owned->first.state + " rollout cannot " + name;
        if (name == "confirm") {
            why += " (only a canary waiting for confirmation)";
        } else if (name == "cancel" && owned->first.reverts != 0) {
            why = "a revert cannot be cancelled (pause it, or publish the version you want)";
        }
        co_return fail({ApiErrc::conflict, std::move(why), {}}, rc.request);
    }
    if (ctx.on_rollout_started) {
        ctx.on_rollout_started();
    }
    json::object body = rollout_view(ctx, *change.rollout, owned->second.slug);
    if (change.revert) {
        body["revert"] = rollout_view(ctx, *change.revert, owned->second.slug);
    }
    co_return json_ok(http::status::ok, body, rc.request);
}

}  // namespace cardsmith::api
