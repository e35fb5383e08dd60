// /metrics on the real server: every family issue 7 asks for is exported with the right
// TYPE, and the values move with the work done (a pass signed, database calls).
#include <boost/test/unit_test.hpp>

#include "ops_world.hpp"

using namespace cardsmith;

BOOST_AUTO_TEST_SUITE(metrics_scrape)

BOOST_AUTO_TEST_CASE(families_exist_with_their_types) {
    test::ServerProcess server;
    test::Client client(server.port());
    BOOST_TEST(client.get("/healthz").result_int() == 200);
    // The dispatcher writes the outbox gauges on its first round; a scrape may come first.
    BOOST_REQUIRE(test::eventually([&] {
        return test::scrape(client).value("cardsmith_outbox_oldest_pending_seconds").has_value();
    }));
    const auto m = test::scrape(client);
    const std::map<std::string, std::string> expected = {
        {"cardsmith_http_requests_total", "counter"},
        {"cardsmith_http_request_duration_seconds", "histogram"},
        {"cardsmith_passes_signed_total", "counter"},
        {"cardsmith_pass_cache_hits_total", "counter"},
        {"cardsmith_pass_cache_bytes", "gauge"},
        {"cardsmith_db_pool_threads", "gauge"},
        {"cardsmith_db_pool_busy", "gauge"},
        {"cardsmith_db_pool_queued", "gauge"},
        {"cardsmith_db_calls_total", "counter"},
        {"cardsmith_db_wait_seconds_total", "counter"},
        {"cardsmith_db_busy_seconds_total", "counter"},
        {"cardsmith_certificate_days_left", "gauge"},
        {"cardsmith_certificate_not_after_seconds", "gauge"},
        {"cardsmith_outbox_rows", "gauge"},
        {"cardsmith_outbox_oldest_pending_seconds", "gauge"},
        {"cardsmith_apns_connections", "gauge"},
        {"cardsmith_apns_queued", "gauge"},
        {"cardsmith_push_channel_up", "gauge"},
    };
    for (const auto& [family, type] : expected) {
        auto it = m.types.find(family);
        BOOST_TEST_CONTEXT(family) {
            BOOST_REQUIRE(it != m.types.end());
            BOOST_TEST(it->second == type);
        }
    }
    BOOST_TEST(m.at("cardsmith_passes_signed_total") == 0);
    BOOST_TEST(m.at("cardsmith_db_pool_threads") >= 1);
    BOOST_TEST(m.at("cardsmith_db_pool_busy") >= 0);
    BOOST_TEST(m.at("cardsmith_db_pool_queued") >= 0);
    BOOST_TEST(m.at("cardsmith_db_calls_total") >= 1);  // the dispatcher's first claim at least
    // Fresh dev certificates are valid for 825 days.
    const auto days = m.at("cardsmith_certificate_days_left{pass_type_id=\"pass.dev.cardsmith\"}");
    BOOST_TEST(days >= 823);
    BOOST_TEST(days <= 825);
    BOOST_TEST(m.at("cardsmith_apns_connections{pass_type_id=\"pass.dev.cardsmith\"}") == 0);
    BOOST_TEST(m.at("cardsmith_outbox_rows{state=\"dead\"}") == 0);
}

BOOST_AUTO_TEST_CASE(signing_a_pass_moves_the_counters) {
    test::ServerProcess server;
    test::Shop shop(server);
    auto card = shop.card("anna@example.com");
    const auto before = test::scrape(shop.client);
    BOOST_TEST(!before.value("cardsmith_pass_sign_duration_seconds_count").has_value());

    (void)shop.pkpass(card);
    const auto after = test::scrape(shop.client);
    BOOST_TEST(after.at("cardsmith_passes_signed_total") ==
               before.at("cardsmith_passes_signed_total") + 1);
    BOOST_TEST(after.at("cardsmith_pass_sign_duration_seconds_count") == 1);
    BOOST_TEST(after.at("cardsmith_pass_sign_duration_seconds_sum") > 0);
    BOOST_TEST(after.at("cardsmith_pass_sign_duration_seconds_bucket{le=\"+Inf\"}") == 1);
    BOOST_TEST(after.at("cardsmith_db_calls_total") > before.at("cardsmith_db_calls_total"));
    BOOST_TEST(after.at("cardsmith_db_busy_seconds_total") >
               before.at("cardsmith_db_busy_seconds_total"));

    // The same pass again comes from the cache: no signing, one more cache hit.
    (void)shop.pkpass(card);
    const auto cached = test::scrape(shop.client);
    BOOST_TEST(cached.at("cardsmith_passes_signed_total") ==
               after.at("cardsmith_passes_signed_total"));
    BOOST_TEST(cached.at("cardsmith_pass_cache_hits_total") ==
               after.at("cardsmith_pass_cache_hits_total") + 1);
    BOOST_TEST(cached.at("cardsmith_http_requests_total{route=\"/api/v1/programs/{slug}/cards\","
                         "method=\"POST\",status=\"201\"}") == 1);
}

BOOST_AUTO_TEST_SUITE_END()
