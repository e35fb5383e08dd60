#pragma once
// Date formats used on the wire: ISO 8601 for JSON and pass.json (no fractions, as
// Wallet rejects them; apple-wallet.md §1.3), RFC 7231 HTTP-date for Last-Modified.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cardsmith {

using SysTime = std::chrono::system_clock::time_point;

[[nodiscard]] std::string format_iso8601(SysTime t);  // 2026-11-22T10:00:00Z
// The same for a stored unix time (seconds or milliseconds), whatever its value: a
// SysTime holds nanoseconds and ends in 2262, while an offer may run until 9999.
[[nodiscard]] std::string format_iso8601_unix(std::int64_t unix_seconds);
[[nodiscard]] std::string format_iso8601_unix_ms(std::int64_t unix_millis);
[[nodiscard]] std::string format_iso8601_millis(SysTime t);  // for logs only
[[nodiscard]] std::string format_http_date(std::int64_t unix_seconds);
[[nodiscard]] std::optional<std::int64_t> parse_http_date(std::string_view text);
[[nodiscard]] std::int64_t unix_seconds(SysTime t);
[[nodiscard]] std::int64_t unix_millis(SysTime t);
// Milliseconds since the epoch, now.
[[nodiscard]] std::int64_t now_unix_millis();

}  // namespace cardsmith
