#pragma once
// Process-wide logger: one line per event on stderr, either text
// (`ts level msg key=value...`, the default) or JSON (one object per line:
// {"ts","level","msg", then the fields}; log.format). Thread-safe (one mutex around the
// write). Callers never pass secrets; as a safety net, a field whose name says it holds one
// (authorization, password, secret, api_key, private_key, access_token...) is written as
// "[redacted]" in both formats.
#include <chrono>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace cardsmith::log {

enum class Level { debug = 0, info, warn, error };
enum class Format {
    text = 0,  // `2026-01-02T03:04:05.678Z info msg key=value key="two words"`
    json,      // {"ts":"2026-01-02T03:04:05.678Z","level":"info","msg":"msg","key":"value"}
};

void set_level(Level level);
[[nodiscard]] Level level();
[[nodiscard]] bool parse_level(std::string_view text, Level& out);

void set_format(Format format);
[[nodiscard]] Format format();
[[nodiscard]] bool parse_format(std::string_view text, Format& out);  // "text" or "json"

using Field = std::pair<std::string_view, std::string>;

// One event as write() prints it, newline included (exposed for tests). In JSON every
// field value is a string; text that is not valid UTF-8 has its bad bytes replaced by
// U+FFFD; a field named ts, level or msg is written as _ts, _level, _msg.
[[nodiscard]] std::string format_line(Format format, std::chrono::system_clock::time_point ts,
                                      Level level, std::string_view message,
                                      std::initializer_list<Field> fields);

void write(Level level, std::string_view message, std::initializer_list<Field> fields = {});

inline void debug(std::string_view m, std::initializer_list<Field> f = {}) {
    write(Level::debug, m, f);
}
inline void info(std::string_view m, std::initializer_list<Field> f = {}) {
    write(Level::info, m, f);
}
inline void warn(std::string_view m, std::initializer_list<Field> f = {}) {
    write(Level::warn, m, f);
}
inline void error(std::string_view m, std::initializer_list<Field> f = {}) {
    write(Level::error, m, f);
}

}  // namespace cardsmith::log
