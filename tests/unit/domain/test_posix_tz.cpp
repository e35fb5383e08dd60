#include <boost/test/unit_test.hpp>

#include "domain/posix_tz.hpp"

using namespace cardsmith::domain;

BOOST_AUTO_TEST_SUITE(posix_tz_suite)

// The rule on its own (TimeZone's tests cover it inside TZif footers).
BOOST_AUTO_TEST_CASE(parses_a_rule_and_applies_it) {
    auto berlin = PosixTz::parse("CET-1CEST,M3.5.0,M10.5.0/3");
    BOOST_REQUIRE(berlin.has_value());
    BOOST_TEST(berlin->std_offset == 3600);
    BOOST_TEST(berlin->has_dst);
    BOOST_TEST(berlin->dst_offset == 7200);
    BOOST_TEST((berlin->start.kind == PosixTz::Date::Kind::month_week_day));
    BOOST_TEST(berlin->start.month == 3);
    BOOST_TEST(berlin->start.week == 5);
    BOOST_TEST(berlin->start.time == 7200);  // the default
    BOOST_TEST(berlin->end.time == 3 * 3600);
    // 2024-03-31T01:00:00Z: summer time starts; 2024-10-27T01:00:00Z: it ends.
    BOOST_TEST(berlin->offset_at(1711846800 - 1) == 3600);
    BOOST_TEST(berlin->offset_at(1711846800) == 7200);
    BOOST_TEST(berlin->offset_at(1729990800 - 1) == 7200);
    BOOST_TEST(berlin->offset_at(1729990800) == 3600);

    auto fixed = PosixTz::parse("<+0530>-5:30");
    BOOST_REQUIRE(fixed.has_value());
    BOOST_TEST(!fixed->has_dst);
    BOOST_TEST(fixed->offset_at(0) == 5 * 3600 + 30 * 60);
}

BOOST_AUTO_TEST_CASE(refuses_what_footers_never_hold) {
    for (const char* text : {"", "CET", "CET-1CEST", "CET-1CEST,M3.5.0", "CET-1 ", "<+03-3"}) {
        BOOST_TEST(!PosixTz::parse(text).has_value(), text);
    }
}

BOOST_AUTO_TEST_SUITE_END()
