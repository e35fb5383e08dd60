#include "web/console.hpp"

namespace cardsmith::web {
namespace {

std::string versioned(std::string_view path, std::string_view version) {
    std::string url{path};
    url += "?v=";
    url += version;
    return url;
}

}  // namespace

std::string render_console_page() {
    // No user data on this page: everything the merchant sees is built by the script with
    // createElement/textContent from the API's JSON. The empty data: icon spares the
    // browser a request for /favicon.ico.
    std::string html =
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<meta name=\"robots\" content=\"noindex\">\n"
        "<title>Cardsmith console</title>\n"
        "<link rel=\"icon\" href=\"data:,\">\n<link rel=\"stylesheet\" href=\"";
    html += versioned(kConsoleStylesheetPath, console_stylesheet_version());
    html += "\">\n<script src=\"";
    html += versioned(kConsoleScriptPath, console_script_version());
    html +=
        "\" defer></script>\n</head>\n<body>\n"
        "<noscript><p class=\"noscript\">The Cardsmith console needs JavaScript.</p></noscript>\n"
        "<div id=\"app\" class=\"app\"></div>\n</body>\n</html>\n";
    return html;
}

}  // namespace cardsmith::web
