#include "domain/campaign.hpp"

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <limits>

namespace cardsmith::domain {
namespace json = boost::json;
namespace {

constexpr std::int64_t kDay = 86400;

bool digits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int number(std::string_view s) {
    int v = 0;
    for (char c : s) {
        v = v * 10 + (c - '0');
    }
    return v;
}

// "YYYY-MM-DD" → days since 1970-01-01.
std::optional<std::int64_t> civil_days(std::string_view d) {
    if (d.size() != 10 || d[4] != '-' || d[7] != '-' || !digits(d.substr(0, 4)) ||
        !digits(d.substr(5, 2)) || !digits(d.substr(8, 2))) {
        return std::nullopt;
    }
    using namespace std::chrono;
    const year_month_day ymd{year(number(d.substr(0, 4))),
                             month(static_cast<unsigned>(number(d.substr(5, 2)))),
                             day(static_cast<unsigned>(number(d.substr(8, 2))))};
    if (!ymd.ok()) {
        return std::nullopt;
    }
    return sys_days(ymd).time_since_epoch().count();
}

// "HH:MM" → minute of the day.
std::optional<int> minute_of_day(std::string_view t) {
    if (t.size() != 5 || t[2] != ':' || !digits(t.substr(0, 2)) || !digits(t.substr(3, 2))) {
        return std::nullopt;
    }
    const int h = number(t.substr(0, 2));
    const int m = number(t.substr(3, 2));
    if (h > 23 || m > 59) {
        return std::nullopt;
    }
    return h * 60 + m;
}

// "YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM]": local to `zone` without a zone suffix.
std::optional<std::int64_t> parse_instant(std::string_view s, const TimeZone& zone) {
    if (s.size() < 16 || (s[10] != 'T' && s[10] != ' ')) {
        return std::nullopt;
    }
    auto days = civil_days(s.substr(0, 10));
    auto minute = minute_of_day(s.substr(11, 5));
    if (!days || !minute) {
        return std::nullopt;
    }
    std::int64_t secs = *days * kDay + std::int64_t{*minute} * 60;
    std::string_view rest = s.substr(16);
    if (rest.size() >= 3 && rest[0] == ':' && digits(rest.substr(1, 2))) {
        const int sec = number(rest.substr(1, 2));
        if (sec > 59) {
            return std::nullopt;
        }
        secs += sec;
        rest.remove_prefix(3);
    }
    if (rest.empty()) {
        return zone.to_utc(secs);
    }
    if (rest == "Z") {
        return secs;
    }
    if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-')) {
        auto off = minute_of_day(rest.substr(1));
        if (!off) {
            return std::nullopt;
        }
        const std::int64_t shift = std::int64_t{*off} * 60;
        return rest[0] == '+' ? secs - shift : secs + shift;
    }
    return std::nullopt;
}

std::string hhmm(int minute) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%02d:%02d", (minute / 60) % 24, minute % 60);
    return buf;
}

// Typed getters that record a problem for a wrong type.
const json::value* field(const json::object& o, std::string_view key) { return o.if_contains(key); }

std::optional<std::int64_t> int_in(const json::object& o, std::string_view key, std::int64_t lo,
                                   std::int64_t hi, const std::string& path,
                                   std::vector<Problem>& problems) {
    const auto* v = field(o, key);
    if (v == nullptr || v->is_null()) {
        return std::nullopt;
    }
    if (!v->is_int64() || v->as_int64() < lo || v->as_int64() > hi) {
        problems.push_back(
            {path + std::string(key),
             "must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi)});
        return std::nullopt;
    }
    return v->as_int64();
}

std::optional<std::string> text(const json::object& o, std::string_view key, std::size_t max,
                                const std::string& path, std::vector<Problem>& problems) {
    const auto* v = field(o, key);
    if (v == nullptr || v->is_null()) {
        return std::nullopt;
    }
    if (!v->is_string() || v->as_string().size() > max) {
        problems.push_back({path + std::string(key),
                            "must be a string of at most " + std::to_string(max) + " bytes"});
        return std::nullopt;
    }
    return std::string(v->as_string());
}

std::vector<std::string> strings(const json::object& o, std::string_view key, std::size_t max_items,
                                 const std::string& path, std::vector<Problem>& problems) {
    std::vector<std::string> out;
    const auto* v = field(o, key);
    if (v == nullptr || v->is_null()) {
        return out;
    }
    if (!v->is_array() || v->as_array().size() > max_items) {
        problems.push_back({path + std::string(key), "must be an array of at most " +
                                                         std::to_string(max_items) + " strings"});
        return out;
    }
    for (const auto& item : v->as_array()) {
        if (!item.is_string() || item.as_string().empty() || item.as_string().size() > 64) {
            problems.push_back({path + std::string(key), "must hold strings of 1-64 bytes"});
            return {};
        }
        out.emplace_back(item.as_string());
    }
    return out;
}

void reject_unknown(const json::object& o, std::initializer_list<std::string_view> allowed,
                    const std::string& path, std::vector<Problem>& problems) {
    for (const auto& [k, _] : o) {
        if (std::find(allowed.begin(), allowed.end(), std::string_view(k)) == allowed.end()) {
            problems.push_back({path + std::string(k), "is not a known property"});
        }
    }
}

Segment parse_segment(const json::object& o, const Design& design, std::vector<Problem>& problems) {
    const std::string p = "segment.";
    reject_unknown(o,
                   {"tiers", "balanceMin", "balanceMax", "enrolledFrom", "enrolledTo",
                    "inactiveDays", "channels", "cards"},
                   p, problems);
    Segment s;
    s.tiers = strings(o, "tiers", 50, p, problems);
    for (const auto& t : s.tiers) {
        if (std::none_of(design.tiers.begin(), design.tiers.end(),
                         [&](const Tier& d) { return d.name == t; })) {
            std::string known;
            for (const auto& d : design.tiers) {
                known += (known.empty() ? "" : ", ") + d.name;
            }
            problems.push_back({p + "tiers", "'" + t + "' is not a tier of the program (" +
                                                 (known.empty() ? "it has none" : known) + ")"});
        }
    }
    constexpr std::int64_t kMax = 1'000'000'000'000'000;
    s.balance_min = int_in(o, "balanceMin", 0, kMax, p, problems);
    s.balance_max = int_in(o, "balanceMax", 0, kMax, p, problems);
    if (s.balance_min && s.balance_max && *s.balance_min > *s.balance_max) {
        problems.push_back({p + "balanceMax", "must not be below balanceMin"});
    }
    for (auto [key, target] :
         {std::pair{"enrolledFrom", &s.enrolled_from}, std::pair{"enrolledTo", &s.enrolled_to}}) {
        if (auto d = text(o, key, 10, p, problems)) {
            if (!civil_days(*d)) {
                problems.push_back({p + key, "must be a date YYYY-MM-DD"});
            } else {
                *target = *d;
            }
        }
    }
    if (!s.enrolled_from.empty() && !s.enrolled_to.empty() && s.enrolled_from > s.enrolled_to) {
        problems.push_back({p + "enrolledTo", "must not be before enrolledFrom"});
    }
    s.inactive_days = int_in(o, "inactiveDays", 1, 3650, p, problems);
    s.channels = strings(o, "channels", 50, p, problems);
    s.cards = strings(o, "cards", 10000, p, problems);
    for (const auto& c : s.cards) {
        if (!digits(c) || c.size() < 12 || c.size() > 19) {
            problems.push_back({p + "cards", "'" + c + "' is not a card number"});
            break;
        }
    }
    return s;
}

}  // namespace

bool Segment::all() const {
    return tiers.empty() && !balance_min && !balance_max && enrolled_from.empty() &&
           enrolled_to.empty() && !inactive_days && channels.empty() && cards.empty();
}

bool QuietHours::contains(int m) const {
    if (!on()) {
        return false;
    }
    if (start_minute < end_minute) {
        return m >= start_minute && m < end_minute;
    }
    return m >= start_minute || m < end_minute;  // overnight: 21:00-09:00
}

CampaignRequest campaign_from_json(const json::object& body, const Design& design,
                                   const TimeZone& zone, std::int64_t now,
                                   std::vector<Problem>& problems) {
    reject_unknown(body,
                   {"message", "header", "link", "segment", "sendAt", "expiresAt", "quietHours",
                    "ratePerMinute", "holdoutPercent", "frequencyCapHours", "redeemDays", "dryRun"},
                   "", problems);
    CampaignRequest r;
    if (auto m = text(body, "message", 2000, "", problems)) {
        r.message = *m;
    } else if (!body.contains("message")) {
        problems.push_back({"message", "is required"});
    }
    r.header = text(body, "header", 200, "", problems).value_or("");
    r.link = text(body, "link", 500, "", problems).value_or("");
    if (!r.link.empty() && (!(r.link.starts_with("https://") || r.link.starts_with("http://")) ||
                            r.link.find_first_of(" \t\r\n\"<>") != std::string::npos)) {
        problems.push_back({"link", "must be an http(s) URL"});
    }
    if (const auto* seg = field(body, "segment"); seg != nullptr && !seg->is_null()) {
        if (!seg->is_object()) {
            problems.push_back({"segment", "must be an object"});
        } else {
            r.segment = parse_segment(seg->as_object(), design, problems);
        }
    }
    r.send_at = now;
    if (auto s = text(body, "sendAt", 40, "", problems)) {
        auto at = parse_instant(*s, zone);
        if (!at) {
            problems.push_back({"sendAt",
                                "must be a date and time, 2026-12-05T10:00 (the "
                                "program's time zone) or with Z or an offset"});
        } else if (*at < now - 300) {
            problems.push_back({"sendAt", "is in the past"});
        } else if (*at > now + 366 * kDay) {
            problems.push_back({"sendAt", "is more than a year ahead"});
        } else {
            r.send_at = std::max(*at, now);
        }
    }
    r.options.expires_at = r.send_at + 7 * kDay;
    if (auto s = text(body, "expiresAt", 40, "", problems)) {
        auto at = parse_instant(*s, zone);
        if (!at) {
            problems.push_back({"expiresAt", "must be a date and time like sendAt"});
        } else if (*at <= r.send_at) {
            problems.push_back({"expiresAt", "must be after sendAt"});
        } else {
            r.options.expires_at = *at;
        }
    }
    if (const auto* q = field(body, "quietHours"); q != nullptr && !q->is_null()) {
        const auto* start = q->is_object() ? q->as_object().if_contains("start") : nullptr;
        const auto* end = q->is_object() ? q->as_object().if_contains("end") : nullptr;
        std::optional<int> s, e;
        if (start != nullptr && start->is_string()) s = minute_of_day(start->as_string());
        if (end != nullptr && end->is_string()) e = minute_of_day(end->as_string());
        if (!s || !e || q->as_object().size() != 2) {
            problems.push_back(
                {"quietHours", "must be {\"start\": \"HH:MM\", \"end\": \"HH:MM\"}"});
        } else {
            r.options.quiet = {*s, *e};
        }
    }
    r.options.rate_per_minute =
        int_in(body, "ratePerMinute", 1, 10'000'000, "", problems).value_or(0);
    r.options.holdout_percent = int_in(body, "holdoutPercent", 0, 50, "", problems).value_or(0);
    r.options.cap_hours = int_in(body, "frequencyCapHours", 0, 720, "", problems).value_or(24);
    r.options.redeem_days = int_in(body, "redeemDays", 1, 90, "", problems).value_or(7);
    if (const auto* d = field(body, "dryRun"); d != nullptr) {
        if (!d->is_bool()) {
            problems.push_back({"dryRun", "must be true or false"});
        } else {
            r.dry_run = d->as_bool();
        }
    }
    return r;
}

json::object segment_to_json(const Segment& s) {
    json::object o;
    auto list = [](const std::vector<std::string>& v) {
        json::array a;
        for (const auto& x : v) a.push_back(json::string(x));
        return a;
    };
    if (!s.tiers.empty()) o["tiers"] = list(s.tiers);
    if (s.balance_min) o["balanceMin"] = *s.balance_min;
    if (s.balance_max) o["balanceMax"] = *s.balance_max;
    if (!s.enrolled_from.empty()) o["enrolledFrom"] = s.enrolled_from;
    if (!s.enrolled_to.empty()) o["enrolledTo"] = s.enrolled_to;
    if (s.inactive_days) o["inactiveDays"] = *s.inactive_days;
    if (!s.channels.empty()) o["channels"] = list(s.channels);
    if (!s.cards.empty()) o["cards"] = list(s.cards);
    return o;
}

Segment segment_from_json(const json::object& o) {
    std::vector<Problem> ignored;
    Design any;  // stored segments were checked when made; tiers are matched by name later
    Segment s = parse_segment(o, any, ignored);
    if (const auto* t = o.if_contains("tiers"); t != nullptr && t->is_array()) {
        s.tiers.clear();
        for (const auto& x : t->as_array()) {
            if (x.is_string()) s.tiers.emplace_back(x.as_string());
        }
    }
    return s;
}

json::object options_to_json(const CampaignOptions& o) {
    json::object out{{"ratePerMinute", o.rate_per_minute},
                     {"holdoutPercent", o.holdout_percent},
                     {"frequencyCapHours", o.cap_hours},
                     {"redeemDays", o.redeem_days},
                     {"expiresAt", o.expires_at}};
    if (o.quiet.on()) {
        out["quietHours"] = {{"start", hhmm(o.quiet.start_minute)},
                             {"end", hhmm(o.quiet.end_minute)}};
    }
    return out;
}

CampaignOptions options_from_json(const json::object& o) {
    CampaignOptions out;
    auto get = [&](std::string_view k, std::int64_t fallback) {
        const auto* v = o.if_contains(k);
        return v != nullptr && v->is_int64() ? v->as_int64() : fallback;
    };
    out.rate_per_minute = get("ratePerMinute", 0);
    out.holdout_percent = get("holdoutPercent", 0);
    out.cap_hours = get("frequencyCapHours", 24);
    out.redeem_days = get("redeemDays", 7);
    out.expires_at = get("expiresAt", 0);
    if (const auto* q = o.if_contains("quietHours"); q != nullptr && q->is_object()) {
        const auto* s = q->as_object().if_contains("start");
        const auto* e = q->as_object().if_contains("end");
        if (s != nullptr && s->is_string() && e != nullptr && e->is_string()) {
            auto sm = minute_of_day(s->as_string());
            auto em = minute_of_day(e->as_string());
            if (sm && em) out.quiet = {*sm, *em};
        }
    }
    return out;
}

std::int64_t next_send_time(const QuietHours& quiet, const TimeZone& zone, std::int64_t now) {
    if (!quiet.on()) {
        return now;
    }
    const std::int64_t local = zone.to_local(now);
    const int minute = static_cast<int>(((local % kDay) + kDay) % kDay / 60);
    if (!quiet.contains(minute)) {
        return now;
    }
    // The end of the quiet hours today or tomorrow (local), as a UTC instant.
    std::int64_t day_start = local - (((local % kDay) + kDay) % kDay);
    if (minute >= quiet.end_minute) {
        day_start += kDay;
    }
    return std::max(now, zone.to_utc(day_start + std::int64_t{quiet.end_minute} * 60));
}

std::vector<std::pair<std::int64_t, std::int64_t>> tier_ranges(
    const std::vector<Tier>& tiers, const std::vector<std::string>& names) {
    std::vector<std::pair<std::int64_t, std::int64_t>> out;
    for (std::size_t i = 0; i < tiers.size(); ++i) {
        if (std::find(names.begin(), names.end(), tiers[i].name) == names.end()) {
            continue;
        }
        // Tiers are sorted by min_points (as tier_for reads them).
        const std::int64_t lo = tiers[i].min_points;
        const std::int64_t hi = i + 1 < tiers.size() ? tiers[i + 1].min_points
                                                     : std::numeric_limits<std::int64_t>::max();
        out.emplace_back(lo, hi);
    }
    return out;
}

std::optional<std::int64_t> local_day_start(std::string_view date, const TimeZone& zone) {
    auto days = civil_days(date);
    if (!days) {
        return std::nullopt;
    }
    return zone.to_utc(*days * kDay);
}

}  // namespace cardsmith::domain
