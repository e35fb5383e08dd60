#include "api/page_views.hpp"

#include <algorithm>

#include "common/random.hpp"
#include "http/response.hpp"

namespace cardsmith::api {

bool is_link_tag(std::string_view tag) {
    return !tag.empty() && tag.size() <= 32 && std::all_of(tag.begin(), tag.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
    });
}

web::ProgramLook program_look(const ApiContext& ctx, const domain::Program& p) {
    web::ProgramLook look;
    look.name = p.name;
    look.description = p.design.description;
    look.organization = p.design.organization_name;
    look.colors = {p.design.background.hex(), p.design.foreground.hex(), p.design.label.hex()};
    look.logo_url =
        ctx.public_url + "/images/" + p.slug + "/logo@2x.png?v=" + std::to_string(p.design_version);
    return look;
}

http_server::Response html_page(http::status status, std::string body,
                                const std::string& style_nonce, unsigned version) {
    auto res =
        http_server::bytes_response(status, "text/html; charset=utf-8", std::move(body), version);
    res.set("Content-Security-Policy", "default-src 'none'; style-src 'self' 'nonce-" +
                                           style_nonce +
                                           "'; img-src 'self' data:; form-action 'self'; "
                                           "base-uri 'none'; frame-ancestors 'none'");
    return res;
}

http_server::Response error_page(http::status status, std::string_view lang,
                                 std::string_view message_key, unsigned version) {
    return html_page(status, web::render_error_page(lang, static_cast<int>(status), message_key),
                     random::base64url(16), version);
}

}  // namespace cardsmith::api
