// Enrollment by link or QR code: GET /join/{slug} (the form) and POST /join/{slug} (the
// card), CONTRACT §3 "Public pages". The form works without JavaScript; a double-submit
// cookie with an HMAC token protects it from cross-site posts.
#include <unordered_map>

#include "api/card_issuer.hpp"
#include "api/handlers.hpp"
#include "api/page_views.hpp"
#include "api/request_helpers.hpp"
#include "common/log.hpp"
#include "common/random.hpp"
#include "crypto/hash.hpp"
#include "domain/holder.hpp"
#include "http/query.hpp"
#include "http/response.hpp"
#include "web/pages.hpp"

namespace cardsmith::api {
namespace {

constexpr std::string_view kCookie = "cs_join";

std::string cookie_value(const http_server::Request& request, std::string_view name) {
    std::string_view header = request[http::field::cookie];
    while (!header.empty()) {
        auto end = header.find(';');
        auto part = header.substr(0, end);
        while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
        if (part.size() > name.size() && part.substr(0, name.size()) == name &&
            part[name.size()] == '=') {
            return std::string(part.substr(name.size() + 1));
        }
        if (end == std::string_view::npos) break;
        header.remove_prefix(end + 1);
    }
    return {};
}

bool plausible_nonce(std::string_view v) {
    return v.size() == 22 && std::all_of(v.begin(), v.end(), [](char c) {
               return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
           });
}

std::string csrf_token(const ApiContext& ctx, std::string_view nonce, std::string_view slug) {
    static const std::string kNoKey = random::hex(32);  // without a server key: per process
    const std::string key = ctx.secrets != nullptr ? ctx.secrets->derive("csrf") : kNoKey;
    return crypto::hmac_sha256_hex(key, std::string(nonce) + "|" + std::string(slug));
}

// Channel tag (poster, till...) and referral code carried through the form.
std::string clean_tag(const http_server::Params& m, const char* key) {
    auto it = m.find(key);
    return it != m.end() && is_link_tag(it->second) ? it->second : std::string();
}

struct FormState {
    std::map<std::string, std::string> values;
    std::map<std::string, std::string> errors;
    std::string src, ref;
};

// The join page with a fresh or kept cookie nonce; sets the cookie on the response.
Response join_page(const ApiContext& ctx, const RequestContext& rc, const domain::Program& p,
                   http::status status, const FormState& state) {
    std::string nonce = cookie_value(rc.request, kCookie);
    if (!plausible_nonce(nonce)) {
        nonce = random::base64url(16);
    }
    web::JoinPage page;
    page.lang = p.enrollment.language.empty() ? p.design.locale : p.enrollment.language;
    const auto mode = [](domain::FieldMode m) {
        return m == domain::FieldMode::off        ? web::FieldMode::off
               : m == domain::FieldMode::optional ? web::FieldMode::optional
                                                  : web::FieldMode::required;
    };
    page.form.name = mode(p.enrollment.name);
    page.form.phone = mode(p.enrollment.phone);
    page.form.email = mode(p.enrollment.email);
    page.form.birthday = mode(p.enrollment.birthday);
    page.form.terms_url = p.enrollment.terms_url;
    page.look = program_look(ctx, p);
    page.action = "/join/" + p.slug;
    page.csrf_token = csrf_token(ctx, nonce, p.slug);
    page.style_nonce = random::base64url(16);
    page.values = state.values;
    page.errors = state.errors;
    page.src = state.src;
    page.ref = state.ref;
    auto res = html_page(status, web::render_join(page), page.style_nonce, rc.request.version());
    res.set(http::field::cache_control, "no-store");
    const bool https = ctx.public_url.rfind("https://", 0) == 0;
    res.set(http::field::set_cookie, std::string(kCookie) + "=" + nonce +
                                         "; Path=/join; HttpOnly; SameSite=Lax; Max-Age=86400" +
                                         (https ? "; Secure" : ""));
    return res;
}

Response not_found_page(const RequestContext& rc) {
    return error_page(http::status::not_found, "en", "program_not_found", rc.request.version());
}

}  // namespace

net::awaitable<Response> handle_join_page(ApiContext& ctx, RequestContext& rc) {
    const std::string& slug = rc.param("slug");
    auto program = co_await ctx.db.run([&](storage::Store& s) { return s.find_program(slug); });
    if (!program) {
        co_return not_found_page(rc);
    }
    FormState state;
    state.src = clean_tag(rc.query, "src");
    state.ref = clean_tag(rc.query, "ref");
    co_return join_page(ctx, rc, *program, http::status::ok, state);
}

net::awaitable<Response> handle_join_submit(ApiContext& ctx, RequestContext& rc) {
    const std::string& slug = rc.param("slug");
    auto program = co_await ctx.db.run([&](storage::Store& s) { return s.find_program(slug); });
    if (!program) {
        co_return not_found_page(rc);
    }
    std::string_view type = rc.request[http::field::content_type];
    if (type.substr(0, type.find(';')) != "application/x-www-form-urlencoded") {
        co_return fail({ApiErrc::unsupported_media_type,
                        "send the form as application/x-www-form-urlencoded",
                        {}},
                       rc.request);
    }
    auto form = http_server::parse_form(rc.request.body());
    FormState state;
    state.src = clean_tag(form, "src");
    state.ref = clean_tag(form, "ref");
    for (const char* field : {"name", "phone", "email", "birthday", "consent"}) {
        if (auto it = form.find(field); it != form.end()) {
            state.values[field] = it->second.substr(0, 300);
        }
    }
    // The token must be the HMAC of this browser's cookie: another site cannot read it.
    const std::string nonce = cookie_value(rc.request, kCookie);
    const auto token = form.find("csrf");
    if (!plausible_nonce(nonce) || token == form.end() ||
        !crypto::constant_time_equal(token->second, csrf_token(ctx, nonce, program->slug))) {
        state.errors["form"] = "session_expired";
        co_return join_page(ctx, rc, *program, http::status::forbidden, state);
    }
    domain::Holder holder;
    std::string birthday;
    const auto& rules = program->enrollment;
    // A field the form does not show is ignored; a required one must be there.
    const auto take = [&](const char* field, domain::FieldMode m) -> std::string {
        if (m == domain::FieldMode::off) {
            return {};
        }
        const std::string value = state.values[field];
        if (value.empty() && m == domain::FieldMode::required) {
            state.errors[field] = "required";
        }
        return value;
    };
    if (auto name = take("name", rules.name); !name.empty()) {
        if (auto normal = domain::normalize_name(name)) {
            holder.name = *normal;
        } else {
            state.errors["name"] = "invalid_name";
        }
    }
    if (auto phone = take("phone", rules.phone); !phone.empty()) {
        if (auto normal = domain::normalize_phone(phone)) {
            holder.phone = *normal;
        } else {
            state.errors["phone"] = "invalid_phone";
        }
    }
    if (auto email = take("email", rules.email); !email.empty()) {
        if (auto normal = domain::normalize_email(email)) {
            holder.email = *normal;
        } else {
            state.errors["email"] = "invalid_email";
        }
    }
    if (auto day = take("birthday", rules.birthday); !day.empty()) {
        const auto now = std::chrono::system_clock::now();
        const int year = static_cast<int>(
            std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(now)).year());
        if (domain::is_valid_birthday(day, year)) {
            birthday = day;
        } else {
            state.errors["birthday"] = "invalid_birthday";
        }
    }
    if (state.values["consent"] != "on") {
        state.errors["consent"] = "consent_required";
    }
    if (!state.errors.empty()) {
        co_return join_page(ctx, rc, *program, http::status::unprocessable_entity, state);
    }
    // Named, not a temporary in the co_await (GCC 12 destroys such temporaries twice); it
    // outlives the call, which takes a view.
    const std::string source = state.src.empty() ? "join" : state.src;
    auto card = co_await async_issue_card(ctx, *program, std::move(holder), 0, source, birthday);
    if (!card) {
        co_return fail(card.error(), rc.request);
    }
    log::info("card enrolled",
              {{"program", program->slug}, {"src", state.src.empty() ? "direct" : state.src}});
    // No `src` label: tags come from links anyone can make, labels must stay few.
    ctx.metrics.counter_add("cardsmith_enrollments_total", "Cards issued through /join", {});
    Response res{http::status::see_other, rc.request.version()};
    res.set(http::field::location, "/c/" + card->serial.value());
    res.set(http::field::cache_control, "no-store");
    co_return res;
}

}  // namespace cardsmith::api
