#include "common/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>

#include "common/time_format.hpp"

namespace cardsmith::log {
namespace {
std::atomic<Level> g_level{Level::info};
std::mutex g_mutex;

constexpr std::string_view level_name(Level l) {
    switch (l) {
        case Level::debug:
            return "debug";
        case Level::info:
            return "info";
        case Level::warn:
            return "warn";
        case Level::error:
            return "error";
    }
    return "?";
}

// Values with spaces or quotes are quoted so a line stays machine-parsable.
void append_value(std::string& out, const std::string& v) {
    bool plain = !v.empty();
    for (char c : v) {
        if (c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20) {
            plain = false;
            break;
        }
    }
    if (plain) {
        out += v;
        return;
    }
    out += '"';
    for (char c : v) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            out += ' ';
        } else {
            out += c;
        }
    }
    out += '"';
}
}  // namespace

void set_level(Level l) { g_level.store(l); }
Level level() { return g_level.load(); }

bool parse_level(std::string_view t, Level& out) {
    for (Level l : {Level::debug, Level::info, Level::warn, Level::error}) {
        if (t == level_name(l)) {
            out = l;
            return true;
        }
    }
    return false;
}

void write(Level l, std::string_view message, std::initializer_list<Field> fields) {
    if (l < g_level.load(std::memory_order_relaxed)) {
        return;
    }
    std::string line = format_iso8601_millis(std::chrono::system_clock::now());
    line += ' ';
    line += level_name(l);
    line += ' ';
    line += message;
    for (const auto& [k, v] : fields) {
        line += ' ';
        line += k;
        line += '=';
        append_value(line, v);
    }
    line += '\n';
    std::lock_guard lock(g_mutex);
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
}

}  // namespace cardsmith::log
