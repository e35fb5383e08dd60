#include "web/page_layout.hpp"

#include <algorithm>

#include "web/assets.hpp"

namespace cardsmith::web {

bool is_hex_color(std::string_view color) {
    return color.size() == 7 && color[0] == '#' &&
           std::all_of(color.begin() + 1, color.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
           });
}

std::string colors_css(const Colors& colors) {
    const Colors defaults;
    // The text goes into a <style> element, where HTML escaping does not apply: only
    // well-formed colours get in.
    auto pick = [](const std::string& value, const std::string& fallback) -> const std::string& {
        return is_hex_color(value) ? value : fallback;
    };
    return ":root{--brand-bg:" + pick(colors.background, defaults.background) +
           ";--brand-fg:" + pick(colors.foreground, defaults.foreground) +
           ";--brand-label:" + pick(colors.label, defaults.label) + "}";
}

std::string_view inline_svg(std::string_view svg) {
    const auto start = svg.find("<svg");
    return start == std::string_view::npos ? svg : svg.substr(start);
}

std::string page_title(Lang lang, std::string_view title_key, const ProgramLook& look) {
    std::string title{message(lang, title_key)};
    if (!look.name.empty()) {
        title += " · ";
        title += look.name;
    }
    return title;
}

void begin_page(Html& html, const PageHead& head) {
    html.raw("<!doctype html>\n");
    html.open("html", {{"lang", lang_code(head.lang)}});
    html.open("head");
    html.leaf("meta", {{"charset", "utf-8"}});
    html.leaf("meta", {{"name", "viewport"}, {"content", "width=device-width, initial-scale=1"}});
    if (head.is_private) {
        html.leaf("meta", {{"name", "robots"}, {"content", "noindex, nofollow"}});
        html.leaf("meta", {{"name", "referrer"}, {"content", "no-referrer"}});
    }
    html.element("title", {}, head.title);
    html.leaf("link", {{"rel", "stylesheet"}, {"href", stylesheet_url()}});
    if (head.look != nullptr) {
        const std::string& bg = head.look->colors.background;
        html.leaf("meta",
                  {{"name", "theme-color"}, {"content", is_hex_color(bg) ? bg : "#ffffff"}});
        html.open("style", {Attr::if_set("nonce", head.style_nonce)})
            .raw(colors_css(head.look->colors))
            .close("style");
    }
    html.close("head");
    html.open("body", {{"class", head.body_class}});
}

void end_page(Html& html) { html.close("body").close("html").raw("\n"); }

void logo(Html& html, const ProgramLook& look, std::string_view css_class) {
    if (!is_safe_url(look.logo_url)) {
        return;
    }
    const std::string& alt = look.organization.empty() ? look.name : look.organization;
    html.leaf("img", {{"class", css_class}, {"src", look.logo_url}, {"alt", alt}});
}

void brand_header(Html& html, const ProgramLook& look) {
    html.open("header", {{"class", "brand"}});
    logo(html, look, "brand-logo");
    html.element("h1", {}, look.name);
    if (!look.description.empty()) {
        html.element("p", {{"class", "brand-desc"}}, look.description);
    }
    html.close("header");
}

std::string error_message(Lang lang, std::string_view key) {
    const std::string full = "error." + std::string{key};
    return std::string{find_message(lang, full).value_or(key)};
}

void error_summary(Html& html, Lang lang, const std::map<std::string, std::string>& errors,
                   const std::vector<std::string_view>& fields, std::string_view summary_key) {
    auto is_field = [&](const std::string& name) {
        return std::find(fields.begin(), fields.end(), name) != fields.end();
    };
    const bool any_field =
        std::any_of(errors.begin(), errors.end(), [&](const auto& e) { return is_field(e.first); });
    const bool any_other = std::any_of(errors.begin(), errors.end(),
                                       [&](const auto& e) { return !is_field(e.first); });
    if (!any_other && (!any_field || summary_key.empty())) {
        return;
    }
    html.open("div", {{"class", "alert"}, {"role", "alert"}});
    if (any_field && !summary_key.empty()) {
        html.element("p", {}, message(lang, summary_key));
    }
    for (const auto& [field, key] : errors) {
        if (!is_field(field)) {
            html.element("p", {}, error_message(lang, key));
        }
    }
    html.close("div");
}

std::string_view lookup(const std::map<std::string, std::string>& map, std::string_view key) {
    const auto it = map.find(std::string{key});
    return it == map.end() ? std::string_view{} : std::string_view{it->second};
}

void hidden(Html& html, std::string_view name, std::string_view value) {
    if (!value.empty()) {
        html.leaf("input", {{"type", "hidden"}, {"name", name}, {"value", value}});
    }
}

}  // namespace cardsmith::web
