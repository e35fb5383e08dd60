// What the page renderers share beyond the layout: the error page and platform detection.
#include "web/pages.hpp"

#include <algorithm>
#include <cctype>
#include <string>

#include "web/html.hpp"
#include "web/page_layout.hpp"

namespace cardsmith::web {
namespace {

bool contains(std::string_view haystack, std::string_view needle) {
    return haystack.find(needle) != std::string_view::npos;
}

bool contains_ignoring_case(std::string_view haystack, std::string_view lower_needle) {
    const auto it = std::search(
        haystack.begin(), haystack.end(), lower_needle.begin(), lower_needle.end(),
        [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
    return it != haystack.end();
}

}  // namespace

std::string render_error_page(std::string_view lang_tag, int status, std::string_view message_key) {
    const Lang lang = parse_lang(lang_tag);
    const std::string status_text = std::to_string(status);
    const std::string status_key = "status." + status_text;
    const std::string_view title =
        find_message(lang, status_key).value_or(message(lang, "status.other"));
    Html html(2048);
    begin_page(html, {.lang = lang,
                      .title = title,
                      .body_class = "page-error",
                      .look = nullptr,
                      .style_nonce = {},
                      .is_private = false});
    html.open("main", {{"class", "wrap"}}).open("div", {{"class", "panel"}});
    html.element("p", {{"class", "error-status"}}, status_text);
    html.element("h1", {}, title);
    if (!message_key.empty()) {
        html.element("p", {}, error_message(lang, message_key));
    }
    html.close("div").close("main");
    end_page(html);
    return std::move(html).finish();
}

Platform platform_from_user_agent(std::string_view ua) {
    // iPadOS Safari asks for desktop pages as "Macintosh"; the Mobile token gives it away
    // in the apps (in-app browsers, Chrome on iPad) that keep it.
    if (contains(ua, "iPhone") || contains(ua, "iPad") || contains(ua, "iPod") ||
        (contains(ua, "Macintosh") && contains(ua, "Mobile"))) {
        return Platform::ios;
    }
    // Huawei phones without Google services still run Android wallet apps; HarmonyOS NEXT
    // ("OpenHarmony") no longer says Android.
    if (contains(ua, "Android") || contains(ua, "HarmonyOS") || contains(ua, "OpenHarmony") ||
        contains_ignoring_case(ua, "huawei")) {
        return Platform::android;
    }
    return Platform::other;
}

}  // namespace cardsmith::web
