#include <boost/test/unit_test.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "http/metrics.hpp"

namespace cardsmith::http_server {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    return lines;
}

bool has_line(const std::vector<std::string>& lines, const std::string& wanted) {
    for (const auto& line : lines) {
        if (line == wanted) {
            return true;
        }
    }
    return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(metrics)

BOOST_AUTO_TEST_CASE(request_counter_and_histogram) {
    Metrics m;
    m.observe_request("/api/v1/cards/{cardNumber}", "GET", 200, 0.00390625);
    m.observe_request("/api/v1/cards/{cardNumber}", "GET", 200, 0.125);
    m.observe_request("/api/v1/cards/{cardNumber}", "GET", 404, 20.0);
    const auto lines = lines_of(m.render());

    BOOST_TEST(has_line(lines, "# TYPE cardsmith_http_requests_total counter"));
    BOOST_TEST(has_line(lines,
                        "cardsmith_http_requests_total{route=\"/api/v1/cards/{cardNumber}\","
                        "method=\"GET\",status=\"200\"} 2"));
    BOOST_TEST(has_line(lines,
                        "cardsmith_http_requests_total{route=\"/api/v1/cards/{cardNumber}\","
                        "method=\"GET\",status=\"404\"} 1"));
    BOOST_TEST(has_line(lines, "# TYPE cardsmith_http_request_duration_seconds histogram"));
    const std::string bucket =
        "cardsmith_http_request_duration_seconds_bucket{route=\"/api/v1/cards/{cardNumber}\",le=";
    BOOST_TEST(has_line(lines, bucket + "\"0.001\"} 0"));
    BOOST_TEST(has_line(lines, bucket + "\"0.005\"} 1"));
    BOOST_TEST(has_line(lines, bucket + "\"0.25\"} 2"));
    BOOST_TEST(has_line(lines, bucket + "\"10\"} 2"));
    BOOST_TEST(has_line(lines, bucket + "\"+Inf\"} 3"));
    BOOST_TEST(has_line(lines,
                        "cardsmith_http_request_duration_seconds_count"
                        "{route=\"/api/v1/cards/{cardNumber}\"} 3"));
    BOOST_TEST(has_line(lines,
                        "cardsmith_http_request_duration_seconds_sum"
                        "{route=\"/api/v1/cards/{cardNumber}\"} 20.12890625"));
}

BOOST_AUTO_TEST_CASE(every_sample_line_is_well_formed) {
    Metrics m;
    m.observe_request("/a", "POST", 201, 0.01);
    m.counter_add("cardsmith_push_sent_total", "Pushes sent.", {{"service", "apns"}}, 3);
    m.gauge_set("cardsmith_outbox_depth", "Rows waiting.", {}, 7);
    std::string family;
    for (const auto& line : lines_of(m.render())) {
        BOOST_REQUIRE(!line.empty());
        if (line.rfind("# HELP ", 0) == 0) {
            family = line.substr(7, line.find(' ', 7) - 7);
            continue;
        }
        if (line.rfind("# TYPE ", 0) == 0) {
            BOOST_TEST(line.substr(7, family.size()) == family);
            continue;
        }
        BOOST_TEST(line.rfind(family, 0) == 0u, line);  // samples follow their family header
        BOOST_TEST(line.find(' ') != std::string::npos, line);
    }
    const auto lines = lines_of(m.render());
    BOOST_TEST(has_line(lines, "# HELP cardsmith_push_sent_total Pushes sent."));
    BOOST_TEST(has_line(lines, "# TYPE cardsmith_push_sent_total counter"));
    BOOST_TEST(has_line(lines, "cardsmith_push_sent_total{service=\"apns\"} 3"));
    BOOST_TEST(has_line(lines, "# TYPE cardsmith_outbox_depth gauge"));
    BOOST_TEST(has_line(lines, "cardsmith_outbox_depth 7"));
}

BOOST_AUTO_TEST_CASE(label_values_are_escaped) {
    Metrics m;
    m.counter_add("cardsmith_test_total", "Help with \\ and\nnewline.", {{"v", "a\"b\\c\nd"}});
    const auto lines = lines_of(m.render());
    BOOST_TEST(has_line(lines, "cardsmith_test_total{v=\"a\\\"b\\\\c\\nd\"} 1"));
    BOOST_TEST(has_line(lines, "# HELP cardsmith_test_total Help with \\\\ and\\nnewline."));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace cardsmith::http_server
