// The abuse limits against the real server (issue 8 item 3; docs/security.md "Limits"):
// per-address and per-key rates answer 429 with Retry-After before anything runs, failed
// authentications throttle an address (a key that worked keeps working), /join has its own
// hourly limit, and the maxima of cards per program and devices per pass hold. Every refusal
// leaves the database as it was.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <thread>

#include "http_client.hpp"
#include "join_forms.hpp"
#include "pkpass_reader.hpp"
#include "server_process.hpp"
#include "test_db.hpp"

using namespace cardsmith;
namespace json = boost::json;
using test::bhttp::verb;
using namespace std::chrono_literals;

namespace {

struct Shop {
    test::ServerProcess server;
    test::Client client{server.port()};
    std::string key;
    std::int64_t merchant_id = 0;

    explicit Shop(const std::string& limits, const std::map<std::string, std::string>& env = {})
        : server("[limits]\n" + limits, env) {
        auto m = client.post_json("/api/v1/merchants", {{"name", "Bean"}}, server.admin_key());
        BOOST_REQUIRE_EQUAL(m.result_int(), 201);
        key = std::string(test::json_of(m).at("apiKey").as_string());
        merchant_id = test::json_of(m).at("id").as_int64();
        auto p = client.post_json(
            "/api/v1/programs", {{"slug", "bean"}, {"name", "Bean"}, {"template", "coffee"}}, key);
        BOOST_REQUIRE_EQUAL(p.result_int(), 201);
    }
    test::Response new_card(const std::string& slug = "bean") {
        return client.post_json("/api/v1/programs/" + slug + "/cards",
                                {{"holder", {{"name", "Ann"}}}}, key);
    }
    std::int64_t count(const std::string& table) {
        return test::table_counts(server.storage_url()).at(table);
    }
};

int retry_after(const test::Response& r) {
    const std::string value(r[test::bhttp::field::retry_after]);
    BOOST_REQUIRE_MESSAGE(!value.empty(), "429 without Retry-After");
    return std::stoi(value);
}

void check_rate_limited_json(const test::Response& r) {
    BOOST_TEST(r.result_int() == 429);
    BOOST_TEST(std::string(test::json_of(r).at("error").at("code").as_string()) == "rate_limited");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(abuse_limits)

BOOST_AUTO_TEST_CASE(an_address_past_its_rate_gets_429_with_retry_after_and_then_its_turn) {
    // 12 a minute: a token every 5 s, bursts of 5. Behind a proxy each client is its own.
    Shop shop("ip_per_minute = 12\nip_burst = 5\n",
              {{"CARDSMITH_SERVER_TRUST_FORWARDED_FOR", "true"}});
    test::Client c(shop.server.port());
    auto page = [&](const std::string& from) {
        return c.request(verb::get, "/join/bean", "",
                         {{"X-Forwarded-For", "203.0.113.7, " + from}});
    };
    for (int i = 0; i < 5; ++i) {
        BOOST_TEST(page("198.51.100.1").result_int() == 200);
    }
    auto refused = page("198.51.100.1");
    BOOST_TEST(refused.result_int() == 429);
    BOOST_TEST(retry_after(refused) >= 1);
    BOOST_TEST(retry_after(refused) <= 5);
    BOOST_TEST(std::string(refused[test::bhttp::field::content_type]).starts_with("text/plain"));
    BOOST_TEST(refused.body().find("try again in " + std::to_string(retry_after(refused)) +
                                   " seconds") != std::string::npos);
    // Another client behind the same proxy, and the health checks, go on.
    BOOST_TEST(page("198.51.100.2").result_int() == 200);
    BOOST_TEST(c.get("/healthz").result_int() == 200);
    for (int i = 0; i < 20; ++i) {
        BOOST_TEST(c.get("/readyz").result_int() == 200);
    }
    // Waiting Retry-After is enough.
    std::this_thread::sleep_for(std::chrono::seconds(retry_after(refused)) + 50ms);
    BOOST_TEST(page("198.51.100.1").result_int() == 200);
    BOOST_TEST(page("198.51.100.1").result_int() == 429);
    auto metrics = c.get("/metrics");
    BOOST_TEST(metrics.body().find("cardsmith_rate_limited_total{limit=\"address\"} 2") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_api_key_past_its_rate_gets_429_and_changes_nothing) {
    Shop shop("key_per_minute = 1\nkey_burst = 3\n");
    // The fixture used the key twice (merchant creation was the admin's).
    auto card = shop.new_card();
    BOOST_REQUIRE_EQUAL(card.result_int(), 201);
    const std::string number(test::json_of(card).at("cardNumber").as_string());
    auto tx = shop.client.request(
        verb::post, "/api/v1/cards/" + number + "/transactions", R"({"points": 5})",
        {{"Authorization", "Bearer " + shop.key}, {"Content-Type", "application/json"}});
    BOOST_REQUIRE_EQUAL(tx.result_int(), 201);
    const auto before = test::table_counts(shop.server.storage_url());
    auto refused = shop.client.request(
        verb::post, "/api/v1/cards/" + number + "/transactions", R"({"points": 5})",
        {{"Authorization", "Bearer " + shop.key}, {"Content-Type", "application/json"}});
    check_rate_limited_json(refused);
    BOOST_TEST(retry_after(refused) > 50);  // one a minute
    BOOST_TEST(retry_after(refused) <= 60);
    BOOST_TEST(test::table_counts(shop.server.storage_url()) == before);
    // Another key (the admin's) has its own bucket.
    auto other = shop.client.get("/api/v1/cards/" + number, shop.server.admin_key());
    BOOST_REQUIRE_EQUAL(other.result_int(), 200);
    BOOST_TEST(test::json_of(other).at("balance").as_int64() == 5);
}

BOOST_AUTO_TEST_CASE(failed_authentications_throttle_an_address_but_not_a_key_that_worked) {
    Shop shop("auth_failures = 5\nauth_failures_per_minute = 1\n");
    // A second merchant whose key has not been used from here yet.
    auto m =
        shop.client.post_json("/api/v1/merchants", {{"name", "Other"}}, shop.server.admin_key());
    BOOST_REQUIRE_EQUAL(m.result_int(), 201);
    const std::string unused(test::json_of(m).at("apiKey").as_string());
    auto card = shop.new_card();
    BOOST_REQUIRE_EQUAL(card.result_int(), 201);
    const std::string number(test::json_of(card).at("cardNumber").as_string());

    test::Client attacker(shop.server.port());
    for (int i = 0; i < 5; ++i) {
        auto r = attacker.get("/api/v1/cards/" + number, "guess-" + std::to_string(i));
        BOOST_TEST(r.result_int() == 401);
    }
    auto blocked = attacker.get("/api/v1/cards/" + number, "guess-5");
    check_rate_limited_json(blocked);
    BOOST_TEST(retry_after(blocked) == 60);  // one more try a minute
    BOOST_TEST(attacker.get("/api/v1/cards/" + number).result_int() == 429);  // no key either
    // Apple's web service counts against the same address: a wrong pass token is refused too.
    auto device = attacker.request(verb::post,
                                   "/apple/v1/devices/abc123/registrations/pass.dev.cardsmith/nope",
                                   R"({"pushToken":"00"})", {{"Authorization", "ApplePass x"}});
    BOOST_TEST(device.result_int() == 429);
    // The merchant's key (it worked from here) still works; an unproven one waits.
    BOOST_TEST(shop.client.get("/api/v1/cards/" + number, shop.key).result_int() == 200);
    BOOST_TEST(shop.client.get("/api/v1/programs", unused).result_int() == 429);
    // Pages are not behind the authentication throttle.
    BOOST_TEST(attacker.get("/join/bean").result_int() == 200);
    // A key that worked, then revoked, proves nothing: after its first 401 it waits too.
    auto rotated =
        shop.client.post_json("/api/v1/merchants/" + std::to_string(shop.merchant_id) + "/keys",
                              {{"graceSeconds", 0}}, shop.key);
    BOOST_REQUIRE_EQUAL(rotated.result_int(), 201);
    BOOST_TEST(shop.client.get("/api/v1/cards/" + number, shop.key).result_int() == 401);
    BOOST_TEST(shop.client.get("/api/v1/cards/" + number, shop.key).result_int() == 429);
}

BOOST_AUTO_TEST_CASE(joins_have_their_own_hourly_limit_per_address) {
    Shop shop("joins_per_hour = 60\njoin_burst = 2\n");
    const auto cards_before = shop.count("cards");
    auto join = [&](const std::string& name) {
        test::Client c(shop.server.port());
        auto form = test::open_form(c, "/join/bean");
        return c.request(
            verb::post, "/join/bean",
            test::form_encode({{"name", name},
                               {"email", name + "@example.com"},
                               {"consent", "on"},
                               {"csrf", form.csrf}}),
            {{"Content-Type", "application/x-www-form-urlencoded"}, {"Cookie", form.cookie}});
    };
    BOOST_TEST(join("ann").result_int() == 303);
    BOOST_TEST(join("bob").result_int() == 303);
    auto refused = join("eve");
    BOOST_TEST(refused.result_int() == 429);
    BOOST_TEST(retry_after(refused) == 60);  // 60 an hour: one a minute
    BOOST_TEST(shop.count("cards") == cards_before + 2);
}

BOOST_AUTO_TEST_CASE(a_program_stops_at_its_card_limit_others_go_on) {
    Shop shop("max_cards_per_program = 3\n");
    for (int i = 0; i < 3; ++i) {
        BOOST_REQUIRE_EQUAL(shop.new_card().result_int(), 201);
    }
    auto full = shop.new_card();
    BOOST_TEST(full.result_int() == 403);
    BOOST_TEST(std::string(test::json_of(full).at("error").at("code").as_string()) ==
               "limit_reached");
    BOOST_TEST(shop.count("cards") == 3);
    // Through the join form as well.
    test::Client c(shop.server.port());
    auto form = test::open_form(c, "/join/bean");
    auto joined =
        c.request(verb::post, "/join/bean",
                  test::form_encode({{"name", "Zoe"},
                                     {"email", "zoe@example.com"},
                                     {"consent", "on"},
                                     {"csrf", form.csrf}}),
                  {{"Content-Type", "application/x-www-form-urlencoded"}, {"Cookie", form.cookie}});
    BOOST_TEST(joined.result_int() == 403);
    // A page for the customer, not the API's JSON.
    BOOST_TEST(std::string(joined[test::bhttp::field::content_type]).starts_with("text/html"));
    BOOST_TEST(joined.body().find("not taking new members") != std::string::npos);
    BOOST_TEST(shop.count("cards") == 3);
    // Another program has its own count.
    auto p = shop.client.post_json(
        "/api/v1/programs", {{"slug", "tea"}, {"name", "Tea"}, {"template", "coffee"}}, shop.key);
    BOOST_REQUIRE_EQUAL(p.result_int(), 201);
    BOOST_TEST(shop.new_card("tea").result_int() == 201);
    BOOST_TEST(shop.count("cards") == 4);
}

BOOST_AUTO_TEST_CASE(a_pass_registers_on_at_most_max_devices) {
    Shop shop("max_devices_per_pass = 2\n");
    auto card = shop.new_card();
    BOOST_REQUIRE_EQUAL(card.result_int(), 201);
    const json::object c = test::json_of(card).as_object();
    const std::string serial(c.at("serial").as_string());
    // The pass's token, from the pass itself.
    std::string pkpass(c.at("links").at("pkpass").as_string());
    pkpass = pkpass.substr(pkpass.find("/p/"));
    auto bytes = shop.client.get(pkpass);
    BOOST_REQUIRE_EQUAL(bytes.result_int(), 200);
    const auto pass = json::parse(test::unzip(bytes.body())["pass.json"]).as_object();
    const std::string auth = "ApplePass " + std::string(pass.at("authenticationToken").as_string());
    const std::string type(pass.at("passTypeIdentifier").as_string());
    auto reg = [&](const std::string& device, verb method = verb::post) {
        return shop.client.request(
            method, "/apple/v1/devices/" + device + "/registrations/" + type + "/" + serial,
            method == verb::post
                ? json::serialize(json::object{{"pushToken", std::string(64, 'a')}})
                : "",
            {{"Authorization", auth}, {"Content-Type", "application/json"}});
    };
    BOOST_TEST(reg("phone").result_int() == 201);
    BOOST_TEST(reg("watch").result_int() == 201);
    const auto before = test::table_counts(shop.server.storage_url());
    auto third = reg("tablet");
    BOOST_TEST(third.result_int() == 403);
    BOOST_TEST(test::table_counts(shop.server.storage_url()) == before);
    BOOST_TEST(reg("phone").result_int() == 200);  // a known device re-registers
    BOOST_TEST(reg("watch", verb::delete_).result_int() == 200);
    BOOST_TEST(reg("tablet").result_int() == 201);  // a freed place is taken
}

BOOST_AUTO_TEST_SUITE_END()
