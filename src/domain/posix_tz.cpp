#include "domain/posix_tz.hpp"

#include <algorithm>
#include <array>
#include <cstddef>

namespace cardsmith::domain {
namespace {

constexpr std::int64_t kDay = 86400;
// The Gregorian calendar, and so every POSIX TZ rule, repeats after 400 years: 146097 days,
// a whole number of weeks.
constexpr std::int64_t kCycleSeconds = 146097 * kDay;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// Howard Hinnant's days_from_civil: days since 1970-01-01 of a proleptic Gregorian date.
std::int64_t days_from_civil(std::int64_t y, int m, int d) {
    y -= m <= 2 ? 1 : 0;
    const std::int64_t era = floor_div(y, 400);
    const std::int64_t yoe = y - era * 400;
    const std::int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

std::int64_t year_of_day(std::int64_t days) {
    const std::int64_t z = days + 719468;
    const std::int64_t era = floor_div(z, 146097);
    const std::int64_t doe = z - era * 146097;
    const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const std::int64_t mp = (5 * doy + 2) / 153;
    return yoe + era * 400 + (mp >= 10 ? 1 : 0);
}

bool is_leap(std::int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

int month_length(std::int64_t y, int m) {
    constexpr std::array<int, 12> kDays{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : kDays.at(static_cast<std::size_t>(m - 1));
}

// Days since 1970-01-01 of a rule date in `year`.
std::int64_t rule_day(const PosixTz::Date& r, std::int64_t year) {
    using Kind = PosixTz::Date::Kind;
    const std::int64_t jan1 = days_from_civil(year, 1, 1);
    switch (r.kind) {
        case Kind::julian_no_leap:  // February 29 is never counted
            return jan1 + r.day - 1 + (is_leap(year) && r.day >= 60 ? 1 : 0);
        case Kind::julian_zero:
            return jan1 + r.day;
        case Kind::month_week_day:
            break;
    }
    const std::int64_t first = days_from_civil(year, r.month, 1);
    const std::int64_t weekday = (first % 7 + 7 + 4) % 7;  // 1970-01-01 was a Thursday
    std::int64_t day = (r.day - weekday + 7) % 7 + (r.week - 1) * 7;
    while (day >= month_length(year, r.month)) {
        day -= 7;  // week 5: the last such weekday
    }
    return first + day;
}

// The POSIX TZ string of a TZif footer, e.g. "CET-1CEST,M3.5.0,M10.5.0/3" or "<+03>-3",
// with RFC 8536's extensions (rule times from -167 to 167 hours).
class PosixParser {
public:
    explicit PosixParser(std::string_view text) : s_(text) {}

    std::optional<PosixTz> parse() {
        PosixTz rule;
        auto std_offset = name() ? hms(24) : std::nullopt;
        if (!std_offset) {
            return std::nullopt;
        }
        rule.std_offset = -*std_offset;  // POSIX counts west of UTC
        if (done()) {
            return rule;
        }
        if (!name()) {
            return std::nullopt;
        }
        rule.has_dst = true;
        rule.dst_offset = rule.std_offset + 3600;
        if (!done() && peek() != ',') {
            auto dst_offset = hms(24);
            if (!dst_offset) {
                return std::nullopt;
            }
            rule.dst_offset = -*dst_offset;
        }
        // Footers always spell the rules out; POSIX leaves the default to implementations.
        auto start = eat(',') ? date() : std::nullopt;
        auto end = start && eat(',') ? date() : std::nullopt;
        if (!end || !done()) {
            return std::nullopt;
        }
        rule.start = *start;
        rule.end = *end;
        return rule;
    }

private:
    bool done() const { return i_ == s_.size(); }
    char peek() const { return done() ? '\0' : s_[i_]; }
    bool eat(char c) {
        if (done() || s_[i_] != c) {
            return false;
        }
        ++i_;
        return true;
    }
    static bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
    static bool is_digit(char c) { return c >= '0' && c <= '9'; }

    // "CET" (3+ letters) or "<+0330>" (3+ letters, digits, '+', '-').
    bool name() {
        const std::size_t begin = i_;
        if (eat('<')) {
            while (!done() &&
                   (is_alpha(peek()) || is_digit(peek()) || peek() == '+' || peek() == '-')) {
                ++i_;
            }
            return i_ - begin - 1 >= 3 && eat('>');
        }
        while (!done() && is_alpha(peek())) {
            ++i_;
        }
        return i_ - begin >= 3;
    }

    std::optional<std::int64_t> number(int max_digits, std::int64_t max) {
        std::int64_t n = 0;
        int digits = 0;
        while (!done() && is_digit(peek()) && digits < max_digits) {
            n = n * 10 + (s_[i_++] - '0');
            ++digits;
        }
        if (digits == 0 || n > max || (!done() && is_digit(peek()))) {
            return std::nullopt;
        }
        return n;
    }

    // [+-]hh[:mm[:ss]] in seconds.
    std::optional<std::int64_t> hms(std::int64_t max_hours) {
        std::int64_t sign = 1;
        if (eat('-')) {
            sign = -1;
        } else {
            eat('+');
        }
        auto h = number(max_hours > 99 ? 3 : 2, max_hours);
        std::optional<std::int64_t> m = 0;
        std::optional<std::int64_t> sec = 0;
        if (h && eat(':')) {
            m = number(2, 59);
            if (m && eat(':')) {
                sec = number(2, 59);
            }
        }
        if (!h || !m || !sec) {
            return std::nullopt;
        }
        return sign * (*h * 3600 + *m * 60 + *sec);
    }

    std::optional<PosixTz::Date> date() {
        using Kind = PosixTz::Date::Kind;
        PosixTz::Date d;
        std::optional<std::int64_t> day;
        if (eat('J')) {
            d.kind = Kind::julian_no_leap;
            day = number(3, 365);
            if (day && *day < 1) {
                day.reset();
            }
        } else if (eat('M')) {
            d.kind = Kind::month_week_day;
            auto month = number(2, 12);
            auto week = month && *month >= 1 && eat('.') ? number(1, 5) : std::nullopt;
            day = week && *week >= 1 && eat('.') ? number(1, 6) : std::nullopt;
            d.month = static_cast<int>(month.value_or(0));
            d.week = static_cast<int>(week.value_or(0));
        } else {
            d.kind = Kind::julian_zero;
            day = number(3, 365);
        }
        if (!day) {
            return std::nullopt;
        }
        d.day = static_cast<int>(*day);
        if (eat('/')) {
            auto time = hms(167);
            if (!time) {
                return std::nullopt;
            }
            d.time = *time;
        }
        return d;
    }

    std::string_view s_;
    std::size_t i_ = 0;
};

}  // namespace

std::optional<PosixTz> PosixTz::parse(std::string_view text) { return PosixParser(text).parse(); }

std::int64_t PosixTz::offset_at(std::int64_t utc_seconds) const {
    if (!has_dst) {
        return std_offset;
    }
    const std::int64_t t = (utc_seconds % kCycleSeconds + kCycleSeconds) % kCycleSeconds;
    const std::int64_t year = year_of_day(floor_div(t + std_offset, kDay));
    struct Event {
        std::int64_t at;
        bool to_dst;
    };
    std::array<Event, 6> events{};
    for (std::int64_t i = 0; i < 3; ++i) {
        const std::int64_t y = year - 1 + i;
        const auto k = static_cast<std::size_t>(2 * i);
        events.at(k) = {rule_day(start, y) * kDay + start.time - std_offset, true};
        events.at(k + 1) = {rule_day(end, y) * kDay + end.time - dst_offset, false};
    }
    // At equal instants the start wins, so "0/0,J365/25" (daylight time all year) works.
    std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
        return a.at != b.at ? a.at < b.at : (!a.to_dst && b.to_dst);
    });
    bool dst = !events.front().to_dst;
    for (const auto& e : events) {
        if (e.at <= t) {
            dst = e.to_dst;
        }
    }
    return dst ? dst_offset : std_offset;
}

}  // namespace cardsmith::domain
