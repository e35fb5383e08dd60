#include <boost/test/unit_test.hpp>

#include "common/time_format.hpp"

using namespace cardsmith;

BOOST_AUTO_TEST_SUITE(time_format)

BOOST_AUTO_TEST_CASE(iso8601_without_fractions) {
    SysTime t{std::chrono::seconds(1764000000)};
    BOOST_TEST(format_iso8601(t) == "2025-11-24T16:00:00Z");
    BOOST_TEST(format_iso8601(t + std::chrono::milliseconds(123)) == "2025-11-24T16:00:00Z");
}

BOOST_AUTO_TEST_CASE(iso8601_of_unix_times_beyond_2262) {
    BOOST_TEST(format_iso8601_unix(1764000000) == "2025-11-24T16:00:00Z");
    BOOST_TEST(format_iso8601_unix(0) == "1970-01-01T00:00:00Z");
    BOOST_TEST(format_iso8601_unix(253402300799) == "9999-12-31T23:59:59Z");
    BOOST_TEST(format_iso8601_unix_ms(253402300799999) == "9999-12-31T23:59:59Z");
    BOOST_TEST(format_iso8601_unix_ms(-1) == "1969-12-31T23:59:59Z");
}

BOOST_AUTO_TEST_CASE(http_dates_round_trip) {
    BOOST_TEST(format_http_date(784111777) == "Sun, 06 Nov 1994 08:49:37 GMT");
    BOOST_TEST(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").value() == 784111777);
    for (std::int64_t s : {0LL, 1764000000LL, 4102444799LL}) {
        BOOST_TEST(parse_http_date(format_http_date(s)).value() == s);
    }
    BOOST_TEST(!parse_http_date("yesterday"));
    BOOST_TEST(!parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"));
    BOOST_TEST(!parse_http_date(""));
}

BOOST_AUTO_TEST_SUITE_END()
