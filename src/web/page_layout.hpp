#pragma once
// What every enrollment page shares: the document head (charset, viewport, stylesheet, the
// program's colours), the program's brand header, form error summaries. Internal to the web
// module. Pure; thread-safe.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "web/html.hpp"
#include "web/i18n.hpp"
#include "web/pages.hpp"

namespace cardsmith::web {

struct PageHead {
    Lang lang = Lang::en;
    std::string_view title;
    std::string_view body_class;        // "page-join"...
    const ProgramLook* look = nullptr;  // null: default colours, no <style> element
    std::string_view style_nonce;
    bool is_private = false;  // secret URL: noindex and no Referer to other sites
};

// "<message of title_key> · <program name>" for <title>.
[[nodiscard]] std::string page_title(Lang lang, std::string_view title_key,
                                     const ProgramLook& look);
// "<!doctype html><html lang><head>...</head><body class>"; end_page closes both.
void begin_page(Html& html, const PageHead& head);
void end_page(Html& html);

// The program's header band: logo (alt = organisation), name as <h1>, description.
void brand_header(Html& html, const ProgramLook& look);
// The logo <img> with `css_class`, or nothing when the URL is empty or not safe.
void logo(Html& html, const ProgramLook& look, std::string_view css_class);

// "#RRGGBB" (either case).
[[nodiscard]] bool is_hex_color(std::string_view color);
// ":root{--brand-bg:…;--brand-fg:…;--brand-label:…}", a malformed colour replaced by Colors{}'s.
[[nodiscard]] std::string colors_css(const Colors& colors);
// Our SVG without a leading XML declaration or doctype, which have no place inside HTML.
[[nodiscard]] std::string_view inline_svg(std::string_view svg);

// The message for an error key: "error.<key>", or the key itself when the catalog lacks it.
[[nodiscard]] std::string error_message(Lang lang, std::string_view key);
// The role="alert" box at the top of a form: the message `summary_key` (if not empty) when a
// field in `fields` has an error, then every error of a field not in `fields`; nothing when
// that leaves nothing to say.
void error_summary(Html& html, Lang lang, const std::map<std::string, std::string>& errors,
                   const std::vector<std::string_view>& fields, std::string_view summary_key);
// The value for `key`, or "" when absent.
[[nodiscard]] std::string_view lookup(const std::map<std::string, std::string>& map,
                                      std::string_view key);
// A hidden input, or nothing when the value is empty.
void hidden(Html& html, std::string_view name, std::string_view value);

}  // namespace cardsmith::web
