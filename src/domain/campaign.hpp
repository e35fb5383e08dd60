#pragma once
// A campaign's request (issue 6): the message, who gets it (the segment), when (sendAt in
// the program's time zone, quiet hours) and how (rate, frequency cap, holdout group, how
// long the offer stays and how long a purchase counts as its effect). Parsed from the API's
// JSON with every problem named, and written back for storage. Pure; thread-safe.
#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/design.hpp"
#include "domain/time_zone.hpp"

namespace cardsmith::domain {

struct Segment {
    std::vector<std::string> tiers;  // tier names of the program's design
    std::optional<std::int64_t> balance_min, balance_max;
    std::string enrolled_from, enrolled_to;     // YYYY-MM-DD, the program's days, inclusive
    std::optional<std::int64_t> inactive_days;  // no transaction for that many days
    std::vector<std::string> channels;          // enrollment channels ("join", "api", a src)
    std::vector<std::string> cards;             // explicit card numbers
    [[nodiscard]] bool all() const;
};

struct QuietHours {
    int start_minute = -1;  // local minute of the day quiet begins; -1: none
    int end_minute = -1;    // and ends (may be earlier: overnight)
    [[nodiscard]] bool on() const { return start_minute >= 0 && start_minute != end_minute; }
    [[nodiscard]] bool contains(int minute_of_day) const;
};

struct CampaignOptions {
    QuietHours quiet;
    std::int64_t rate_per_minute = 0;  // cards per minute; 0: as fast as possible
    std::int64_t holdout_percent = 0;  // 0-50: not sent, to measure the effect
    std::int64_t cap_hours = 24;       // at most one offer per card in that time; 0: none
    std::int64_t redeem_days = 7;      // a purchase within that many days counts
    std::int64_t expires_at = 0;       // unix seconds: the offer leaves the pass
};

struct CampaignRequest {
    std::string message, header, link;
    Segment segment;
    CampaignOptions options;
    std::int64_t send_at = 0;  // unix seconds (0: now)
    bool dry_run = false;      // only count the segment
};

// Parses POST /campaigns. `now` (unix seconds) and `zone` resolve sendAt ("2026-12-05T10:00"
// is the program's local time; "...Z" or "+03:00" absolute) and expiresAt.
[[nodiscard]] CampaignRequest campaign_from_json(const boost::json::object& body,
                                                 const Design& design, const TimeZone& zone,
                                                 std::int64_t now, std::vector<Problem>& problems);

[[nodiscard]] boost::json::object segment_to_json(const Segment& segment);
[[nodiscard]] Segment segment_from_json(const boost::json::object& json);
[[nodiscard]] boost::json::object options_to_json(const CampaignOptions& options);
[[nodiscard]] CampaignOptions options_from_json(const boost::json::object& json);

// The first instant at or after `now` (unix seconds) outside the quiet hours.
[[nodiscard]] std::int64_t next_send_time(const QuietHours& quiet, const TimeZone& zone,
                                          std::int64_t now);

// Lifetime-point ranges [lo, hi) of the named tiers (hi = INT64_MAX for the top tier).
[[nodiscard]] std::vector<std::pair<std::int64_t, std::int64_t>> tier_ranges(
    const std::vector<Tier>& tiers, const std::vector<std::string>& names);

// The UTC instant a local date (YYYY-MM-DD) starts in `zone`; nullopt when not a date.
[[nodiscard]] std::optional<std::int64_t> local_day_start(std::string_view date,
                                                          const TimeZone& zone);

}  // namespace cardsmith::domain
