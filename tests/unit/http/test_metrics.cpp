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

BOOST_AUTO_TEST_CASE(histogram_without_labels_and_with_them) {
    Metrics m;
    m.observe("cardsmith_pass_sign_duration_seconds", "Signing.", {}, 0.004);
    m.observe("cardsmith_x_seconds", "X.", {{"k", "v"}}, 0.5);
    const auto lines = lines_of(m.render());
    BOOST_TEST(has_line(lines, "# TYPE cardsmith_pass_sign_duration_seconds histogram"));
    BOOST_TEST(has_line(lines, "cardsmith_pass_sign_duration_seconds_bucket{le=\"0.0025\"} 0"));
    BOOST_TEST(has_line(lines, "cardsmith_pass_sign_duration_seconds_bucket{le=\"0.005\"} 1"));
    BOOST_TEST(has_line(lines, "cardsmith_pass_sign_duration_seconds_bucket{le=\"+Inf\"} 1"));
    BOOST_TEST(has_line(lines, "cardsmith_pass_sign_duration_seconds_count 1"));
    BOOST_TEST(has_line(lines, "cardsmith_pass_sign_duration_seconds_sum 0.004"));
    BOOST_TEST(has_line(lines, "cardsmith_x_seconds_bucket{k=\"v\",le=\"0.5\"} 1"));
    BOOST_TEST(has_line(lines, "cardsmith_x_seconds_count{k=\"v\"} 1"));
}

BOOST_AUTO_TEST_CASE(counter_set_mirrors_and_gauge_set_all_replaces) {
    Metrics m;
    m.counter_set("cardsmith_passes_signed_total", "Signed.", {}, 5);
    m.counter_set("cardsmith_passes_signed_total", "Signed.", {}, 7);
    m.gauge_set_all("cardsmith_certificate_days_left", "Days.",
                    {{{{"pass_type_id", "pass.a"}}, 300}, {{{"pass_type_id", "pass.b"}}, 12}});
    m.gauge_set_all("cardsmith_certificate_days_left", "Days.",
                    {{{{"pass_type_id", "pass.a"}}, 299}});
    const auto lines = lines_of(m.render());
    BOOST_TEST(has_line(lines, "# TYPE cardsmith_passes_signed_total counter"));
    BOOST_TEST(has_line(lines, "cardsmith_passes_signed_total 7"));
    BOOST_TEST(has_line(lines, "cardsmith_certificate_days_left{pass_type_id=\"pass.a\"} 299"));
    BOOST_TEST(!has_line(lines, "cardsmith_certificate_days_left{pass_type_id=\"pass.b\"} 12"));
}

BOOST_AUTO_TEST_CASE(collectors_run_at_collect) {
    Metrics m;
    int runs = 0;
    m.add_collector([&runs](Metrics& self) {
        ++runs;
        self.gauge_set("cardsmith_db_pool_busy", "Busy.", {}, runs);
    });
    BOOST_TEST(m.render().find("cardsmith_db_pool_busy") == std::string::npos);
    m.collect();
    m.collect();
    BOOST_TEST(runs == 2);
    BOOST_TEST(has_line(lines_of(m.render()), "cardsmith_db_pool_busy 2"));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace cardsmith::http_server
