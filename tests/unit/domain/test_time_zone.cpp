#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "domain/time_zone.hpp"

// Expected values were checked against `TZ=<zone> date -d @<epoch>` and `zdump -v` with
// Debian's tzdata 2025b.

using namespace cardsmith::domain;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kHour = 3600;
const std::string kZoneinfo = "/usr/share/zoneinfo";

// Seconds since 1970-01-01T00:00 of a proleptic Gregorian date and time (the test's own
// calendar arithmetic, independent of the code under test).
std::int64_t civil(std::int64_t y, int m, int d, int hh = 0, int mm = 0, int ss = 0) {
    y -= m <= 2 ? 1 : 0;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const std::int64_t yoe = y - era * 400;
    const std::int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (era * 146097 + doe - 719468) * 86400 + hh * 3600 + mm * 60 + ss;
}

void put(std::string& out, std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) {
        out += static_cast<char>((v >> (8 * i)) & 0xFF);
    }
}

struct Type {
    std::int32_t offset;
    std::uint8_t is_dst = 0;
};

// A TZif file (RFC 8536). version '\0' writes a v1 file with 32-bit times and no footer;
// otherwise a minimal v1 block, the 64-bit block and the footer.
std::string tzif(char version, const std::vector<std::int64_t>& times,
                 const std::vector<std::uint8_t>& indices, const std::vector<Type>& types,
                 const std::string& footer) {
    auto header = [&](std::string& out, std::uint64_t timecnt, std::uint64_t typecnt) {
        out += "TZif";
        out += version;
        out += std::string(15, '\0');
        for (auto count :
             {typecnt, typecnt, std::uint64_t{0}, timecnt, typecnt, std::uint64_t{4}}) {
            put(out, count, 4);
        }
    };
    auto block = [&](std::string& out, int time_size) {
        for (auto t : times) put(out, static_cast<std::uint64_t>(t), time_size);
        for (auto i : indices) out += static_cast<char>(i);
        for (const auto& t : types) {
            put(out, static_cast<std::uint32_t>(t.offset), 4);
            out += static_cast<char>(t.is_dst);
            out += '\0';
        }
        out += std::string("ZZZ\0", 4);
        out += std::string(2 * types.size(), '\0');  // isstd, isut
    };
    std::string out;
    if (version == '\0') {
        header(out, times.size(), types.size());
        block(out, 4);
        return out;
    }
    header(out, 0, 1);
    out += std::string(6, '\0') + std::string("ZZZ\0", 4) + std::string(2, '\0');
    header(out, times.size(), types.size());
    block(out, 8);
    return out + "\n" + footer + "\n";
}

// A "slim" zone: no transitions, only the footer.
std::optional<TimeZone> footer_only(const std::string& footer) {
    return TimeZone::parse("Test/Footer", tzif('2', {}, {}, {{0}}, footer));
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

bool have(const std::string& zone) { return fs::exists(fs::path(kZoneinfo) / zone); }

// A temporary directory removed at the end of the test.
struct TempDir {
    fs::path path;
    TempDir() {
        path = fs::temp_directory_path() /
               ("cardsmith-tz-" + std::to_string(std::random_device{}()) + "-" +
                std::to_string(reinterpret_cast<std::uintptr_t>(this)));
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    void write(const std::string& name, const std::string& bytes) const {
        fs::create_directories((path / name).parent_path());
        std::ofstream(path / name, std::ios::binary) << bytes;
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(time_zone)

BOOST_AUTO_TEST_CASE(zone_names) {
    for (const char* ok : {"UTC", "Europe/Moscow", "America/Argentina/Buenos_Aires", "Etc/GMT+5",
                           "Etc/GMT-14", "EST5EDT"}) {
        BOOST_TEST(is_valid_zone_name(ok), ok);
    }
    for (const char* bad :
         {"", "../etc/passwd", "Europe/../../etc/passwd", "/etc/passwd", "Europe/",
          "Europe//Berlin", "Europe/Berlin.txt", "Europe Berlin", "Europe\\Berlin"}) {
        BOOST_TEST(!is_valid_zone_name(bad), bad);
    }
    BOOST_TEST(!is_valid_zone_name(std::string_view("Ber\0lin", 7)));
    BOOST_TEST(is_valid_zone_name(std::string(64, 'a')));
    BOOST_TEST(!is_valid_zone_name(std::string(65, 'a')));
}

BOOST_AUTO_TEST_CASE(utc_always_loads) {
    TempDir empty;
    for (const std::string& dir : {kZoneinfo, empty.path.string()}) {
        auto utc = TimeZone::load("UTC", dir);
        BOOST_REQUIRE(utc.has_value());
        BOOST_TEST(utc->name() == "UTC");
        for (std::int64_t t :
             {INT64_MIN, std::int64_t{-1}, std::int64_t{0}, civil(2026, 7, 1), INT64_MAX}) {
            BOOST_TEST(utc->offset_at(t) == 0);
        }
        BOOST_TEST(utc->to_utc(civil(2026, 3, 29, 2, 30)) == civil(2026, 3, 29, 2, 30));
    }
    auto shared = find_time_zone("UTC");
    BOOST_REQUIRE(shared != nullptr);
    BOOST_TEST(shared == find_time_zone("UTC"));  // cached
}

BOOST_AUTO_TEST_CASE(unknown_and_invalid_zones) {
    for (const char* name :
         {"../etc/passwd", "", "Foo/Bar", "/etc/passwd", "Europe", "zone.tab", "Europe/Berlin/"}) {
        BOOST_TEST(!TimeZone::load(name).has_value(), name);
        BOOST_TEST(find_time_zone(name) == nullptr, name);
    }
}

BOOST_AUTO_TEST_CASE(moscow) {
    auto z = TimeZone::load("Europe/Moscow");
    BOOST_REQUIRE(z.has_value());
    BOOST_TEST(z->name() == "Europe/Moscow");
    BOOST_TEST(z->offset_at(1782907200) == 3 * kHour);  // 2026-07-01 12:00 UTC
    BOOST_TEST(z->offset_at(1277985600) == 4 * kHour);  // 2010-07-01 12:00 UTC, MSD
    BOOST_TEST(z->offset_at(civil(2010, 1, 15, 12)) == 3 * kHour);
    BOOST_TEST(z->offset_at(civil(2100, 1, 1)) == 3 * kHour);  // footer "MSK-3"
    BOOST_TEST(z->to_local(1782907200) == civil(2026, 7, 1, 15));
    BOOST_TEST(z->to_utc(civil(2026, 7, 1, 15)) == 1782907200);
}

BOOST_AUTO_TEST_CASE(berlin_transitions) {
    auto z = find_time_zone("Europe/Berlin");
    BOOST_REQUIRE(z != nullptr);
    BOOST_TEST(civil(2026, 3, 29, 1) == 1774746000);
    // Spring forward 2026-03-29 01:00 UTC, fall back 2026-10-25 01:00 UTC; 2031 alike.
    for (auto [spring, fall] : {std::pair{std::int64_t{1774746000}, std::int64_t{1792890000}},
                                std::pair{std::int64_t{1932598800}, std::int64_t{1950742800}}}) {
        BOOST_TEST(z->offset_at(spring - 1) == 1 * kHour);
        BOOST_TEST(z->offset_at(spring) == 2 * kHour);
        BOOST_TEST(z->offset_at(fall - 1) == 2 * kHour);
        BOOST_TEST(z->offset_at(fall) == 1 * kHour);
        const std::int64_t spring_day = spring - kHour;  // midnight UTC of that Sunday
        const std::int64_t fall_day = fall - kHour;
        // 01:59 CET exists; 02:00-02:59 is the gap: the answer is the transition, 03:00 CEST.
        BOOST_TEST(z->to_utc(spring_day + kHour + 59 * 60) == spring - 60);
        BOOST_TEST(z->to_utc(spring_day + 2 * kHour) == spring);
        BOOST_TEST(z->to_utc(spring_day + 2 * kHour + 30 * 60) == spring);
        BOOST_TEST(z->to_utc(spring_day + 3 * kHour) == spring);
        BOOST_TEST(z->to_utc(spring_day + 3 * kHour + 1) == spring + 1);
        // 02:00-02:59 happens twice: the earlier (CEST) instant.
        BOOST_TEST(z->to_utc(fall_day + 2 * kHour + 30 * 60) == fall - 30 * 60);
        BOOST_TEST(z->to_utc(fall_day + 1 * kHour + 59 * 60) == fall - kHour - 60);
        BOOST_TEST(z->to_utc(fall_day + 3 * kHour) == fall + kHour);
        BOOST_TEST(z->to_local(fall) == fall_day + 2 * kHour);
    }
    // Past the fat file's transitions (2037): the footer.
    BOOST_TEST(z->offset_at(4109878800 - 1) == 1 * kHour);  // 2100-03-28 01:00 UTC
    BOOST_TEST(z->offset_at(4109878800) == 2 * kHour);
    BOOST_TEST(z->offset_at(4128627600 - 1) == 2 * kHour);  // 2100-10-31 01:00 UTC
    BOOST_TEST(z->offset_at(4128627600) == 1 * kHour);
    BOOST_TEST(z->offset_at(civil(1950, 1, 1)) == 1 * kHour);
}

BOOST_AUTO_TEST_CASE(new_york_transitions) {
    auto z = TimeZone::load("America/New_York");
    BOOST_REQUIRE(z.has_value());
    // 2026-03-08 07:00 UTC and 2026-11-01 06:00 UTC; 2031-03-09 and 2031-11-02.
    for (auto [spring, fall] : {std::pair{std::int64_t{1772953200}, std::int64_t{1793512800}},
                                std::pair{std::int64_t{1930806000}, std::int64_t{1951365600}}}) {
        BOOST_TEST(z->offset_at(spring - 1) == -5 * kHour);
        BOOST_TEST(z->offset_at(spring) == -4 * kHour);
        BOOST_TEST(z->offset_at(fall - 1) == -4 * kHour);
        BOOST_TEST(z->offset_at(fall) == -5 * kHour);
        const std::int64_t spring_day = spring - 7 * kHour;
        const std::int64_t fall_day = fall - 6 * kHour;
        BOOST_TEST(z->to_utc(spring_day + 2 * kHour + 30 * 60) == spring);  // gap
        BOOST_TEST(z->to_utc(spring_day + 1 * kHour + 30 * 60) == spring - 30 * 60);
        BOOST_TEST(z->to_utc(fall_day + 1 * kHour + 30 * 60) == fall - 30 * 60);  // EDT
        BOOST_TEST(z->to_utc(fall_day + 2 * kHour) == fall + kHour);
        BOOST_TEST(z->to_local(spring) == spring_day + 3 * kHour);
    }
}

BOOST_AUTO_TEST_CASE(lord_howe_half_hour_dst) {
    if (!have("Australia/Lord_Howe")) {
        BOOST_TEST_MESSAGE("no Australia/Lord_Howe: skipped");
        return;
    }
    auto z = TimeZone::load("Australia/Lord_Howe");
    BOOST_REQUIRE(z.has_value());
    const std::int64_t end = 1775314800;    // 2026-04-04 15:00 UTC: +11 → +10:30
    const std::int64_t start = 1791041400;  // 2026-10-03 15:30 UTC: +10:30 → +11
    BOOST_TEST(z->offset_at(end - 1) == 11 * kHour);
    BOOST_TEST(z->offset_at(end) == 10 * kHour + 30 * 60);
    BOOST_TEST(z->offset_at(start - 1) == 10 * kHour + 30 * 60);
    BOOST_TEST(z->offset_at(start) == 11 * kHour);
    // 01:30-01:59 on 2026-04-05 happens twice; 02:00-02:29 on 2026-10-04 does not exist.
    BOOST_TEST(z->to_utc(civil(2026, 4, 5, 1, 45)) == 1775313900);  // 14:45 UTC, at +11
    BOOST_TEST(z->to_utc(civil(2026, 10, 4, 2, 15)) == start);
    BOOST_TEST(z->to_utc(civil(2026, 10, 4, 2, 30)) == start);
}

// The footer alone must reproduce the transitions zic wrote into the fat files.
BOOST_AUTO_TEST_CASE(footers_match_the_transition_tables) {
    int compared = 0;
    for (const char* name :
         {"Europe/Berlin", "America/New_York", "America/Nuuk", "Asia/Jerusalem", "Africa/Cairo",
          "America/Santiago", "Australia/Lord_Howe", "Australia/Sydney", "Pacific/Auckland",
          "Europe/Dublin", "America/St_Johns"}) {
        if (!have(name)) {
            continue;
        }
        const std::string bytes = read_file(fs::path(kZoneinfo) / name);
        const auto newline = bytes.rfind('\n', bytes.size() - 2);
        BOOST_REQUIRE(newline != std::string::npos);
        const std::string footer = bytes.substr(newline + 1, bytes.size() - newline - 2);
        auto fat = TimeZone::parse(name, bytes);
        auto slim = footer_only(footer);
        BOOST_REQUIRE_MESSAGE(fat.has_value(), name);
        BOOST_REQUIRE_MESSAGE(slim.has_value(), name << ": " << footer);
        int mismatches = 0;
        for (std::int64_t t = civil(2027, 1, 1); t < civil(2037, 1, 1); t += 30 * 60) {
            if (fat->offset_at(t) != slim->offset_at(t) && mismatches++ < 3) {
                BOOST_ERROR(name << " " << footer << " differs at " << t);
            }
        }
        BOOST_TEST(mismatches == 0, name);
        ++compared;
    }
    BOOST_TEST(compared >= 2);
}

BOOST_AUTO_TEST_CASE(posix_rule_forms) {
    // Jn never counts February 29; n does.
    auto j = footer_only("<-03>3<-02>,J60/2,J300/2");
    auto n = footer_only("<-03>3<-02>,59/2,300/2");
    BOOST_REQUIRE(j.has_value());
    BOOST_REQUIRE(n.has_value());
    const std::int64_t mar1_2027 = 1803877200;  // 05:00 UTC = 02:00 at -03
    const std::int64_t feb29_2028 = 1835413200;
    const std::int64_t mar1_2028 = 1835499600;
    BOOST_TEST(j->offset_at(mar1_2027 - 1) == -3 * kHour);
    BOOST_TEST(j->offset_at(mar1_2027) == -2 * kHour);
    BOOST_TEST(j->offset_at(feb29_2028) == -3 * kHour);
    BOOST_TEST(j->offset_at(mar1_2028 - 1) == -3 * kHour);
    BOOST_TEST(j->offset_at(mar1_2028) == -2 * kHour);
    BOOST_TEST(n->offset_at(mar1_2027 - 1) == -3 * kHour);
    BOOST_TEST(n->offset_at(mar1_2027) == -2 * kHour);
    BOOST_TEST(n->offset_at(feb29_2028 - 1) == -3 * kHour);
    BOOST_TEST(n->offset_at(feb29_2028) == -2 * kHour);

    // Negative and over-24-hour times: 2027-03-27 23:00 local and 2027-11-01 01:00 local.
    auto odd = footer_only("<+01>-1<+02>,M3.5.0/-1,M10.5.0/25");
    BOOST_REQUIRE(odd.has_value());
    BOOST_TEST(odd->offset_at(1806184800 - 1) == 1 * kHour);
    BOOST_TEST(odd->offset_at(1806184800) == 2 * kHour);
    BOOST_TEST(odd->offset_at(1825023600 - 1) == 2 * kHour);
    BOOST_TEST(odd->offset_at(1825023600) == 1 * kHour);

    // Minutes and seconds in offsets and times; southern hemisphere.
    auto south = footer_only("<+0530>-5:30<+0630>-6:30,M10.1.0/2:30:15,M4.1.0/3");
    BOOST_REQUIRE(south.has_value());
    BOOST_TEST(south->offset_at(1806784200 - 1) == 6 * kHour + 30 * 60);
    BOOST_TEST(south->offset_at(1806784200) == 5 * kHour + 30 * 60);
    BOOST_TEST(south->offset_at(1822510815 - 1) == 5 * kHour + 30 * 60);
    BOOST_TEST(south->offset_at(1822510815) == 6 * kHour + 30 * 60);
    BOOST_TEST(south->offset_at(civil(2027, 1, 1)) == 6 * kHour + 30 * 60);

    // RFC 8536 §3.3.1: daylight time all year.
    auto always = footer_only("EST5EDT,0/0,J365/25");
    BOOST_REQUIRE(always.has_value());
    for (std::int64_t t = civil(2026, 12, 30); t < civil(2029, 1, 3); t += 1800) {
        BOOST_REQUIRE(always->offset_at(t) == -4 * kHour);
    }

    // Default daylight offset (one hour ahead) and a fixed zone.
    auto us = footer_only("EST5EDT,M3.2.0,M11.1.0");
    BOOST_REQUIRE(us.has_value());
    BOOST_TEST(us->offset_at(1772953200) == -4 * kHour);
    BOOST_TEST(us->offset_at(1772953200 - 1) == -5 * kHour);
    auto fixed = footer_only("<+03>-3");
    BOOST_REQUIRE(fixed.has_value());
    BOOST_TEST(fixed->offset_at(civil(2026, 7, 1)) == 3 * kHour);
    BOOST_TEST(fixed->offset_at(INT64_MIN) == 3 * kHour);
    BOOST_TEST(fixed->offset_at(INT64_MAX) == 3 * kHour);

    // Far away instants stay periodic and do not overflow.
    auto berlin = footer_only("CET-1CEST,M3.5.0,M10.5.0/3");
    BOOST_REQUIRE(berlin.has_value());
    const std::int64_t cycle = 146097LL * 86400;
    BOOST_TEST(berlin->offset_at(4109878800 + 1000 * cycle) == 2 * kHour);
    BOOST_TEST(berlin->offset_at(4109878800 - 1 - 1000 * cycle) == 1 * kHour);
    (void)berlin->offset_at(INT64_MAX);
    (void)berlin->offset_at(INT64_MIN);
    (void)berlin->to_utc(INT64_MAX);
    (void)berlin->to_utc(INT64_MIN);
}

BOOST_AUTO_TEST_CASE(transitions_then_footer) {
    // A slim file: one transition to CET in 1996, then the footer's rules.
    auto z =
        TimeZone::parse("Test/Slim", tzif('2', {civil(1996, 10, 27, 1)}, {1},
                                          {{7200, 1}, {3600, 0}}, "CET-1CEST,M3.5.0,M10.5.0/3"));
    BOOST_REQUIRE(z.has_value());
    BOOST_TEST(z->offset_at(civil(1996, 10, 27, 1) - 1) == 2 * kHour);
    BOOST_TEST(z->offset_at(civil(1996, 10, 27, 1)) == 1 * kHour);
    BOOST_TEST(z->offset_at(1774746000) == 2 * kHour);
    BOOST_TEST(z->to_utc(civil(2026, 3, 29, 2, 30)) == 1774746000);

    // An empty footer: the last transition holds for ever.
    auto frozen = TimeZone::parse("Test/Frozen", tzif('2', {0}, {1}, {{0}, {-7200}}, ""));
    BOOST_REQUIRE(frozen.has_value());
    BOOST_TEST(frozen->offset_at(-1) == 0);
    BOOST_TEST(frozen->offset_at(civil(2300, 1, 1)) == -7200);

    // Version 1 files: 32-bit times, no footer.
    auto v1 = TimeZone::parse("Test/V1", tzif('\0', {-100, 100}, {1, 0}, {{0}, {3600, 1}}, ""));
    BOOST_REQUIRE(v1.has_value());
    BOOST_TEST(v1->offset_at(-101) == 0);
    BOOST_TEST(v1->offset_at(-100) == 3600);
    BOOST_TEST(v1->offset_at(100) == 0);
}

BOOST_AUTO_TEST_CASE(malformed_files_are_rejected) {
    const std::string good = tzif('2', {0}, {1}, {{0}, {3600}}, "<+01>-1");
    BOOST_REQUIRE(TimeZone::parse("x", good).has_value());
    // Every strict prefix, and trailing bytes.
    for (std::size_t n = 0; n < good.size(); ++n) {
        BOOST_TEST(!TimeZone::parse("x", good.substr(0, n)).has_value(), n);
    }
    BOOST_TEST(!TimeZone::parse("x", good + "x").has_value());
    BOOST_TEST(!TimeZone::parse("x", good + "\n").has_value());

    auto patched = [&](std::size_t at, char c) {
        std::string s = good;
        s.at(at) = c;
        return TimeZone::parse("x", s).has_value();
    };
    BOOST_TEST(!patched(0, 'X'));  // magic
    BOOST_TEST(!patched(4, '5'));  // version
    BOOST_TEST(!patched(4, '1'));
    BOOST_TEST(!patched(35, 1));            // v1 header's timecnt, now beyond the data
    BOOST_TEST(!patched(43, 0x7F));         // v1 header's charcnt
    const std::size_t v2 = 44 + 6 + 4 + 2;  // the second header
    BOOST_TEST(!patched(v2 + 4, '3'));      // versions differ
    BOOST_TEST(!patched(v2 + 31, 1));       // leapcnt: leap seconds refused
    const std::size_t data = v2 + 44;
    BOOST_TEST(!patched(data + 8, 2));  // type index out of range

    BOOST_TEST(!TimeZone::parse("x", tzif('2', {5, 5}, {0, 0}, {{0}}, "")).has_value());
    BOOST_TEST(!TimeZone::parse("x", tzif('2', {6, 5}, {0, 0}, {{0}}, "")).has_value());
    BOOST_TEST(!TimeZone::parse("x", tzif('2', {}, {}, {}, "")).has_value());  // no types
    BOOST_TEST(!TimeZone::parse("x", tzif('2', {}, {}, {{100000}}, "")).has_value());
    BOOST_TEST(!TimeZone::parse("x", tzif('2', {}, {}, {{0, 2}}, "")).has_value());
    BOOST_TEST(!TimeZone::parse("x", tzif('2', {}, {}, {{INT32_MIN}}, "")).has_value());

    for (const char* footer : {"CET",
                               "CE-1",
                               "CET-1CEST",
                               "CET-1CEST,M3.5.0",
                               "CET-1CEST,M13.5.0,M10.5.0",
                               "CET-1CEST,M3.6.0,M10.5.0",
                               "CET-1CEST,M3.5.7,M10.5.0",
                               "CET-1CEST,M3.0.0,M10.5.0",
                               "CET-1CEST,M3.5.0,M10.5.0/168",
                               "CET-25",
                               "CET-1:60",
                               "<+03-3",
                               "<+3>-3",
                               "CET-1CEST,J0,J365",
                               "CET-1CEST,366,J365",
                               "CET-1CEST,M3.5.0,M10.5.0,",
                               "CET-1CEST,M3.5.0,M10.5.0/3x",
                               "CET-1 ",
                               "CET-001",
                               "CET-1CEST,M3.5.0,M10.5.0/-",
                               "CET-1CEST,M3..0,M10.5.0",
                               "CET-1CEST,M3.5.0,M10.5.0\n"}) {
        BOOST_TEST(!footer_only(footer).has_value(), footer);
    }
    BOOST_TEST(footer_only("CET-1CEST,M3.5.0,M10.5.0/167").has_value());
    BOOST_TEST(footer_only("CET-1CEST,M3.5.0,M10.5.0/-167:59:59").has_value());

    // Counts near 2^32 must not overflow or allocate.
    std::string huge = good;
    for (std::size_t i = 20; i < 44; ++i) huge.at(i) = '\xFF';
    BOOST_TEST(!TimeZone::parse("x", huge).has_value());
}

BOOST_AUTO_TEST_CASE(corrupt_files_on_disk) {
    TempDir dir;
    const std::string berlin = have("Europe/Berlin")
                                   ? read_file(fs::path(kZoneinfo) / "Europe/Berlin")
                                   : tzif('2', {0}, {0}, {{3600}}, "CET-1");
    dir.write("Good/Zone", berlin);
    dir.write("Cut/Zone", berlin.substr(0, berlin.size() / 2));
    dir.write("Empty/Zone", "");
    dir.write("Text/Zone", "Europe/Berlin\n");
    dir.write("Big/Zone", berlin + std::string(std::size_t{1} << 20, '\n'));
    fs::create_directories(dir.path / "Dir/Zone");
    const auto d = dir.path.string();
    BOOST_TEST(TimeZone::load("Good/Zone", d).has_value());
    for (const char* name :
         {"Cut/Zone", "Empty/Zone", "Text/Zone", "Big/Zone", "Dir/Zone", "Missing/Zone"}) {
        BOOST_TEST(!TimeZone::load(name, d).has_value(), name);
    }
    // Every truncation of a real file.
    for (std::size_t n = 0; n < berlin.size(); n += 7) {
        BOOST_TEST_REQUIRE(!TimeZone::parse("x", berlin.substr(0, n)).has_value(), n);
    }
}

// Random corruption must never crash (the fuzz target will go further).
BOOST_AUTO_TEST_CASE(mutated_files_do_not_crash) {
    const std::string base = have("America/New_York")
                                 ? read_file(fs::path(kZoneinfo) / "America/New_York")
                                 : tzif('2', {0}, {0}, {{-18000}}, "EST5EDT,M3.2.0,M11.1.0");
    std::mt19937 rng(12345);
    int loaded = 0;
    for (int round = 0; round < 3000; ++round) {
        std::string s = base;
        const int flips = 1 + static_cast<int>(rng() % 4);
        for (int k = 0; k < flips; ++k) {
            s.at(rng() % s.size()) = static_cast<char>(rng() & 0xFF);
        }
        if (round % 10 == 0) {
            s.resize(rng() % s.size());
        }
        if (auto z = TimeZone::parse("x", s)) {
            ++loaded;
            for (std::int64_t t : {std::int64_t{0}, civil(2026, 3, 8, 7), civil(2100, 1, 1)}) {
                const auto off = z->offset_at(t);
                BOOST_TEST_REQUIRE(off > -26 * kHour);
                BOOST_TEST_REQUIRE(off < 26 * kHour);
                (void)z->to_utc(t);
            }
        }
    }
    BOOST_TEST_MESSAGE("mutated files still valid: " << loaded);
}

BOOST_AUTO_TEST_SUITE_END()
