#include "common/log.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <mutex>

#include "common/time_format.hpp"

namespace cardsmith::log {
namespace {
std::atomic<Level> g_level{Level::info};
std::atomic<Format> g_format{Format::text};
std::mutex g_mutex;

constexpr std::string_view kRedacted = "[redacted]";

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

// The safety net of the header: field names that say they hold a secret.
bool secret_field(std::string_view key) {
    constexpr std::array<std::string_view, 8> kSecretish = {
        "authorization", "password",    "secret",       "api_key",
        "apikey",        "private_key", "access_token", "auth_token"};
    std::string lower(key);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return std::any_of(kSecretish.begin(), kSecretish.end(),
                       [&](std::string_view s) { return lower.find(s) != std::string::npos; });
}

// Values with spaces or quotes are quoted so a line stays machine-parsable.
void append_text_value(std::string& out, std::string_view v) {
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

// The length of the valid UTF-8 sequence at s[i], or 0 (RFC 3629: no overlong forms,
// no surrogates, nothing above U+10FFFF).
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char b0 = byte(i);
    std::size_t len = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;  // bounds of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        len = 3;
        lo = b0 == 0xE0 ? 0xA0 : 0x80;
        hi = b0 == 0xED ? 0x9F : 0xBF;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        len = 4;
        lo = b0 == 0xF0 ? 0x90 : 0x80;
        hi = b0 == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (i + len > s.size() || byte(i + 1) < lo || byte(i + 1) > hi) {
        return 0;
    }
    for (std::size_t k = 2; k < len; ++k) {
        if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) {
            return 0;
        }
    }
    return len;
}

// A JSON string (RFC 8259 §7), quotes included.
void append_json_string(std::string& out, std::string_view v) {
    constexpr std::string_view kHex = "0123456789abcdef";
    out += '"';
    for (std::size_t i = 0; i < v.size();) {
        const auto c = static_cast<unsigned char>(v[i]);
        if (c >= 0x80) {
            if (const std::size_t len = utf8_sequence(v, i); len != 0) {
                out.append(v.substr(i, len));
                i += len;
            } else {
                out += "\xEF\xBF\xBD";  // U+FFFD for a byte that starts no valid sequence
                ++i;
            }
            continue;
        }
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c < 0x20 || c == 0x7F) {
                    out += "\\u00";
                    out += kHex[c >> 4];
                    out += kHex[c & 0xF];
                } else {
                    out += static_cast<char>(c);
                }
        }
        ++i;
    }
    out += '"';
}

std::string text_line(std::string_view ts, Level l, std::string_view message,
                      std::initializer_list<Field> fields) {
    std::string line(ts);
    line += ' ';
    line += level_name(l);
    line += ' ';
    line += message;
    for (const auto& [k, v] : fields) {
        line += ' ';
        line += k;
        line += '=';
        append_text_value(line, secret_field(k) ? kRedacted : std::string_view(v));
    }
    line += '\n';
    return line;
}

std::string json_line(std::string_view ts, Level l, std::string_view message,
                      std::initializer_list<Field> fields) {
    std::string line = "{\"ts\":";
    append_json_string(line, ts);
    line += ",\"level\":";
    append_json_string(line, level_name(l));
    line += ",\"msg\":";
    append_json_string(line, message);
    for (const auto& [k, v] : fields) {
        line += ',';
        if (k == "ts" || k == "level" || k == "msg") {
            append_json_string(line, "_" + std::string(k));
        } else {
            append_json_string(line, k);
        }
        line += ':';
        append_json_string(line, secret_field(k) ? kRedacted : std::string_view(v));
    }
    line += "}\n";
    return line;
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

void set_format(Format f) { g_format.store(f); }
Format format() { return g_format.load(); }

bool parse_format(std::string_view t, Format& out) {
    if (t == "text") {
        out = Format::text;
        return true;
    }
    if (t == "json") {
        out = Format::json;
        return true;
    }
    return false;
}

std::string format_line(Format f, std::chrono::system_clock::time_point ts, Level l,
                        std::string_view message, std::initializer_list<Field> fields) {
    const std::string time = format_iso8601_millis(ts);
    return f == Format::json ? json_line(time, l, message, fields)
                             : text_line(time, l, message, fields);
}

void write(Level l, std::string_view message, std::initializer_list<Field> fields) {
    if (l < g_level.load(std::memory_order_relaxed)) {
        return;
    }
    const std::string line = format_line(g_format.load(std::memory_order_relaxed),
                                         std::chrono::system_clock::now(), l, message, fields);
    std::lock_guard lock(g_mutex);
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
}

}  // namespace cardsmith::log
