// Apple's web service and the points ledger against the real server process: a device
// registers with the token from the signed pass, the till posts transactions, the device
// asks what changed and fetches the new pass; idempotency, insufficient balance, auth.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <thread>

#include "http_client.hpp"
#include "pkpass_reader.hpp"
#include "server_process.hpp"
#include "test_util.hpp"

using namespace cardsmith;
namespace json = boost::json;
using test::bhttp::verb;

namespace {

using test::path_of;

struct Device {
    std::string id;
    std::string token;
};

struct Wallet {
    test::ServerProcess server;
    test::Client client{server.port()};
    std::string key;
    json::object card;
    json::object pass;  // pass.json of the issued card

    Wallet() {
        auto m =
            client.post_json("/api/v1/merchants", {{"name", "Bean There"}}, server.admin_key());
        BOOST_REQUIRE_EQUAL(m.result_int(), 201);
        key = std::string(test::json_of(m).at("apiKey").as_string());
        auto p = client.post_json(
            "/api/v1/programs", {{"slug", "bean"}, {"name", "Bean There"}, {"template", "coffee"}},
            key);
        BOOST_REQUIRE_EQUAL(p.result_int(), 201);
        auto c =
            client.post_json("/api/v1/programs/bean/cards",
                             {{"holder", {{"name", "Anna"}, {"email", "anna@example.com"}}}}, key);
        BOOST_REQUIRE_EQUAL(c.result_int(), 201);
        card = test::json_of(c).as_object();
        auto bytes = client.get(path_of(std::string(card.at("links").at("pkpass").as_string())));
        BOOST_REQUIRE_EQUAL(bytes.result_int(), 200);
        pass = json::parse(test::unzip(bytes.body())["pass.json"]).as_object();
    }
    std::string number() const { return std::string(card.at("cardNumber").as_string()); }
    std::string serial() const { return std::string(pass.at("serialNumber").as_string()); }
    std::string type() const { return std::string(pass.at("passTypeIdentifier").as_string()); }
    std::string auth() const {
        return "ApplePass " + std::string(pass.at("authenticationToken").as_string());
    }
    std::string base() const { return path_of(std::string(pass.at("webServiceURL").as_string())); }
    std::string registration(const Device& d) const {
        return base() + "/v1/devices/" + d.id + "/registrations/" + type() + "/" + serial();
    }
    test::Response register_device(const Device& d, const std::string& auth_header) {
        return client.request(
            verb::post, registration(d), json::serialize(json::object{{"pushToken", d.token}}),
            {{"Authorization", auth_header}, {"Content-Type", "application/json"}});
    }
    test::Response serials(const Device& d, const std::string& since = "") {
        std::string target = base() + "/v1/devices/" + d.id + "/registrations/" + type();
        if (!since.empty()) target += "?passesUpdatedSince=" + since;
        return client.get(target);
    }
    test::Response transaction(const json::object& body, const std::string& idem = "") {
        std::map<std::string, std::string> h{{"Authorization", "Bearer " + key},
                                             {"Content-Type", "application/json"}};
        if (!idem.empty()) h["Idempotency-Key"] = idem;
        return client.request(verb::post, "/api/v1/cards/" + number() + "/transactions",
                              json::serialize(body), h);
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(wallet_flow)

BOOST_AUTO_TEST_CASE(device_registers_sees_updates_and_fetches_the_new_pass) {
    Wallet w;
    BOOST_TEST(w.base() == "/apple");
    Device phone{"a1b2c3d4e5f6", std::string(64, 'a')};

    // Authentication: a wrong or missing token is 401 and registers nothing.
    BOOST_TEST(w.register_device(phone, "ApplePass wrongtoken").result_int() == 401);
    BOOST_TEST(w.register_device(phone, "").result_int() == 401);
    BOOST_TEST(w.serials(phone).result_int() == 204);

    BOOST_TEST(w.register_device(phone, w.auth()).result_int() == 201);
    BOOST_TEST(w.register_device(phone, w.auth()).result_int() == 200);

    // Unknown pass type or serial: 404.
    Device other{"zz99", std::string(64, 'b')};
    auto bad_serial = w.client.request(
        verb::post, w.base() + "/v1/devices/zz99/registrations/" + w.type() + "/nosuchserial",
        R"({"pushToken":"bb"})",
        {{"Authorization", w.auth()}, {"Content-Type", "application/json"}});
    BOOST_TEST(bad_serial.result_int() == 404);
    BOOST_TEST(
        w.client.get(w.base() + "/v1/devices/zz99/registrations/pass.other.type").result_int() ==
        404);

    // Without a tag: every registered serial, lastUpdated as a string.
    auto all = w.serials(phone);
    BOOST_REQUIRE_EQUAL(all.result_int(), 200);
    auto listed = test::json_of(all).as_object();
    BOOST_TEST(listed.at("serialNumbers").as_array().size() == 1u);
    BOOST_TEST(listed.at("serialNumbers").at(0).as_string() == w.serial());
    BOOST_REQUIRE(listed.at("lastUpdated").is_string());
    std::string tag(listed.at("lastUpdated").as_string());
    BOOST_TEST(w.serials(phone, tag).result_int() == 204);
    BOOST_TEST(w.serials(phone, "garbage").result_int() == 200);  // unparsable = absent

    // The latest pass, then 304 while unchanged.
    std::string pass_path = w.base() + "/v1/passes/" + w.type() + "/" + w.serial();
    BOOST_TEST(w.client.get(pass_path).result_int() == 401);
    auto latest = w.client.request(verb::get, pass_path, "", {{"Authorization", w.auth()}});
    BOOST_REQUIRE_EQUAL(latest.result_int(), 200);
    std::string last_modified(latest[test::bhttp::field::last_modified]);
    BOOST_TEST(!last_modified.empty());
    auto same =
        w.client.request(verb::get, pass_path, "",
                         {{"Authorization", w.auth()}, {"If-Modified-Since", last_modified}});
    BOOST_TEST(same.result_int() == 304);

    // A purchase: the serial shows up as updated since the old tag, with a newer tag,
    // and the fetched pass carries the new balance.
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // HTTP dates have seconds
    auto t = w.transaction({{"points", 40}}, "till-1");
    BOOST_REQUIRE_MESSAGE(t.result_int() == 201, t.body());
    BOOST_TEST(test::json_of(t).at("balance").as_int64() == 40);
    auto changed = w.serials(phone, tag);
    BOOST_REQUIRE_EQUAL(changed.result_int(), 200);
    auto changed_body = test::json_of(changed).as_object();
    BOOST_TEST(changed_body.at("serialNumbers").at(0).as_string() == w.serial());
    std::string new_tag(changed_body.at("lastUpdated").as_string());
    BOOST_TEST(std::stoll(new_tag) > std::stoll(tag));
    BOOST_TEST(w.serials(phone, new_tag).result_int() == 204);

    auto fresh =
        w.client.request(verb::get, pass_path, "",
                         {{"Authorization", w.auth()}, {"If-Modified-Since", last_modified}});
    BOOST_REQUIRE_EQUAL(fresh.result_int(), 200);
    auto fresh_json = json::parse(test::unzip(fresh.body())["pass.json"]).as_object();
    std::string shown;
    for (const auto& [section, fields] : fresh_json.at("storeCard").as_object()) {
        for (const auto& f : fields.as_array()) {
            if (f.at("key").as_string() == "balance") shown = json::serialize(f.at("value"));
        }
    }
    BOOST_TEST((shown == "\"40\"" || shown == "40"), shown);

    // Device log: 200 for well-formed bodies, 400 otherwise.
    auto log = w.client.request(verb::post, w.base() + "/v1/log", R"({"logs":["hello"]})",
                                {{"Content-Type", "application/json"}});
    BOOST_TEST(log.result_int() == 200);
    BOOST_TEST(w.client.request(verb::post, w.base() + "/v1/log", "nope").result_int() == 400);
    // Anyone may post there: 20 lines a second reach the log, the rest are counted.
    json::array flood;
    for (int i = 0; i < 50; ++i) flood.emplace_back("flood line");
    for (int i = 0; i < 2; ++i) {
        BOOST_TEST(w.client
                       .request(verb::post, w.base() + "/v1/log",
                                json::serialize(json::object{{"logs", flood}}),
                                {{"Content-Type", "application/json"}})
                       .result_int() == 200);
    }
    std::size_t logged = 0;
    const std::string server_log = w.server.log();
    for (auto at = server_log.find("flood line"); at != std::string::npos;
         at = server_log.find("flood line", at + 1)) {
        ++logged;
    }
    BOOST_TEST(logged >= 15u);
    BOOST_TEST(logged <= 25u);  // the bucket (20) and what refilled meanwhile
    const std::string metrics = w.client.get("/metrics").body();
    BOOST_TEST(metrics.find("cardsmith_apple_device_log_dropped_total ") != std::string::npos);

    // Unregister: 200; the device then has nothing.
    auto bye =
        w.client.request(verb::delete_, w.registration(phone), "", {{"Authorization", w.auth()}});
    BOOST_TEST(bye.result_int() == 200);
    BOOST_TEST(w.serials(phone).result_int() == 204);
    BOOST_TEST(w.server.log().find(std::string(w.pass.at("authenticationToken").as_string())) ==
               std::string::npos);  // the pass's secret never reaches the log
}

BOOST_AUTO_TEST_CASE(ledger_idempotency_and_limits) {
    Wallet w;
    auto earn = w.transaction({{"amount", 1250}, {"note", "latte"}}, "order-7");
    BOOST_REQUIRE_MESSAGE(earn.result_int() == 201, earn.body());
    auto earned = test::json_of(earn).as_object();
    const auto balance = earned.at("balance").as_int64();
    BOOST_TEST(balance > 0);  // from the coffee template's earn rule
    BOOST_TEST(earned.at("transaction").at("amount").as_int64() == 1250);

    auto replay = w.transaction({{"amount", 1250}, {"note", "latte"}}, "order-7");
    BOOST_TEST(replay.result_int() == 201);
    BOOST_TEST(replay["Idempotent-Replayed"] == "true");
    BOOST_TEST(test::json_of(replay).at("balance").as_int64() == balance);
    BOOST_TEST(test::json_of(replay).at("transaction").at("id") ==
               earned.at("transaction").at("id"));

    auto reused = w.transaction({{"points", 5}}, "order-7");
    BOOST_TEST(reused.result_int() == 409);
    BOOST_TEST(test::json_of(reused).at("error").at("code").as_string() ==
               "idempotency_key_reused");

    auto too_much = w.transaction({{"points", -(balance + 1)}}, "redeem-1");
    BOOST_TEST(too_much.result_int() == 409);
    BOOST_TEST(test::json_of(too_much).at("error").at("code").as_string() ==
               "insufficient_balance");
    auto redeem = w.transaction({{"points", -balance}}, "redeem-2");
    BOOST_TEST(redeem.result_int() == 201);
    BOOST_TEST(test::json_of(redeem).at("balance").as_int64() == 0);

    for (const auto& bad :
         {json::object{{"points", 0}}, json::object{}, json::object{{"points", 1}, {"amount", 1}},
          json::object{{"points", "ten"}}, json::object{{"amount", -5}},
          json::object{{"points", 1}, {"extra", 1}}}) {
        auto r = w.transaction(bad, "bad");
        BOOST_TEST(r.result_int() == 422, json::serialize(bad) << " → " << r.body());
    }

    auto list = w.client.get("/api/v1/cards/" + w.number() + "/transactions", w.key);
    BOOST_REQUIRE_EQUAL(list.result_int(), 200);
    auto entries = test::json_of(list).at("transactions").as_array();
    BOOST_TEST(entries.size() == 2u);  // the earn and the redemption; nothing else applied

    // Another merchant cannot see or touch the card.
    auto m2 = w.client.post_json("/api/v1/merchants", {{"name", "Other"}}, w.server.admin_key());
    std::string key2(test::json_of(m2).at("apiKey").as_string());
    BOOST_TEST(w.client.get("/api/v1/cards/" + w.number() + "/transactions", key2).result_int() ==
               404);
    auto foreign = w.client.request(
        verb::post, "/api/v1/cards/" + w.number() + "/transactions", R"({"points":5})",
        {{"Authorization", "Bearer " + key2}, {"Content-Type", "application/json"}});
    BOOST_TEST(foreign.result_int() == 404);
}

BOOST_AUTO_TEST_CASE(concurrent_transactions_on_one_card_are_exact) {
    Wallet w;
    constexpr int kClients = 8;
    constexpr int kEach = 250;
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int c = 0; c < kClients; ++c) {
        threads.emplace_back([&, c] {
            test::Client mine(w.server.port());
            std::map<std::string, std::string> h{{"Authorization", "Bearer " + w.key},
                                                 {"Content-Type", "application/json"}};
            for (int i = 0; i < kEach; ++i) {
                h["Idempotency-Key"] = "c" + std::to_string(c) + "-" + std::to_string(i);
                auto target = "/api/v1/cards/" + w.number() + "/transactions";
                auto r = mine.request(verb::post, target, R"({"points":3})", h);
                if (r.result_int() != 201) ++failures;
                if (i % 50 == 0) {  // a replay changes nothing
                    auto again = mine.request(verb::post, target, R"({"points":3})", h);
                    if (again.result_int() != 201 || again["Idempotent-Replayed"] != "true") {
                        ++failures;
                    }
                }
            }
        });
    }
    for (auto& t : threads) t.join();
    BOOST_TEST(failures.load() == 0);
    auto card = w.client.get("/api/v1/cards/" + w.number(), w.key);
    BOOST_TEST(test::json_of(card).at("balance").as_int64() == kClients * kEach * 3);
    auto list = w.client.get("/api/v1/cards/" + w.number() + "/transactions?limit=500", w.key);
    BOOST_TEST(test::json_of(list).at("transactions").as_array().size() == 500u);
}

BOOST_AUTO_TEST_SUITE_END()
