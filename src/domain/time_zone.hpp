#pragma once
// IANA time zones read from TZif files (RFC 8536), since libstdc++ 12 has no
// std::chrono::tzdb. A TimeZone is an immutable value: the transitions of the file's
// 64-bit (v2+) data block, then the footer's POSIX TZ string (PosixTz) for instants after
// the last transition, which matters for Debian's "slim" files.
// Thread-safe to share once loaded. Times are seconds since 1970-01-01T00:00 (UTC or
// local wall clock), valid within ±2^62.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/posix_tz.hpp"

namespace cardsmith::domain {

// "UTC", "Europe/Moscow", "America/Argentina/Buenos_Aires": letters, digits, _ + - and /
// between non-empty parts (so no "..", no leading or trailing '/'), at most 64 characters.
[[nodiscard]] bool is_valid_zone_name(std::string_view name);

class TimeZone {
public:
    // nullopt when the name is invalid, no such zone file exists, or the file is malformed
    // (also for leap-second "right/" files). "UTC" always loads, even with no zoneinfo.
    static std::optional<TimeZone> load(std::string_view name,
                                        const std::string& dir = "/usr/share/zoneinfo");
    // Parses the bytes of a TZif file (versions 1 to 4); nullopt when malformed. For tests
    // and fuzzing; `name` is only stored.
    static std::optional<TimeZone> parse(std::string name, std::string_view tzif);

    [[nodiscard]] const std::string& name() const { return name_; }
    // Seconds east of UTC at that instant.
    [[nodiscard]] std::int64_t offset_at(std::int64_t utc_seconds) const;
    // A local wall-clock time (seconds since 1970-01-01T00:00 local) → the UTC instant. In
    // a gap (spring forward) the first instant after the gap, i.e. the transition itself
    // (02:30 on a Berlin gap day → 01:00 UTC = 03:00 CEST); in an overlap (fall back) the
    // earlier instant.
    [[nodiscard]] std::int64_t to_utc(std::int64_t local_seconds) const;
    [[nodiscard]] std::int64_t to_local(std::int64_t utc_seconds) const {
        return utc_seconds + offset_at(utc_seconds);
    }

private:
    struct Transition {
        std::int64_t at;      // UTC seconds
        std::int64_t offset;  // in effect from `at`
    };
    std::string name_;
    std::int64_t initial_offset_ = 0;  // before the first transition (time type 0)
    std::vector<Transition> transitions_;
    std::optional<PosixTz> footer_;  // after the last transition
};

// A shared cache of zones loaded from /usr/share/zoneinfo (thread-safe); nullptr when the
// name is invalid or unknown. Unknown names are not cached.
[[nodiscard]] std::shared_ptr<const TimeZone> find_time_zone(std::string_view name);

}  // namespace cardsmith::domain
