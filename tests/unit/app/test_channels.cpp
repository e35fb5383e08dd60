// The push channels' state for /readyz and /metrics (app/channels.hpp).
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "app/channels.hpp"

namespace cardsmith::app {
namespace {

apns::ClientStats stats(unsigned up, const std::string& last_error = {}) {
    apns::ClientStats s;
    s.connections_up = up;
    s.connect_failures = last_error.empty() ? 0 : 3;
    s.last_connect_error = last_error;
    return s;
}

push::IdentityHealth route(const std::string& topic, bool healthy, const std::string& reason = {}) {
    push::IdentityHealth h;
    h.topic = topic;
    h.healthy = healthy;
    h.reason = reason;
    return h;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(channels)

BOOST_AUTO_TEST_CASE(apns_states) {
    const std::vector<push::IdentityHealth> none;
    BOOST_TEST(apns_channel("pass.a", stats(0), none).state == "idle");
    BOOST_TEST(apns_channel("pass.a", stats(2), none).state == "connected");
    BOOST_TEST(apns_channel("pass.a", stats(2), none).connections == 2u);
    const auto down = apns_channel("pass.a", stats(0, "connection refused"), none);
    BOOST_TEST(down.state == "unreachable");
    BOOST_TEST(down.reason == "connection refused");
    BOOST_TEST(down.connect_failures == 3u);
    // A refusal wins over a live connection (APNs answers, with 403).
    const auto refused =
        apns_channel("pass.a", stats(1), {route("pass.a", false, "403 BadCertificate")});
    BOOST_TEST(refused.state == "refused");
    BOOST_TEST(refused.reason == "403 BadCertificate");
    BOOST_TEST(apns_channel("pass.a", stats(1), {route("pass.b", false, "x")}).state ==
               "connected");
}

BOOST_AUTO_TEST_CASE(push_summary_down_only_for_the_own_identity) {
    const std::vector<push::IdentityHealth> ok{route("pass.own", true)};
    std::vector<ApnsChannel> apns{apns_channel("pass.own", stats(1), ok)};
    BOOST_TEST(push_summary("pass.own", apns, ok, std::nullopt) == "ok");
    BOOST_TEST(push_summary("pass.own", apns, {route("pass.own", false, "403")}, std::nullopt) ==
               "down");
    BOOST_TEST(push_summary("pass.own", apns, {route("walletunion_fcm pass.own", false, "403")},
                            std::nullopt) == "degraded");
    apns.push_back(apns_channel("pass.other", stats(0, "timeout"), ok));
    BOOST_TEST(push_summary("pass.own", apns, ok, std::nullopt) == "degraded");

    std::vector<ApnsChannel> fine{apns_channel("pass.own", stats(1), ok)};
    GoogleChannel g;
    g.probe = "unchecked";
    g.token = "unchecked";
    BOOST_TEST(push_summary("pass.own", fine, ok, g) == "ok");
    g.probe = "ok";
    g.token = "failing";
    BOOST_TEST(push_summary("pass.own", fine, ok, g) == "degraded");
    g.token = "ok";
    g.probe = "refused: not a user of the issuer";
    BOOST_TEST(push_summary("pass.own", fine, ok, g) == "degraded");
}

BOOST_AUTO_TEST_CASE(json_and_metrics) {
    std::vector<ApnsChannel> apns{apns_channel("pass.own", stats(0, "refused"), {})};
    GoogleChannel g;
    g.probe = "ok";
    g.token = "failing";
    g.token_error = "token endpoint answered 400: invalid_grant";
    g.token_refreshes = 4;
    const auto j = channels_json(apns, g);
    BOOST_TEST(j.at("apns").as_array().at(0).at("state").as_string() == "unreachable");
    BOOST_TEST(j.at("apns").as_array().at(0).at("reason").as_string() == "refused");
    BOOST_TEST(j.at("google").at("token").as_string() == "failing");
    BOOST_TEST(j.at("google").at("tokenError").as_string() ==
               "token endpoint answered 400: invalid_grant");
    BOOST_TEST(!channels_json(apns, std::nullopt).contains("google"));

    http_server::Metrics m;
    export_channel_metrics(m, apns, {route("pass.own", false, "403"), route("google_object", true)},
                           g);
    const auto text = m.render();
    BOOST_TEST(text.find("cardsmith_apns_connections{pass_type_id=\"pass.own\"} 0\n") !=
               std::string::npos);
    BOOST_TEST(text.find("cardsmith_apns_connect_failures_total{pass_type_id=\"pass.own\"} 3\n") !=
               std::string::npos);
    BOOST_TEST(text.find("cardsmith_push_channel_up{channel=\"pass.own\"} 0\n") !=
               std::string::npos);
    BOOST_TEST(text.find("cardsmith_push_channel_up{channel=\"google_object\"} 1\n") !=
               std::string::npos);
    BOOST_TEST(text.find("cardsmith_google_up 0\n") != std::string::npos);
    BOOST_TEST(text.find("cardsmith_google_token_refreshes_total 4\n") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace cardsmith::app
