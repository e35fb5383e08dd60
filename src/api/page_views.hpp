#pragma once
// What the public pages share: the program's look for the web renderers and the HTML
// response with its Content-Security-Policy (no script at all, the page's <style> by
// nonce, forms to this server only, never framed). nosniff, Referrer-Policy and HSTS are
// the server's, on every response (http/security_headers.hpp).
#include <string>
#include <string_view>

#include "api/api_context.hpp"
#include "http/types.hpp"
#include "web/pages.hpp"

namespace cardsmith::api {

// A tag carried in public links (`src` channel, `ref` referral code): 1-32 of
// A-Z, a-z, 0-9, '-' and '_'.
[[nodiscard]] bool is_link_tag(std::string_view tag);

[[nodiscard]] web::ProgramLook program_look(const ApiContext& ctx, const domain::Program& p);

[[nodiscard]] http_server::Response html_page(http::status status, std::string body,
                                              const std::string& style_nonce, unsigned version);

// An error page (404 "program_not_found"...) in `lang`.
[[nodiscard]] http_server::Response error_page(http::status status, std::string_view lang,
                                               std::string_view message_key, unsigned version);

}  // namespace cardsmith::api
