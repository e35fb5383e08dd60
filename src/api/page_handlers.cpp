// Public pages and their assets (CONTRACT §3 "Public pages"): the card page
// (links.page), the enrollment link's QR codes, the stylesheet and program images.
#include "api/handlers.hpp"
#include "api/join_forms.hpp"
#include "api/page_views.hpp"
#include "api/request_helpers.hpp"
#include "api/views.hpp"
#include "common/log.hpp"
#include "common/random.hpp"
#include "common/time_format.hpp"
#include "domain/design.hpp"
#include "http/response.hpp"
#include "qr/qr.hpp"
#include "web/assets.hpp"
#include "web/pages.hpp"

namespace cardsmith::api {
namespace {

// ?size= in pixels for PNGs: 64-4096, default 512.
int requested_size(const RequestContext& rc) {
    int size = 512;
    if (auto it = rc.query.find("size"); it != rc.query.end()) {
        if (auto v = parse_int(it->second)) {
            size = static_cast<int>(
                std::clamp<std::int64_t>(*v, qr::kMinPngPixels, qr::kMaxPngPixels));
        }
    }
    return size;
}

// `src`: a short channel tag carried into the link (poster, till, email...).
std::optional<std::string> channel_tag(const RequestContext& rc) {
    auto it = rc.query.find("src");
    if (it == rc.query.end()) {
        return std::string();
    }
    return is_link_tag(it->second) ? std::optional(it->second) : std::nullopt;
}

}  // namespace

net::awaitable<Response> handle_stylesheet(ApiContext&, RequestContext& rc) {
    auto res =
        http_server::bytes_response(http::status::ok, std::string(web::kStylesheetContentType),
                                    std::string(web::stylesheet()), rc.request.version());
    // The pages link it with ?v=<hash of the text>: cache for good.
    res.set(http::field::cache_control, "public, max-age=31536000, immutable");
    co_return res;
}

// GET /images/{slug}/{file}: the program's design images (logo@2x.png...), for pages and
// Google Wallet.
net::awaitable<Response> handle_program_image(ApiContext& ctx, RequestContext& rc) {
    const std::string& file = rc.param("file");
    if (file.size() <= 4 || !file.ends_with(".png")) {
        co_return fail(not_found("image"), rc.request);
    }
    const std::string name = file.substr(0, file.size() - 4);
    const std::string& slug = rc.param("slug");
    // ?v=N names a published version (a card still on an older version, a Google class
    // image URL); anything else gets the current design's image.
    std::int64_t wanted = 0;
    if (auto v = rc.query.find("v"); v != rc.query.end()) {
        wanted = parse_int(v->second).value_or(0);
    }
    bool versioned = false;
    auto image = co_await ctx.db.run([&](storage::Store& s) {
        std::optional<std::string> out;
        if (auto p = s.find_program(slug)) {
            std::int64_t version = p->design_version;
            if (wanted > 0 && wanted != version) {
                auto d = s.find_design_version(p->id, wanted);
                // Version 1 is the program's first design (published when it was made).
                if (d && (d->published_at != 0 || d->version == 1)) {
                    version = wanted;
                }
            }
            versioned = wanted == version;
            auto images = s.design_images(p->id, version);
            if (auto it = images.find(name); it != images.end()) {
                out = std::move(it->second);
            }
        }
        return out;
    });
    if (!image) {
        co_return fail(not_found("image"), rc.request);
    }
    auto res = http_server::bytes_response(http::status::ok, "image/png", std::move(*image),
                                           rc.request.version());
    // A version's images never change: its URL may be cached for good.
    res.set(http::field::cache_control,
            versioned ? "public, max-age=31536000, immutable" : "public, max-age=300");
    co_return res;
}

// GET /join/{slug}/qr.svg and qr.png: the enrollment link, `?src=` carried into it.
net::awaitable<Response> handle_join_qr(ApiContext& ctx, RequestContext& rc, bool svg) {
    const std::string& slug = rc.param("slug");
    auto src = channel_tag(rc);
    if (!src) {
        co_return fail(invalid("src", "must be 1-32 of a-z, A-Z, 0-9, '-' and '_'"), rc.request);
    }
    auto program = co_await ctx.db.run([&](storage::Store& s) { return s.find_program(slug); });
    if (!program) {
        co_return fail(not_found("program"), rc.request);
    }
    std::string url = ctx.public_url + "/join/" + program->slug;
    if (!src->empty()) {
        url += "?src=" + *src;
    }
    const auto matrix = qr::encode(url);
    Response res;
    if (svg) {
        res = http_server::bytes_response(http::status::ok, "image/svg+xml", qr::to_svg(matrix, 0),
                                          rc.request.version());
    } else {
        res = http_server::bytes_response(http::status::ok, "image/png",
                                          qr::to_png(matrix, requested_size(rc)),
                                          rc.request.version());
    }
    res.set(http::field::cache_control, "public, max-age=3600");
    co_return res;
}

// GET /join/{slug}/poster: a printable A4 (or ?paper=a5) poster with the join QR code.
net::awaitable<Response> handle_join_poster(ApiContext& ctx, RequestContext& rc) {
    const std::string& slug = rc.param("slug");
    auto src = channel_tag(rc);
    if (!src) {
        co_return fail(invalid("src", "must be 1-32 of a-z, A-Z, 0-9, '-' and '_'"), rc.request);
    }
    auto program = co_await ctx.db.run([&](storage::Store& s) { return s.find_program(slug); });
    if (!program) {
        co_return error_page(http::status::not_found, "en", "program_not_found",
                             rc.request.version());
    }
    web::PosterPage page;
    page.lang = page_lang(*program);
    page.look = program_look(ctx, *program);
    page.style_nonce = random::base64url(16);
    page.join_url = ctx.public_url + "/join/" + program->slug;
    // The poster's own channel unless the link names another.
    page.join_url += "?src=" + (src->empty() ? std::string("poster") : *src);
    page.qr_svg = qr::to_svg(qr::encode(page.join_url), 0);
    if (auto it = rc.query.find("paper"); it != rc.query.end() && it->second == "a5") {
        page.paper = web::PaperSize::a5;
    }
    co_return html_page(http::status::ok, web::render_poster(page), page.style_nonce,
                        rc.request.version());
}

// GET /c/{serial} (links.page): the card drawn like the pass, with the wallet buttons.
net::awaitable<Response> handle_card_page(ApiContext& ctx, RequestContext& rc) {
    const SerialNumber serial(rc.param("serial"));
    auto found = co_await ctx.db.run([&](storage::Store& s) { return s.find_pass(serial); });
    if (!found) {
        co_return error_page(http::status::not_found, "en", "card_not_found", rc.request.version());
    }
    const auto& [card, program] = *found;
    web::CardPage page;
    page.lang = page_lang(program);
    page.look = program_look(ctx, program);
    page.style_nonce = random::base64url(16);
    page.holder_name = card.holder.name;
    page.card_number = card.number.value();
    page.tier = domain::tier_for(program.design.tiers, card.lifetime_points);
    page.offer = card.offer.empty() ? program.design.default_offer : card.offer;
    page.balance = card.balance;
    page.qr_svg = qr::to_svg(qr::encode(card.number.value()), 0);
    page.pkpass_url = ctx.public_url + "/p/" + card.serial.value() + ".pkpass";
    page.google_save_url = google_save_url(ctx, card).value_or("");
    page.platform = web::platform_from_user_agent(rc.request[http::field::user_agent]);
    if (program.enrollment.referrals_on() && !card.referral_code.empty()) {
        page.invite_url = ctx.public_url + "/join/" + program.slug + "?ref=" + card.referral_code;
    }
    if (auto w = rc.query.find("welcome"); w != rc.query.end() && w->second == "back") {
        page.restored = true;
    }
    auto res =
        html_page(http::status::ok, web::render_card(page), page.style_nonce, rc.request.version());
    // The page's URL is the holder's secret: no shared caches, not indexed.
    res.set(http::field::cache_control, "private, no-cache");
    res.set("X-Robots-Tag", "noindex");
    co_return res;
}

// GET /g/{serial} (links.googleSave): makes sure the card's object (and its program's
// class) exist at Google, then sends the browser to a freshly signed save link, so links
// in e-mails never go stale and stay short (google-wallet.md §7).
net::awaitable<Response> handle_google_save(ApiContext& ctx, RequestContext& rc) {
    const SerialNumber serial(rc.param("serial"));
    auto found = co_await ctx.db.run([&](storage::Store& s) { return s.find_pass(serial); });
    if (!found || ctx.google == nullptr) {
        co_return error_page(http::status::not_found, "en", "card_not_found", rc.request.version());
    }
    const auto& [card, program] = *found;
    auto outcome = co_await ctx.google->async_ensure_object(program, card);
    if (!outcome.ok()) {
        log::warn("google save link: object not made", {{"program", program.slug},
                                                        {"status", std::to_string(outcome.status)},
                                                        {"error", outcome.message}});
        ctx.metrics.counter_add("cardsmith_google_save_links_total",
                                "Google Wallet save links by outcome", {{"outcome", "failed"}});
        auto res = error_page(http::status::service_unavailable, page_lang(program), "unavailable",
                              rc.request.version());
        res.set(http::field::retry_after, "30");
        co_return res;
    }
    const CardId id = card.id;
    const std::int64_t now = now_unix_millis();
    (void)co_await ctx.db.run([&](storage::Store& s) { return s.mark_google_saved(id, now); });
    ctx.metrics.counter_add("cardsmith_google_save_links_total",
                            "Google Wallet save links by outcome", {{"outcome", "redirected"}});
    Response res{http::status::found, rc.request.version()};
    res.set(http::field::location, ctx.google->save_url(program, card));
    res.set(http::field::cache_control, "no-store");
    co_return res;
}

}  // namespace cardsmith::api
