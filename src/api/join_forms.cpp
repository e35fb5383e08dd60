#include "api/join_forms.hpp"

#include <boost/json.hpp>

#include "api/page_views.hpp"
#include "common/random.hpp"
#include "crypto/hash.hpp"
#include "enroll/codes.hpp"
#include "http/response.hpp"
#include "web/pages.hpp"

namespace cardsmith::api {
namespace json = boost::json;
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

// The browser's nonce, or a new one (then set as the cookie by with_cookie).
std::string nonce_of(const http_server::RequestContext& rc) {
    std::string nonce = cookie_value(rc.request, kCookie);
    return plausible_nonce(nonce) ? nonce : random::base64url(16);
}

http_server::Response with_cookie(http_server::Response res, const ApiContext& ctx,
                                  const std::string& nonce) {
    res.set(http::field::cache_control, "no-store");
    const bool https = ctx.public_url.rfind("https://", 0) == 0;
    res.set(http::field::set_cookie, std::string(kCookie) + "=" + nonce +
                                         "; Path=/join; HttpOnly; SameSite=Lax; Max-Age=86400" +
                                         (https ? "; Secure" : ""));
    return res;
}

web::FieldMode web_mode(domain::FieldMode m) {
    return m == domain::FieldMode::off        ? web::FieldMode::off
           : m == domain::FieldMode::optional ? web::FieldMode::optional
                                              : web::FieldMode::required;
}

}  // namespace

std::string applicant_to_json(const Applicant& a) {
    return json::serialize(json::object{{"name", a.holder.name},
                                        {"phone", a.holder.phone},
                                        {"email", a.holder.email},
                                        {"birthday", a.birthday},
                                        {"src", a.src},
                                        {"ref", a.ref}});
}

std::optional<Applicant> applicant_from_json(std::string_view text) {
    error_code ec;
    auto v = json::parse(text, ec);
    if (ec || !v.is_object()) {
        return std::nullopt;
    }
    const auto& o = v.as_object();
    const auto get = [&](std::string_view key) {
        const auto* s = o.if_contains(key);
        return s != nullptr && s->is_string() ? std::string(s->as_string()) : std::string();
    };
    Applicant a;
    a.holder = {get("name"), get("phone"), get("email")};
    a.birthday = get("birthday");
    a.src = get("src");
    a.ref = get("ref");
    return a;
}

std::string page_lang(const domain::Program& p) {
    return p.enrollment.language.empty() ? p.design.locale : p.enrollment.language;
}

std::string link_tag(const http_server::Params& m, const char* key) {
    auto it = m.find(key);
    return it != m.end() && is_link_tag(it->second) ? it->second : std::string();
}

bool csrf_ok(const ApiContext& ctx, const http_server::RequestContext& rc,
             const http_server::Params& form, std::string_view slug) {
    // Another site can make the browser post, but cannot read the cookie to make the token.
    const std::string nonce = cookie_value(rc.request, kCookie);
    const auto token = form.find("csrf");
    if (!plausible_nonce(nonce) || token == form.end()) {
        return false;
    }
    if (ctx.secrets == nullptr) {
        return crypto::constant_time_equal(token->second, csrf_token(ctx, nonce, slug));
    }
    // A form opened before a server key rotation still posts: every key's token is tried.
    bool ok = false;
    for (const auto& key : ctx.secrets->derive_all("csrf")) {
        const auto expected =
            crypto::hmac_sha256_hex(key, std::string(nonce) + "|" + std::string(slug));
        ok = crypto::constant_time_equal(token->second, expected) || ok;
    }
    return ok;
}

http_server::Response join_page(const ApiContext& ctx, const http_server::RequestContext& rc,
                                const domain::Program& p, http::status status,
                                const FormState& state) {
    const std::string nonce = nonce_of(rc);
    web::JoinPage page;
    page.lang = page_lang(p);
    page.form.name = web_mode(p.enrollment.name);
    page.form.phone = web_mode(p.enrollment.phone);
    page.form.email = web_mode(p.enrollment.email);
    page.form.birthday = web_mode(p.enrollment.birthday);
    page.form.terms_url = p.enrollment.terms_url;
    page.look = program_look(ctx, p);
    page.action = "/join/" + p.slug;
    page.csrf_token = csrf_token(ctx, nonce, p.slug);
    page.style_nonce = random::base64url(16);
    page.values = state.values;
    page.errors = state.errors;
    page.src = state.src;
    page.ref = state.ref;
    return with_cookie(
        html_page(status, web::render_join(page), page.style_nonce, rc.request.version()), ctx,
        nonce);
}

http_server::Response verify_page(const ApiContext& ctx, const http_server::RequestContext& rc,
                                  const domain::Program& p, http::status status,
                                  const CodeStep& step) {
    const std::string nonce = nonce_of(rc);
    web::VerifyPage page;
    page.lang = page_lang(p);
    page.look = program_look(ctx, p);
    page.action = "/join/" + p.slug + "/verify";
    page.csrf_token = csrf_token(ctx, nonce, p.slug);
    page.style_nonce = random::base64url(16);
    page.destination_masked = enroll::mask_destination(step.destination);
    page.errors = step.errors;
    page.pending_id = step.pending_id;
    if (!step.notice_key.empty()) {
        page.notice = std::string(web::message(web::parse_lang(page.lang), step.notice_key));
    }
    return with_cookie(
        html_page(status, web::render_verify(page), page.style_nonce, rc.request.version()), ctx,
        nonce);
}

std::string client_address(const ApiContext& ctx, const http_server::RequestContext& rc) {
    if (ctx.trust_forwarded_for) {
        std::string_view xff = rc.request["X-Forwarded-For"];
        // The proxy appends the address it saw: the last entry is the one it vouches for.
        if (auto comma = xff.rfind(','); comma != std::string_view::npos) {
            xff.remove_prefix(comma + 1);
        }
        while (!xff.empty() && xff.front() == ' ') xff.remove_prefix(1);
        while (!xff.empty() && xff.back() == ' ') xff.remove_suffix(1);
        if (!xff.empty() && xff.size() <= 64) {
            return std::string(xff);
        }
    }
    return rc.remote.address().to_string();
}

}  // namespace cardsmith::api
