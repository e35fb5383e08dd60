#include "common/time_format.hpp"

#include <array>
#include <cstdio>
#include <ctime>

namespace cardsmith {
namespace {
std::tm utc_tm(std::int64_t secs) {
    std::time_t t = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&t, &tm);
    return tm;
}
constexpr std::array<const char*, 7> kDays{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<const char*, 12> kMonths{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
}  // namespace

std::int64_t unix_seconds(SysTime t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::int64_t unix_millis(SysTime t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::int64_t now_unix_millis() { return unix_millis(std::chrono::system_clock::now()); }

std::string format_iso8601(SysTime t) { return format_iso8601_unix(unix_seconds(t)); }

std::string format_iso8601_unix(std::int64_t secs) {
    std::tm tm = utc_tm(secs);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

std::string format_iso8601_unix_ms(std::int64_t millis) {
    // Floor division: -1 ms is the last second of 1969.
    return format_iso8601_unix(millis / 1000 - (millis % 1000 < 0 ? 1 : 0));
}

std::string format_iso8601_millis(SysTime t) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
    std::tm tm = utc_tm(ms / 1000);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms % 1000));
    return buf;
}

std::string format_http_date(std::int64_t secs) {
    std::tm tm = utc_tm(secs);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT",
                  kDays.at(static_cast<std::size_t>(tm.tm_wday)), tm.tm_mday,
                  kMonths.at(static_cast<std::size_t>(tm.tm_mon)), tm.tm_year + 1900, tm.tm_hour,
                  tm.tm_min, tm.tm_sec);
    return buf;
}

std::optional<std::int64_t> parse_http_date(std::string_view text) {
    std::string s(text);
    std::tm tm{};
    char day[4]{}, mon[4]{};
    int d = 0, y = 0, hh = 0, mm = 0, ss = 0;
    if (std::sscanf(s.c_str(), "%3s, %d %3s %d %d:%d:%d GMT", day, &d, mon, &y, &hh, &mm, &ss) !=
        7) {
        return std::nullopt;
    }
    int month = -1;
    for (int i = 0; i < 12; ++i) {
        if (std::string_view(mon) == kMonths.at(static_cast<std::size_t>(i))) {
            month = i;
        }
    }
    if (month < 0 || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60 || y < 1970) {
        return std::nullopt;
    }
    tm.tm_year = y - 1900;
    tm.tm_mon = month;
    tm.tm_mday = d;
    tm.tm_hour = hh;
    tm.tm_min = mm;
    tm.tm_sec = ss;
    return static_cast<std::int64_t>(timegm(&tm));
}

}  // namespace cardsmith
