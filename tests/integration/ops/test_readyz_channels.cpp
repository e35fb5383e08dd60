// /readyz reports the push channels in its body (APNs per identity: idle, connected,
// refused, unreachable) and stays 200 through an APNs refusal or outage: readiness is the
// database and the signing certificate only (app/channels.hpp). /metrics says the same.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "dev_pki.hpp"
#include "fake_apns.hpp"
#include "ops_world.hpp"
#include "pkpass_reader.hpp"

using namespace cardsmith;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

constexpr const char* kToken = "00000000000000000000000000000000000000000000000000000000000ab001";

testing::FakeApnsOptions fake_options() {
    auto& pki = test::DevPki::shared();
    testing::FakeApnsOptions o;
    o.cert_file = (pki.dir.path() / "server.pem").string();
    o.key_file = (pki.dir.path() / "server.key").string();
    o.ca_file = pki.root();
    return o;
}

std::string apns_toml(std::uint16_t port) {
    return "[apns]\nhost = \"127.0.0.1\"\nport = " + std::to_string(port) + "\nca_file = \"" +
           test::DevPki::shared().root() +
           "\"\nconnections = 1\nretry_base_ms = 100\nretry_max_ms = 400\n"
           "identity_pause_ms = 60000\ntimeout_ms = 2000\n";
}

// A card on a device: its pass registered for pushes through Apple's web service.
struct Registered {
    test::Shop& shop;
    json::object card;
    explicit Registered(test::Shop& s) : shop(s), card(s.card("anna@example.com")) {
        auto pass = json::parse(test::unzip(shop.pkpass(card))["pass.json"]).as_object();
        const std::string type(pass.at("passTypeIdentifier").as_string());
        const std::string serial(pass.at("serialNumber").as_string());
        const std::string auth =
            "ApplePass " + std::string(pass.at("authenticationToken").as_string());
        auto r = shop.client.request(
            test::bhttp::verb::post, "/apple/v1/devices/dev1/registrations/" + type + "/" + serial,
            json::serialize(json::object{{"pushToken", kToken}}),
            {{"Authorization", auth}, {"Content-Type", "application/json"}});
        BOOST_REQUIRE_EQUAL(r.result_int(), 201);
    }
    void transaction(int points) {
        auto r = shop.client.request(
            test::bhttp::verb::post,
            "/api/v1/cards/" + std::string(card.at("cardNumber").as_string()) + "/transactions",
            json::serialize(json::object{{"points", points}}),
            {{"Authorization", "Bearer " + shop.key}, {"Content-Type", "application/json"}});
        BOOST_REQUIRE_EQUAL(r.result_int(), 201);
    }
};

json::object readyz(test::Client& client, unsigned expected_status = 200) {
    auto r = client.get("/readyz");
    BOOST_TEST(r.result_int() == expected_status, r.body());
    return test::json_of(r).as_object();
}

json::object own_channel(const json::object& ready) {
    for (const auto& c : ready.at("channels").at("apns").as_array()) {
        if (c.at("passTypeId").as_string() == "pass.dev.cardsmith") {
            return c.as_object();
        }
    }
    BOOST_FAIL("no APNs channel for the server's identity: " + json::serialize(ready));
    return {};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(readyz_channels)

BOOST_AUTO_TEST_CASE(idle_connected_then_refused_and_still_ready) {
    testing::FakeApns apns(fake_options());
    test::ServerProcess server(apns_toml(apns.port()), {}, test::DevPki::shared().dir.path());
    test::Shop shop(server);

    auto ready = readyz(shop.client);
    BOOST_TEST(ready.at("status").as_string() == "ready");
    BOOST_TEST(ready.at("storage").as_string() == "ok");
    BOOST_TEST(ready.at("push").as_string() == "ok");
    BOOST_TEST(own_channel(ready).at("state").as_string() == "idle");  // no push yet

    Registered device(shop);
    device.transaction(5);
    BOOST_REQUIRE(apns.wait_for_count(1, 10s));
    BOOST_REQUIRE(test::eventually(
        [&] { return own_channel(readyz(shop.client)).at("state").as_string() == "connected"; }));
    BOOST_TEST(own_channel(readyz(shop.client)).at("connections").as_int64() == 1);
    auto m = test::scrape(shop.client);
    BOOST_TEST(m.at("cardsmith_apns_connections{pass_type_id=\"pass.dev.cardsmith\"}") == 1);
    BOOST_TEST(m.at("cardsmith_push_channel_up{channel=\"pass.dev.cardsmith\"}") == 1);

    // APNs refuses the certificate: reported, the pushes wait, the server stays ready.
    apns.reply_all({403, "BadCertificate", std::nullopt, 0});
    device.transaction(5);
    BOOST_REQUIRE(test::eventually(
        [&] { return own_channel(readyz(shop.client)).at("state").as_string() == "refused"; }));
    ready = readyz(shop.client, 200);
    BOOST_TEST(ready.at("status").as_string() == "ready");
    BOOST_TEST(ready.at("push").as_string() == "down");
    BOOST_TEST(std::string(own_channel(ready).at("reason").as_string()).find("BadCertificate") !=
               std::string::npos);
    m = test::scrape(shop.client);
    BOOST_TEST(m.at("cardsmith_push_channel_up{channel=\"pass.dev.cardsmith\"}") == 0);
}

BOOST_AUTO_TEST_CASE(an_unreachable_apns_is_reported_not_unready) {
    // A port nothing listens on: every connection attempt fails.
    std::uint16_t dead_port = 0;
    {
        testing::FakeApns gone(fake_options());
        dead_port = gone.port();
    }
    test::ServerProcess server(apns_toml(dead_port), {}, test::DevPki::shared().dir.path());
    test::Shop shop(server);
    Registered device(shop);
    device.transaction(5);
    BOOST_REQUIRE(test::eventually(
        [&] { return own_channel(readyz(shop.client)).at("state").as_string() == "unreachable"; },
        15s));
    auto ready = readyz(shop.client, 200);
    BOOST_TEST(ready.at("status").as_string() == "ready");
    BOOST_TEST(ready.at("push").as_string() == "degraded");
    BOOST_TEST(!own_channel(ready).at("reason").as_string().empty());
    BOOST_TEST(own_channel(ready).at("connectFailures").as_int64() >= 1);
    auto m = test::scrape(shop.client);
    BOOST_TEST(m.at("cardsmith_apns_connect_failures_total{pass_type_id=\"pass.dev.cardsmith\"}") >=
               1);
    BOOST_TEST(m.at("cardsmith_apns_connections{pass_type_id=\"pass.dev.cardsmith\"}") == 0);
}

BOOST_AUTO_TEST_SUITE_END()
