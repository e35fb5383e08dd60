// render_poster: the printable poster of /join/{slug}/poster (issue 4, item 4). One A4 or A5
// sheet (CSS Paged Media: @page size, named pages); on screen, a preview scaled to the window.
#include <array>
#include <string>

#include "web/html.hpp"
#include "web/i18n.hpp"
#include "web/page_layout.hpp"
#include "web/pages.hpp"

namespace cardsmith::web {
namespace {

struct Step {
    std::string_view number, title_key, hint_key;
};
constexpr std::array kSteps{
    Step{"1", "poster.scan", "poster.scan_hint"},
    Step{"2", "poster.form", "poster.form_hint"},
    Step{"3", "poster.wallet", "poster.wallet_hint"},
};

}  // namespace

std::string render_poster(const PosterPage& page) {
    const Lang lang = parse_lang(page.lang);
    const std::string title = page_title(lang, "poster.title", page.look);
    Html html;
    begin_page(html, {.lang = lang,
                      .title = title,
                      .body_class = "page-poster",
                      .look = &page.look,
                      .style_nonce = page.style_nonce,
                      .is_private = false});
    html.open("main", {{"class", page.paper == PaperSize::a5 ? "poster poster-a5" : "poster"}});
    html.open("div", {{"class", "poster-band"}});
    logo(html, page.look, "poster-logo");
    html.element("h1", {{"class", "poster-name"}}, page.look.name);
    html.element("p", {{"class", "poster-title"}}, message(lang, "poster.title"));
    html.close("div");
    if (!page.qr_svg.empty()) {
        html.open("div", {{"class", "poster-qr qr"},
                          {"role", "img"},
                          {"aria-label", message(lang, "poster.qr")}})
            .raw(inline_svg(page.qr_svg))
            .close("div");
    }
    html.open("ol", {{"class", "steps"}});
    for (const Step& step : kSteps) {
        html.open("li", {{"class", "step"}});
        html.element("span", {{"class", "step-n"}, {"aria-hidden", "true"}}, step.number);
        html.element("strong", {}, message(lang, step.title_key));
        html.element("span", {{"class", "step-hint"}}, message(lang, step.hint_key));
        html.close("li");
    }
    html.close("ol");
    html.open("p", {{"class", "poster-url"}})
        .text(message(lang, "poster.or_open"))
        .text(" ")
        .element("strong", {}, page.join_url)
        .close("p");
    html.close("main");
    html.element("p", {{"class", "screen-only"}}, message(lang, "poster.print_hint"));
    end_page(html);
    return std::move(html).finish();
}

}  // namespace cardsmith::web
