#pragma once
// The enrollment pages' one stylesheet, served by the server itself (no CDN, no web fonts)
// at kStylesheetPath with a content-derived version for cache-busting URLs. Constants; thread-safe.
#include <string>
#include <string_view>

namespace cardsmith::web {

inline constexpr std::string_view kStylesheetPath = "/assets/cardsmith.css";
inline constexpr std::string_view kStylesheetContentType = "text/css; charset=utf-8";

// The CSS text. Per-program colours come from the custom properties --brand-bg, --brand-fg
// and --brand-label that each page sets in its own <style> element.
[[nodiscard]] std::string_view stylesheet();
// 16 lower-case hex digits of the 64-bit FNV-1a hash of stylesheet(): changes with the text.
[[nodiscard]] std::string_view stylesheet_version();
// kStylesheetPath + "?v=" + stylesheet_version(); the pages link this, so a response for it
// may be cached as immutable.
[[nodiscard]] std::string stylesheet_url();

}  // namespace cardsmith::web
