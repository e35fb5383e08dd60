#pragma once
// Process-wide logger: one line per event on stderr, `ts level msg key=value...`.
// Thread-safe (one mutex around the write). Callers never pass secrets; values that
// may hold one go through `redact()`.
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace cardsmith::log {

enum class Level { debug = 0, info, warn, error };

void set_level(Level level);
[[nodiscard]] Level level();
[[nodiscard]] bool parse_level(std::string_view text, Level& out);

using Field = std::pair<std::string_view, std::string>;
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
