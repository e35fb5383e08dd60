// Live balance end to end: the real server process, a device registered through Apple's
// web service, the till's transactions, and the fake APNs (real HTTP/2 over TLS with a
// client certificate) receiving the pushes; scripted APNs failures, kill -9, GOAWAY.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <thread>

#include "dev_pki.hpp"
#include "fake_apns.hpp"
#include "http_client.hpp"
#include "pkpass_reader.hpp"
#include "server_process.hpp"
#include "test_util.hpp"

using namespace cardsmith;
namespace json = boost::json;
using test::bhttp::verb;
using namespace std::chrono_literals;

namespace {

using test::eventually;
using test::path_of;

std::string hex_token(int i) {
    char buf[65];
    std::snprintf(buf, sizeof buf, "%064x", 0xABC000 + i);
    return buf;
}

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
           "\"\nconnections = 2\nretry_base_ms = 100\nretry_max_ms = 400\n"
           "identity_pause_ms = 1500\ntimeout_ms = 3000\n"
           // Many devices on one pass stand for many customers here.
           "[limits]\nmax_devices_per_pass = 0\n";
}

struct World {
    testing::FakeApns apns{fake_options()};
    test::ServerProcess server;
    std::unique_ptr<test::Client> client;
    std::string key;
    json::object card;
    json::object pass;

    // `env`: config overrides (CARDSMITH_<SECTION>_<KEY>).
    explicit World(const std::map<std::string, std::string>& env = {})
        : server{apns_toml(apns.port()), env, test::DevPki::shared().dir.path()},
          client{std::make_unique<test::Client>(server.port())} {
        auto m = client->post_json("/api/v1/merchants", {{"name", "Bean"}}, server.admin_key());
        BOOST_REQUIRE_EQUAL(m.result_int(), 201);
        key = std::string(test::json_of(m).at("apiKey").as_string());
        auto p = client->post_json(
            "/api/v1/programs", {{"slug", "bean"}, {"name", "Bean"}, {"template", "coffee"}}, key);
        BOOST_REQUIRE_EQUAL(p.result_int(), 201);
        card = new_card("anna@example.com");
        pass = pass_json(card);
    }
    json::object new_card(const std::string& email) {
        auto c =
            client->post_json("/api/v1/programs/bean/cards", {{"holder", {{"email", email}}}}, key);
        BOOST_REQUIRE_EQUAL(c.result_int(), 201);
        return test::json_of(c).as_object();
    }
    json::object pass_json(const json::object& c) {
        auto bytes = client->get(path_of(std::string(c.at("links").at("pkpass").as_string())));
        BOOST_REQUIRE_EQUAL(bytes.result_int(), 200);
        return json::parse(test::unzip(bytes.body())["pass.json"]).as_object();
    }
    void reconnect() { client = std::make_unique<test::Client>(server.port()); }
    std::string number() const { return std::string(card.at("cardNumber").as_string()); }
    std::string serial() const { return std::string(pass.at("serialNumber").as_string()); }
    std::string type() const { return std::string(pass.at("passTypeIdentifier").as_string()); }
    std::string auth() const {
        return "ApplePass " + std::string(pass.at("authenticationToken").as_string());
    }
    unsigned register_device(const std::string& device, const std::string& token) {
        return client
            ->request(verb::post,
                      "/apple/v1/devices/" + device + "/registrations/" + type() + "/" + serial(),
                      json::serialize(json::object{{"pushToken", token}}),
                      {{"Authorization", auth()}, {"Content-Type", "application/json"}})
            .result_int();
    }
    test::Response serials(const std::string& device, const std::string& since = "") {
        std::string target = "/apple/v1/devices/" + device + "/registrations/" + type();
        if (!since.empty()) target += "?passesUpdatedSince=" + since;
        return client->get(target);
    }
    std::int64_t transaction(std::int64_t points, const std::string& idem = "") {
        std::map<std::string, std::string> h{{"Authorization", "Bearer " + key},
                                             {"Content-Type", "application/json"}};
        if (!idem.empty()) h["Idempotency-Key"] = idem;
        auto r = client->request(verb::post, "/api/v1/cards/" + number() + "/transactions",
                                 json::serialize(json::object{{"points", points}}), h);
        BOOST_REQUIRE_MESSAGE(r.result_int() == 201, r.body());
        return test::json_of(r).at("balance").as_int64();
    }
    std::size_t pushes_to(const std::string& token, unsigned status = 200) const {
        std::size_t n = 0;
        for (const auto& p : apns.pushes()) {
            if (p.device_token == token && p.status == status) ++n;
        }
        return n;
    }
    std::string balance_on_pass() {
        auto r = client->request(verb::get, "/apple/v1/passes/" + type() + "/" + serial(), "",
                                 {{"Authorization", auth()}});
        BOOST_REQUIRE_EQUAL(r.result_int(), 200);
        auto pj = json::parse(test::unzip(r.body())["pass.json"]).as_object();
        for (const auto& [section, fields] : pj.at("storeCard").as_object()) {
            for (const auto& f : fields.as_array()) {
                if (f.at("key").as_string() == "balance") {
                    const auto& v = f.at("value");
                    return v.is_string() ? std::string(v.as_string()) : json::serialize(v);
                }
            }
        }
        return {};
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(push_flow)

BOOST_AUTO_TEST_CASE(transaction_pushes_the_device_which_fetches_the_new_balance) {
    World w;
    const auto token = hex_token(1);
    BOOST_REQUIRE_EQUAL(w.register_device("phone1", token), 201u);
    auto first = w.serials("phone1");
    std::string tag(test::json_of(first).at("lastUpdated").as_string());

    auto t0 = std::chrono::steady_clock::now();
    BOOST_TEST(w.transaction(25, "sale-1") == 25);
    BOOST_REQUIRE(w.apns.wait_for_count(1, 5s));
    auto latency =
        std::chrono::duration_cast<std::chrono::milliseconds>(w.apns.pushes().front().at - t0);
    BOOST_TEST_MESSAGE("transaction → push accepted by APNs: " << latency.count() << " ms");
    BOOST_TEST(latency.count() < 2000);
    auto push = w.apns.pushes().front();
    BOOST_TEST(push.device_token == token);
    BOOST_TEST(push.topic == w.type());
    BOOST_TEST(push.body == "{}");
    BOOST_TEST(push.client_subject.find("UID=" + w.type()) != std::string::npos);

    // The device's side of the protocol after the push.
    auto changed = w.serials("phone1", tag);
    BOOST_REQUIRE_EQUAL(changed.result_int(), 200);
    BOOST_TEST(test::json_of(changed).at("serialNumbers").at(0).as_string() == w.serial());
    BOOST_TEST(w.balance_on_pass() == "25");

    // A replayed transaction changes nothing and pushes nothing.
    BOOST_TEST(w.transaction(25, "sale-1") == 25);
    std::this_thread::sleep_for(300ms);
    BOOST_TEST(w.apns.count() == 1u);

    // Ten quick transactions: the device ends with the final balance, with far fewer
    // than ten pushes (one pending push per device is coalesced in the outbox).
    w.apns.set_delay(100ms);
    for (int i = 0; i < 10; ++i) {
        w.transaction(1);
    }
    BOOST_REQUIRE(eventually([&] { return w.apns.count() >= 2; }));
    std::this_thread::sleep_for(600ms);
    const auto burst = w.apns.count() - 1;
    BOOST_TEST_MESSAGE("pushes for 10 quick transactions: " << burst);
    BOOST_TEST(burst >= 1u);
    BOOST_TEST(burst <= 4u);
    BOOST_TEST(w.balance_on_pass() == "35");

    auto metrics = w.client->get("/metrics").body();
    BOOST_TEST(metrics.find("cardsmith_pushes_total{wallet=\"apple\",outcome=\"delivered\"") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(apns_answers_drop_retry_and_pause) {
    World w;
    const auto gone = hex_token(10), bad = hex_token(11), busy = hex_token(12),
               renewed = hex_token(13);
    BOOST_REQUIRE_EQUAL(w.register_device("d-gone", gone), 201u);
    BOOST_REQUIRE_EQUAL(w.register_device("d-bad", bad), 201u);
    BOOST_REQUIRE_EQUAL(w.register_device("d-busy", busy), 201u);
    BOOST_REQUIRE_EQUAL(w.register_device("d-renewed", renewed), 201u);
    const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    w.apns.reply_for(gone, {410, "Unregistered", now_ms + 60'000, 0});
    w.apns.reply_for(bad, {400, "BadDeviceToken", std::nullopt, 0});
    w.apns.reply_for(busy, {503, "ServiceUnavailable", std::nullopt, 0}, 1);
    w.apns.reply_for(busy, {429, "TooManyRequests", std::nullopt, 0}, 1);
    w.apns.reply_for(busy, {500, "InternalServerError", std::nullopt, 0}, 1);
    // 410 with a timestamp before the device registered again: the registration stays.
    w.apns.reply_for(renewed, {410, "Unregistered", now_ms - 60'000, 0});

    w.transaction(5);
    BOOST_REQUIRE(eventually([&] { return w.pushes_to(busy) == 1; }));
    // 503, 429 and 500 were each retried with backoff, then 200.
    BOOST_TEST(w.pushes_to(busy, 503) == 1u);
    BOOST_TEST(w.pushes_to(busy, 429) == 1u);
    BOOST_TEST(w.pushes_to(busy, 500) == 1u);
    BOOST_REQUIRE(eventually([&] { return w.serials("d-gone").result_int() == 204; }));
    BOOST_REQUIRE(eventually([&] { return w.serials("d-bad").result_int() == 204; }));
    BOOST_TEST(w.serials("d-renewed").result_int() == 200);
    BOOST_TEST(w.serials("d-busy").result_int() == 200);

    // A certificate problem pauses the identity and shows in /readyz (which stays 200: push
    // channels never make the server unready, app/channels.hpp); when APNs accepts it
    // again, the deferred push goes out and the channel is ok again.
    w.apns.reply_all({403, "BadCertificate", std::nullopt, 0});
    w.transaction(5);
    const auto push_state = [&] {
        auto r = w.client->get("/readyz");
        BOOST_TEST(r.result_int() == 200);
        return std::string(test::json_of(r).at("push").as_string());
    };
    BOOST_REQUIRE(eventually([&] { return push_state() == "down"; }));
    auto ready = test::json_of(w.client->get("/readyz")).as_object();
    BOOST_TEST(json::serialize(ready.at("identities")).find("BadCertificate") != std::string::npos);
    BOOST_TEST(w.server.log().find("APNs refused this identity") != std::string::npos);
    const auto before = w.pushes_to(busy);
    w.apns.reset_replies();
    BOOST_REQUIRE(eventually([&] { return w.pushes_to(busy) > before; }, 8s));
    BOOST_REQUIRE(eventually([&] { return push_state() == "ok"; }));
}

BOOST_AUTO_TEST_CASE(an_apns_outage_spends_no_attempts_a_throttled_device_does) {
    World w(std::map<std::string, std::string>{{"CARDSMITH_APNS_MAX_ATTEMPTS", "2"}});
    const auto outage = hex_token(20), throttled = hex_token(21);
    BOOST_REQUIRE_EQUAL(w.register_device("d-outage", outage), 201u);
    BOOST_REQUIRE_EQUAL(w.register_device("d-throttled", throttled), 201u);
    w.apns.reply_for(outage, {503, "ServiceUnavailable", std::nullopt, 0}, 3);
    w.apns.reply_for(outage, {500, "InternalServerError", std::nullopt, 0}, 1);
    w.apns.reply_for(throttled, {429, "TooManyRequests", std::nullopt, 0}, 3);
    w.transaction(5);
    // Four answers of a service in trouble, twice max_attempts: the push still arrives.
    BOOST_REQUIRE(eventually([&] { return w.pushes_to(outage) == 1; }));
    BOOST_TEST(w.pushes_to(outage, 503) == 3u);
    BOOST_TEST(w.pushes_to(outage, 500) == 1u);
    // A device APNs keeps throttling is given up after max_attempts answers.
    BOOST_REQUIRE(
        eventually([&] { return w.server.log().find("push: giving up") != std::string::npos; }));
    BOOST_TEST(w.pushes_to(throttled, 429) == 2u);
    BOOST_TEST(w.pushes_to(throttled) == 0u);
    BOOST_TEST(w.server.log().find("TooManyRequests") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(push_survives_kill_9_while_apns_is_unreachable) {
    World w;
    const auto token = hex_token(20);
    BOOST_REQUIRE_EQUAL(w.register_device("phone", token), 201u);
    w.apns.set_accepting(false);
    w.transaction(7, "before-crash");
    std::this_thread::sleep_for(500ms);  // the dispatcher tries and fails
    BOOST_TEST(w.pushes_to(token) == 0u);
    w.server.kill_hard();

    w.apns.set_accepting(true);
    w.server.start();
    w.reconnect();
    BOOST_REQUIRE(eventually([&] { return w.pushes_to(token) >= 1; }, 15s));
    BOOST_TEST(w.balance_on_pass() == "7");
    // The key of the transaction before the crash still replays (nothing applied twice).
    BOOST_TEST(w.transaction(7, "before-crash") == 7);
}

BOOST_AUTO_TEST_CASE(goaway_and_dropped_connections_lose_no_push) {
    World w;
    constexpr int kDevices = 120;
    for (int i = 0; i < kDevices; ++i) {
        BOOST_REQUIRE_EQUAL(w.register_device("dev" + std::to_string(i), hex_token(100 + i)), 201u);
    }
    w.apns.goaway_after(30);
    w.transaction(3);
    BOOST_REQUIRE(eventually([&] {
        for (int i = 0; i < kDevices; ++i) {
            if (w.pushes_to(hex_token(100 + i)) == 0) return false;
        }
        return true;
    }));
    w.apns.clear();
    w.apns.set_delay(50ms);
    w.transaction(3);
    std::this_thread::sleep_for(20ms);
    w.apns.drop_connections();
    BOOST_REQUIRE(eventually([&] {
        for (int i = 0; i < kDevices; ++i) {
            if (w.pushes_to(hex_token(100 + i)) == 0) return false;
        }
        return true;
    }));
}

BOOST_AUTO_TEST_CASE(push_command_for_support_staff) {
    World w;
    const auto token = hex_token(30);
    BOOST_REQUIRE_EQUAL(w.register_device("phone", token), 201u);
    auto config = (w.server.dir() / "cardsmith.toml").string();
    auto r = test::run_cardsmith({"push", "--serial", w.serial(), "--config", config});
    BOOST_TEST(r.exit_code == 0, r.out);
    BOOST_TEST(r.out.find("queued 1 update push") != std::string::npos, r.out);
    BOOST_REQUIRE(eventually([&] { return w.pushes_to(token) == 1; }, 5s));
    // Every pass of the program: this card's device and another card's device.
    auto other = w.new_card("zoe@example.com");
    auto other_pass = w.pass_json(other);
    auto reg = w.client->request(
        verb::post,
        "/apple/v1/devices/phone2/registrations/" + w.type() + "/" +
            std::string(other_pass.at("serialNumber").as_string()),
        json::serialize(json::object{{"pushToken", hex_token(31)}}),
        {{"Authorization",
          "ApplePass " + std::string(other_pass.at("authenticationToken").as_string())},
         {"Content-Type", "application/json"}});
    BOOST_REQUIRE_EQUAL(reg.result_int(), 201);
    auto all = test::run_cardsmith({"push", "--program", "bean", "--config", config});
    BOOST_TEST(all.out.find("queued 2 update pushes for program bean") != std::string::npos,
               all.out);
    BOOST_REQUIRE(
        eventually([&] { return w.pushes_to(token) == 2 && w.pushes_to(hex_token(31)) == 1; }, 5s));
    auto missing = test::run_cardsmith({"push", "--serial", "nosuch", "--config", config});
    BOOST_TEST(missing.exit_code == 1);
    BOOST_TEST(test::run_cardsmith({"push"}).exit_code == 2);
}

BOOST_AUTO_TEST_SUITE_END()
