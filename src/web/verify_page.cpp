// render_verify: the one-time-code step of POST /join/{slug} when the program verifies the
// phone or email (issue 4, item 2).
#include <string>

#include "web/html.hpp"
#include "web/i18n.hpp"
#include "web/page_layout.hpp"
#include "web/pages.hpp"

namespace cardsmith::web {

std::string render_verify(const VerifyPage& page) {
    const Lang lang = parse_lang(page.lang);
    const std::string title = page_title(lang, "verify.title", page.look);
    Html html;
    begin_page(html, {.lang = lang,
                      .title = title,
                      .body_class = "page-verify",
                      .look = &page.look,
                      .style_nonce = page.style_nonce,
                      .is_private = true});
    html.open("main", {{"class", "wrap"}});
    brand_header(html, page.look);
    html.open("div", {{"class", "panel"}});
    html.element("h2", {}, message(lang, "verify.title"));
    html.open("p", {{"class", "lead"}})
        .text_with(message(lang, "verify.sent"), "strong", page.destination_masked)
        .close("p");
    if (!page.notice.empty()) {
        html.element("p", {{"class", "notice notice-ok"}, {"role", "status"}}, page.notice);
    }
    // The code field is the only one: its own message is enough.
    error_summary(html, lang, page.errors, {"code"}, "");

    const std::string_view error_key = lookup(page.errors, "code");
    const bool has_error = !error_key.empty();
    html.open("form", {{"method", "post"}, {"action", page.action}});
    hidden(html, "csrf", page.csrf_token);
    hidden(html, "pending", page.pending_id);
    html.open("div", {{"class", has_error ? "field field-error" : "field"}});
    html.element("label", {{"for", "f-code"}}, message(lang, "verify.code"));
    html.leaf("input", {{"id", "f-code"},
                        {"name", "code"},
                        {"class", "code"},
                        {"type", "text"},
                        {"inputmode", "numeric"},
                        {"autocomplete", "one-time-code"},
                        {"pattern", "[0-9]{6}"},
                        {"minlength", "6"},
                        {"maxlength", "6"},
                        Attr::flag("required"),
                        Attr::flag("autofocus"),
                        Attr::if_set("aria-invalid", has_error ? "true" : ""),
                        Attr::if_set("aria-describedby", has_error ? "f-code-err" : "")});
    if (has_error) {
        html.element("p", {{"class", "err"}, {"id", "f-code-err"}}, error_message(lang, error_key));
    }
    html.close("div");
    html.element("button", {{"class", "btn btn-primary"}, {"type", "submit"}},
                 message(lang, "verify.submit"));
    // A second submit button: the handler tells it by name; formnovalidate lets it through
    // with the code field still empty.
    html.element("button",
                 {{"class", "btn btn-secondary"},
                  {"type", "submit"},
                  {"name", "resend"},
                  {"value", "1"},
                  Attr::flag("formnovalidate")},
                 message(lang, "verify.resend"));
    html.close("form").close("div").close("main");
    end_page(html);
    return std::move(html).finish();
}

}  // namespace cardsmith::web
