#pragma once
// A POSIX TZ rule (POSIX "TZ", with RFC 8536 §3.3's extensions: rule times from -167 to
// 167 hours), as found in the footer of a TZif file: "CET-1CEST,M3.5.0,M10.5.0/3" or
// "<+03>-3". TimeZone uses it for instants after a file's last transition. An immutable
// value, thread-safe to share. Times are seconds since 1970-01-01T00:00 UTC.
#include <cstdint>
#include <optional>
#include <string_view>

namespace cardsmith::domain {

struct PosixTz {
    // One rule date: "Jn", "n" or "Mm.w.d", and the "/time" after it.
    struct Date {
        enum class Kind { julian_no_leap, julian_zero, month_week_day } kind{};
        int day = 0;               // Jn: 1-365; n: 0-365; Mm.w.d: d, 0 (Sunday) to 6
        int month = 0;             // Mm.w.d only: 1-12
        int week = 0;              // Mm.w.d only: 1-5, 5 = the last
        std::int64_t time = 7200;  // local seconds after midnight; may be negative or > 24 h
    };

    // Standard time, and daylight time between two dates each year.
    std::int64_t std_offset = 0;  // seconds east of UTC
    bool has_dst = false;
    std::int64_t dst_offset = 0;
    Date start;  // in standard time
    Date end;    // in daylight time

    // nullopt unless `text` is a whole TZ string that spells out its rules (as footers do).
    [[nodiscard]] static std::optional<PosixTz> parse(std::string_view text);

    // Seconds east of UTC at that instant.
    [[nodiscard]] std::int64_t offset_at(std::int64_t utc_seconds) const;
};

}  // namespace cardsmith::domain
