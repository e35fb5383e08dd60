// render_card: the customer's card page, links.page (issue 4, item 3), drawn like the front of
// a Wallet store card, with the wallet buttons ordered for the visitor's platform.
#include <string>

#include "web/html.hpp"
#include "web/i18n.hpp"
#include "web/page_layout.hpp"
#include "web/pages.hpp"

namespace cardsmith::web {
namespace {

// Our own line drawings (not Apple's or Google's artwork); currentColor follows the button.
constexpr std::string_view kWalletGlyph =
    R"(<svg class="wallet-glyph" viewBox="0 0 32 26" aria-hidden="true" )"
    R"(fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round">)"
    R"(<path d="M6 6V4.5A2.5 2.5 0 0 1 8.5 2h15A2.5 2.5 0 0 1 26 4.5V6"/>)"
    R"(<rect x="2" y="6" width="28" height="18" rx="4"/>)"
    R"(<path d="M30 12h-7a3 3 0 0 0 0 6h7"/><circle cx="23.5" cy="15" r="1.2" )"
    R"(fill="currentColor" stroke="none"/></svg>)";
constexpr std::string_view kCardGlyph =
    R"(<svg class="wallet-glyph" viewBox="0 0 32 26" aria-hidden="true" )"
    R"(fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round">)"
    R"(<rect x="2" y="4" width="28" height="18" rx="3.5"/><path d="M2 10h28"/>)"
    R"(<path d="M7 16h7" stroke-linecap="round"/></svg>)";
constexpr std::string_view kFileGlyph =
    R"(<svg class="wallet-glyph" viewBox="0 0 32 26" aria-hidden="true" )"
    R"(fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" )"
    R"(stroke-linejoin="round"><path d="M16 3v13m-5-5 5 5 5-5M7 20v3h18v-3"/></svg>)";

// "5204187394055128" → "5204 1873 9405 5128".
std::string group_by_four(std::string_view number) {
    std::string out;
    std::size_t n = 0;
    for (char c : number) {
        if (c == ' ') {
            continue;
        }
        if (n > 0 && n % 4 == 0) {
            out += ' ';
        }
        out += c;
        ++n;
    }
    return out;
}

void pass_field(Html& html, std::string_view label, std::string_view value) {
    if (value.empty()) {
        return;
    }
    html.open("div", {{"class", "pass-field"}});
    html.element("span", {{"class", "pass-label"}}, label);
    html.element("span", {{"class", "pass-value"}}, value);
    html.close("div");
}

void pass(Html& html, const CardPage& page, Lang lang) {
    html.open("section", {{"class", "pass"}, {"aria-label", message(lang, "card.aria")}});
    html.open("div", {{"class", "pass-head"}});
    logo(html, page.look, "pass-logo");
    html.element("h1", {{"class", "pass-name"}}, page.look.name);
    html.close("div");

    html.open("div", {{"class", "pass-balance"}});
    html.element("span", {{"class", "pass-label"}}, message(lang, "card.balance"));
    html.element("span", {{"class", "pass-points"}}, format_number(lang, page.balance));
    html.element("span", {{"class", "pass-unit"}}, plural_message(lang, "points", page.balance));
    html.close("div");

    if (!page.tier.empty() || !page.holder_name.empty()) {
        html.open("div", {{"class", "pass-fields"}});
        pass_field(html, message(lang, "card.tier"), page.tier);
        pass_field(html, message(lang, "card.holder"), page.holder_name);
        html.close("div");
    }
    if (!page.offer.empty()) {
        html.open("div", {{"class", "pass-offer"}});
        pass_field(html, message(lang, "card.offer"), page.offer);
        html.close("div");
    }

    html.open("div", {{"class", "pass-qr"}});
    if (!page.qr_svg.empty()) {
        html.open("div",
                  {{"class", "qr"}, {"role", "img"}, {"aria-label", message(lang, "card.qr")}})
            .raw(inline_svg(page.qr_svg))
            .close("div");
    }
    html.element("span", {{"class", "pass-number"}, {"title", message(lang, "card.number")}},
                 group_by_four(page.card_number));
    html.close("div");
    html.close("section");
}

void apple_button(Html& html, const CardPage& page, Lang lang) {
    if (!is_safe_url(page.pkpass_url)) {
        return;
    }
    html.open("a", {{"class", "btn btn-apple"}, {"href", page.pkpass_url}}).raw(kWalletGlyph);
    html.open("span", {{"class", "btn-lines"}});
    html.element("span", {{"class", "btn-small"}}, message(lang, "card.apple_small"));
    html.text(" ");  // the accessible name reads "Add to Apple Wallet"
    html.element("span", {{"class", "btn-big"}}, message(lang, "card.apple_big"));
    html.close("span").close("a");
}

void google_button(Html& html, const CardPage& page, Lang lang) {
    if (!is_safe_url(page.google_save_url)) {
        return;
    }
    html.open("a", {{"class", "btn btn-google"}, {"href", page.google_save_url}})
        .raw(kCardGlyph)
        .element("span", {}, message(lang, "card.google"))
        .close("a");
}

// Android: the .pkpass for wallet apps other than Google's, under its own name.
void file_button(Html& html, const CardPage& page, Lang lang) {
    if (!is_safe_url(page.pkpass_url)) {
        return;
    }
    html.open("a", {{"class", "btn btn-file"}, {"href", page.pkpass_url}})
        .raw(kFileGlyph)
        .element("span", {}, message(lang, "card.pkpass_file"))
        .close("a");
    html.element("p", {{"class", "fine"}}, message(lang, "card.android_hint"));
}

void wallet_buttons(Html& html, const CardPage& page, Lang lang) {
    html.open("div", {{"class", "wallet"}});
    switch (page.platform) {
        case Platform::android:
            google_button(html, page, lang);
            file_button(html, page, lang);
            break;
        case Platform::ios:
        case Platform::other:
            apple_button(html, page, lang);
            google_button(html, page, lang);
            break;
    }
    html.close("div");
}

}  // namespace

std::string render_card(const CardPage& page) {
    const Lang lang = parse_lang(page.lang);
    const std::string title = page_title(lang, "card.title", page.look);
    Html html;
    begin_page(html, {.lang = lang,
                      .title = title,
                      .body_class = "page-card",
                      .look = &page.look,
                      .style_nonce = page.style_nonce,
                      .is_private = true});
    html.open("main", {{"class", "wrap"}});
    if (page.restored) {
        html.element("p", {{"class", "notice notice-ok"}, {"role", "status"}},
                     message(lang, "card.restored"));
    }
    pass(html, page, lang);
    html.element("p", {{"class", "till"}}, message(lang, "card.show_at_till"));
    wallet_buttons(html, page, lang);
    if (is_safe_url(page.invite_url)) {
        html.open("section", {{"class", "invite"}});
        html.element("h2", {}, message(lang, "card.invite_title"));
        html.element("p", {}, message(lang, "card.invite_text"));
        html.element("a", {{"class", "invite-link"}, {"href", page.invite_url}}, page.invite_url);
        html.close("section");
    }
    html.element("p", {{"class", "private"}}, message(lang, "card.keep_private"));
    html.close("main");
    end_page(html);
    return std::move(html).finish();
}

}  // namespace cardsmith::web
