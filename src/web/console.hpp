#pragma once
// The merchant console (GET /console): one static HTML page whose script and stylesheet
// the server serves itself (no CDN, no framework). Their text lives in src/web/console/
// and is embedded at build time (console/embed.cmake writes console_assets.cpp with the
// text and a content hash), so the page links them as kConsole*Path + "?v=<hash>" and the
// responses may be cached for good. Constants; thread-safe.
#include <string>
#include <string_view>

namespace cardsmith::web {

inline constexpr std::string_view kConsolePath = "/console";
inline constexpr std::string_view kConsoleScriptPath = "/assets/console.js";
inline constexpr std::string_view kConsoleStylesheetPath = "/assets/console.css";
inline constexpr std::string_view kConsoleScriptContentType = "text/javascript; charset=utf-8";
inline constexpr std::string_view kConsoleStylesheetContentType = "text/css; charset=utf-8";

// The page's Content-Security-Policy: its own script and stylesheet only, no inline script
// or style, images from the server or the blob: URLs the script makes of fetched images,
// fetch() to the server only, no forms sent by the browser itself (the script sends them),
// never framed, and Trusted Types enforced so that no string can reach innerHTML & co.
inline constexpr std::string_view kConsoleContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "require-trusted-types-for 'script'; trusted-types 'none'";

// The script: every file of src/web/console/js/ in name order, wrapped in one strict IIFE.
[[nodiscard]] std::string_view console_script();
// The first 16 hex digits of the SHA-256 of console_script().
[[nodiscard]] std::string_view console_script_version();
[[nodiscard]] std::string_view console_stylesheet();
[[nodiscard]] std::string_view console_stylesheet_version();

// The page: an empty shell the script fills in, linking the versioned asset URLs.
[[nodiscard]] std::string render_console_page();

}  // namespace cardsmith::web
