// Android pkpass wallets end to end (android-wallets.md §8.7): the real server process,
// apps registering through the pass web service with their own Authorization schemes
// (Wallet Union FCM and HMS, Wallet Passes, Pass2U, PassWallet's registrations_attido,
// Passworks, unknown apps), and the fake relays (tests/support/fake_relay.hpp) receiving
// the pushes: one request per relay family, batches within the vendors' limits, 413
// splitting, 429/5xx/FCM_FAILED retries, a 429's Retry-After pausing only its relay, a
// refused key pausing the route, dead tokens dropping their registrations, a restart losing
// nothing, relays without keys left alone, and merchants' own relay keys
// (PUT /api/v1/identities/{id}/relay-keys).
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <optional>
#include <set>
#include <thread>

#include "crypto/pem.hpp"
#include "dev_pki.hpp"
#include "fake_relay.hpp"
#include "http_client.hpp"
#include "pass_cert.hpp"
#include "pkpass_reader.hpp"
#include "server_process.hpp"
#include "test_db.hpp"
#include "test_util.hpp"

using namespace cardsmith;
namespace json = boost::json;
using test::bhttp::verb;
using namespace std::chrono_literals;
using FailMode = test::FakeRelay::FailMode;

namespace {

using test::eventually;
using test::path_of;

// APNs-shaped (64 hex characters): Apple Wallet's tokens, and PassWallet's in its docs.
std::string hex_token(int i) {
    char buf[65];
    std::snprintf(buf, sizeof buf, "%064x", 0xA0D000 + i);
    return buf;
}

// FCM registration tokens are long, with ':', '-' and '_' (well over 100 characters).
std::string fcm_token(const std::string& name) {
    return "f" + name + ":APA91bH-" + std::string(120, 'x') + "_" + name;
}

std::string hms_token(const std::string& name) {
    return "IQAAAACy0" + name + "-" + std::string(120, 'h') + "." + name;
}

// Rows of a query on the server's database (NULL reads as "<null>"), and a count.
std::vector<std::vector<std::string>> query(const std::string& db, const std::string& sql,
                                            const std::vector<std::string>& params = {}) {
    return test::query_rows(db, sql, params);
}

std::int64_t count(const std::string& db, const std::string& sql,
                   const std::vector<std::string>& params = {}) {
    return test::query_count(db, sql, params);
}

// Which relays the server is given keys for ([relays] in the config).
struct Setup {
    bool walletunion_key = true;
    bool pass2u_key = true;
    std::string walletpasses_key;  // optional for Wallet Passes
    bool passwallet = true;
    std::string relays_extra;       // more [relays] lines
    bool pass2u_url_slash = false;  // configure Pass2U's base URL with a trailing slash
};

std::string server_toml(const test::FakeRelay& relay, const Setup& s) {
    // APNs points at a closed port: nothing here reaches Apple.
    std::string t =
        "[apns]\nhost = \"127.0.0.1\"\nport = 1\nretry_base_ms = 100\nretry_max_ms = 400\n"
        "identity_pause_ms = 1000\ntimeout_ms = 2000\n"
        // Many devices on one pass stand for many customers here.
        "[limits]\nmax_devices_per_pass = 0\n"
        "[relays]\n";
    t += "walletunion_url = \"" + relay.url("walletunion") + "/send\"\n";
    if (s.walletunion_key) {
        t += "walletunion_key = \"" + relay.options().walletunion_key + "\"\n";
    }
    t += "walletpasses_url = \"" + relay.url("walletpasses") + "/api/v1/push\"\n";
    if (!s.walletpasses_key.empty()) {
        t += "walletpasses_key = \"" + s.walletpasses_key + "\"\n";
    }
    t += "pass2u_url = \"" + relay.url("pass2u") + "/v2/registrations" +
         (s.pass2u_url_slash ? "/" : "") + "\"\n";
    if (s.pass2u_key) {
        t += "pass2u_key = \"" + relay.options().pass2u_key + "\"\n";
    }
    t += std::string("passwallet_enabled = ") + (s.passwallet ? "true" : "false") + "\n";
    t += "passwallet_hosts = \"127.0.0.1\"\ntimeout_ms = 2000\n";
    t += s.relays_extra;
    return t;
}

struct World {
    test::FakeRelay relay;
    test::ServerProcess server;
    std::unique_ptr<test::Client> client = std::make_unique<test::Client>(server.port());
    std::string key;
    json::object card;
    json::object pass;

    explicit World(test::FakeRelayOptions relay_options = {}, const Setup& setup = {})
        : relay(std::move(relay_options)),
          server(server_toml(relay, setup), {}, test::DevPki::shared().dir.path()) {
        auto m = client->post_json("/api/v1/merchants", {{"name", "Bean"}}, server.admin_key());
        BOOST_REQUIRE_EQUAL(m.result_int(), 201);
        key = std::string(test::json_of(m).at("apiKey").as_string());
        auto p = client->post_json(
            "/api/v1/programs", {{"slug", "bean"}, {"name", "Bean"}, {"template", "coffee"}}, key);
        BOOST_REQUIRE_EQUAL(p.result_int(), 201);
        auto c = client->post_json("/api/v1/programs/bean/cards",
                                   {{"holder", {{"email", "anna@example.com"}}}}, key);
        BOOST_REQUIRE_EQUAL(c.result_int(), 201);
        card = test::json_of(c).as_object();
        auto bytes = client->get(path_of(std::string(card.at("links").at("pkpass").as_string())));
        BOOST_REQUIRE_EQUAL(bytes.result_int(), 200);
        pass = json::parse(test::unzip(bytes.body())["pass.json"]).as_object();
    }
    // A clean shutdown, and nothing from the sanitizers (CARDSMITH_SANITIZE builds).
    ~World() {
        if (server.running()) {
            BOOST_TEST(server.stop() == 0);
        }
        const auto log = server.log();
        BOOST_TEST(log.find("runtime error:") == std::string::npos, log);
        BOOST_TEST(log.find("Sanitizer") == std::string::npos, log);
    }
    World(const World&) = delete;
    World& operator=(const World&) = delete;
    void reconnect() { client = std::make_unique<test::Client>(server.port()); }
    std::string number() const { return std::string(card.at("cardNumber").as_string()); }
    std::string serial() const { return std::string(pass.at("serialNumber").as_string()); }
    std::string type() const { return std::string(pass.at("passTypeIdentifier").as_string()); }
    std::string token() const { return std::string(pass.at("authenticationToken").as_string()); }
    // The pass's webServiceURL, as a path on our server ("/apple").
    std::string base() const { return path_of(std::string(pass.at("webServiceURL").as_string())); }

    // Apple's registration call with `scheme` (and the pass's token unless `auth_token`).
    test::Response register_as(const std::string& device, const std::string& push_token,
                               const std::string& scheme,
                               std::map<std::string, std::string> headers = {},
                               const std::string& auth_token = "") {
        headers["Authorization"] = scheme + " " + (auth_token.empty() ? token() : auth_token);
        headers["Content-Type"] = "application/json";
        return client->request(
            verb::post,
            base() + "/v1/devices/" + device + "/registrations/" + type() + "/" + serial(),
            json::serialize(json::object{{"pushToken", push_token}}), headers);
    }
    // PassWallet's registration (android-wallets.md §4) with a raw JSON body.
    test::Response register_attido(const std::string& device, const json::object& body,
                                   const std::string& auth_token = "") {
        return client->request(
            verb::post,
            base() + "/v1/devices/" + device + "/registrations_attido/" + type() + "/" + serial(),
            json::serialize(body),
            {{"Authorization", "AttidoPass " + (auth_token.empty() ? token() : auth_token)},
             {"Content-Type", "application/json"},
             {"User-Agent", "PassWallet/Android 8.1"}});
    }
    test::Response unregister_as(const std::string& device, const std::string& scheme,
                                 const std::string& auth_token = "") {
        return client->request(
            verb::delete_,
            base() + "/v1/devices/" + device + "/registrations/" + type() + "/" + serial(), "",
            {{"Authorization", scheme + " " + (auth_token.empty() ? token() : auth_token)}});
    }
    test::Response get_pass(const std::string& authorization,
                            std::map<std::string, std::string> headers = {}) {
        if (!authorization.empty()) headers["Authorization"] = authorization;
        return client->request(verb::get, base() + "/v1/passes/" + type() + "/" + serial(), "",
                               headers);
    }
    test::Response serials(const std::string& device, const std::string& since = "") {
        std::string target = base() + "/v1/devices/" + device + "/registrations/" + type();
        if (!since.empty()) target += "?passesUpdatedSince=" + since;
        return client->get(target);
    }
    std::int64_t transaction(std::int64_t points) {
        auto r = client->request(
            verb::post, "/api/v1/cards/" + number() + "/transactions",
            json::serialize(json::object{{"points", points}}),
            {{"Authorization", "Bearer " + key}, {"Content-Type", "application/json"}});
        BOOST_REQUIRE_MESSAGE(r.result_int() == 201, r.body());
        return test::json_of(r).at("balance").as_int64();
    }
    // The stored wallet kind of `device`'s registration ("" when it has none).
    std::string wallet_of(const std::string& device) {
        auto rows = query(server.storage_url(),
                          "SELECT r.wallet FROM registrations r JOIN devices d ON d.id = "
                          "r.device_id WHERE d.library_id = ?1",
                          {device});
        return rows.empty() ? "" : rows.front().front();
    }
    std::string column_of(const std::string& device, const std::string& column) {
        auto rows = query(server.storage_url(),
                          "SELECT r." + column +
                              " FROM registrations r JOIN devices d ON d.id = r.device_id WHERE "
                              "d.library_id = ?1",
                          {device});
        return rows.empty() ? "" : rows.front().front();
    }
    std::int64_t registrations() {
        return count(server.storage_url(), "SELECT COUNT(*) FROM registrations");
    }
};

// The balance field of a pkpass's pass.json.
std::string balance_of(const test::Response& r) {
    auto pj = json::parse(test::unzip(r.body())["pass.json"]).as_object();
    for (const auto& [section, fields] : pj.at("storeCard").as_object()) {
        if (!fields.is_array()) continue;
        for (const auto& f : fields.as_array()) {
            if (f.at("key").as_string() == "balance") {
                const auto& v = f.at("value");
                return v.is_string() ? std::string(v.as_string()) : json::serialize(v);
            }
        }
    }
    return {};
}

long long millis(std::chrono::steady_clock::duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

std::vector<test::RelayCall> with_status(const std::vector<test::RelayCall>& calls, int status) {
    std::vector<test::RelayCall> out;
    for (const auto& c : calls) {
        if (c.status == status) out.push_back(c);
    }
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(android_wallets)

BOOST_AUTO_TEST_CASE(every_scheme_registers_its_wallet_and_any_scheme_authorizes) {
    World w;
    BOOST_TEST(w.base() == "/apple");  // webServiceURL = public_url + "/apple"

    struct Case {
        std::string device, push_token, scheme;
        std::map<std::string, std::string> headers;
        std::string kind;
    };
    const std::vector<Case> cases{
        {"wu-fcm",
         fcm_token("wu"),
         "WalletUnionPass",
         {{"User-Agent", "WalletUnion/1.0 Passbook/1.0 (Linux; U; Android 14; samsung SM-A556E)"}},
         "walletunion_fcm"},
        {"wu-hms",
         hms_token("wu"),
         "WalletUnionHMSPass",
         {{"User-Agent", "WalletUnionHMS/1.0 Passbook/1.0 (Linux; U; Android 12; HUAWEI P50)"}},
         "walletunion_hms"},
        {"walletpasses",
         hex_token(1),
         "AndroidPass",
         {{"User-Agent", "WalletPasses/2.3 (Linux; U; Android 13)"}},
         "walletpasses"},
        {"fcm-as-apple", fcm_token("apple"), "ApplePass", {}, "unknown"},
        {"iphone", hex_token(2), "ApplePass", {}, "apple"},
        {"pass2u", fcm_token("p2u"), "ApplePass", {{"X-Pass-Client", "Passes"}}, "pass2u"},
        {"passworks", fcm_token("pw"), "ApplePass", {{"X-Pass-Client", "Passworks"}}, "passworks"},
        {"odd-app", fcm_token("odd"), "SomeWalletPass", {}, "unknown"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.device) {
            auto r = w.register_as(c.device, c.push_token, c.scheme, c.headers);
            BOOST_TEST(r.result_int() == 201, r.body());
            BOOST_TEST(w.wallet_of(c.device) == c.kind);
            BOOST_TEST(w.column_of(c.device, "push_token") == c.push_token);
            if (auto ua = c.headers.find("User-Agent"); ua != c.headers.end()) {
                BOOST_TEST(w.column_of(c.device, "user_agent") == ua->second);
            }
            BOOST_TEST(w.column_of(c.device, "push_service_url") == "<null>");
        }
    }
    // pass.installed events carry the wallet.
    auto installed = query(w.server.storage_url(),
                           "SELECT wallet, COUNT(*) FROM events WHERE kind = 'pass.installed' "
                           "GROUP BY wallet ORDER BY wallet");
    std::map<std::string, std::string> by_wallet;
    for (const auto& row : installed) by_wallet[row[0]] = row[1];
    BOOST_TEST(by_wallet["walletunion_fcm"] == "1");
    BOOST_TEST(by_wallet["unknown"] == "2");
    BOOST_TEST(by_wallet["apple"] == "1");

    // A repeat registration answers 200 and overwrites the token (FCM and HMS rotate).
    const auto rotated = fcm_token("wu-rotated");
    auto again = w.register_as("wu-fcm", rotated, "WalletUnionPass");
    BOOST_TEST(again.result_int() == 200, again.body());
    BOOST_TEST(w.column_of("wu-fcm", "push_token") == rotated);
    BOOST_TEST(w.wallet_of("wu-fcm") == "walletunion_fcm");
    BOOST_TEST(w.registrations() == 8);

    // A wrong token is 401 whatever the scheme, and stores nothing.
    const std::string wrong = "not-the-token-0123456789abcdef";
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.scheme << " " << c.device) {
            BOOST_TEST(
                w.register_as("intruder", c.push_token, c.scheme, c.headers, wrong).result_int() ==
                401);
        }
    }
    auto attido_intruder = w.register_attido(
        "intruder", {{"pushToken", hex_token(3)}, {"pushServiceUrl", w.relay.url("passwallet")}},
        wrong);
    BOOST_TEST(attido_intruder.result_int() == 401);
    // A header without a token, or no header at all.
    auto bare = w.client->request(
        verb::post, w.base() + "/v1/devices/intruder/registrations/" + w.type() + "/" + w.serial(),
        json::serialize(json::object{{"pushToken", hex_token(4)}}), {{"Authorization", w.token()}});
    BOOST_TEST(bare.result_int() == 401);
    BOOST_TEST(w.register_as("intruder", hex_token(4), "", {}, " ").result_int() == 401);
    BOOST_TEST(w.wallet_of("intruder").empty());
    BOOST_TEST(count(w.server.storage_url(), "SELECT COUNT(*) FROM devices WHERE library_id = ?1",
                     {"intruder"}) == 0);
    BOOST_TEST(w.registrations() == 8);

    // Get-pass with any scheme carrying the right token.
    for (const std::string scheme :
         {"AndroidPass", "WalletUnionPass", "WalletUnionHMSPass", "AttidoPass", "SomeWalletPass"}) {
        BOOST_TEST_CONTEXT(scheme) {
            auto r = w.get_pass(scheme + " " + w.token());
            BOOST_TEST(r.result_int() == 200);
            BOOST_TEST(r[test::bhttp::field::content_type] == "application/vnd.apple.pkpass");
            BOOST_TEST(w.get_pass(scheme + " " + wrong).result_int() == 401);
        }
    }
    BOOST_TEST(w.get_pass("").result_int() == 401);

    // FossWallet / PassAndroid: ApplePass from a device that never registered, then 304.
    auto foss = w.get_pass("ApplePass " + w.token(), {{"User-Agent", "okhttp/4.12.0"}});
    BOOST_REQUIRE_EQUAL(foss.result_int(), 200);
    BOOST_TEST(balance_of(foss) == "0");
    const std::string last_modified(foss[test::bhttp::field::last_modified]);
    BOOST_REQUIRE(!last_modified.empty());
    auto not_modified =
        w.get_pass("ApplePass " + w.token(), {{"If-Modified-Since", last_modified}});
    BOOST_TEST(not_modified.result_int() == 304);
    BOOST_TEST(not_modified.body().empty());
    // Wallet Passes sent If-Modified-Since too.
    BOOST_TEST(w.get_pass("AndroidPass " + w.token(), {{"If-Modified-Since", last_modified}})
                   .result_int() == 304);

    // The list call needs no Authorization; unregistering with a non-Apple scheme works,
    // a wrong token does not.
    BOOST_TEST(w.serials("walletpasses").result_int() == 200);
    BOOST_TEST(w.unregister_as("wu-hms", "WalletUnionHMSPass", wrong).result_int() == 401);
    BOOST_TEST(w.wallet_of("wu-hms") == "walletunion_hms");
    BOOST_TEST(w.unregister_as("walletpasses", "AndroidPass").result_int() == 200);
    BOOST_TEST(w.wallet_of("walletpasses").empty());
    BOOST_TEST(w.serials("walletpasses").result_int() == 204);
    BOOST_TEST(w.unregister_as("wu-hms", "WalletUnionHMSPass").result_int() == 200);
    BOOST_TEST(w.wallet_of("wu-hms").empty());
    BOOST_TEST(count(w.server.storage_url(),
                     "SELECT COUNT(*) FROM events WHERE kind = 'pass.removed' AND wallet IN "
                     "('walletpasses', 'walletunion_hms')") == 2);
    BOOST_TEST(w.registrations() == 6);

    auto metrics = w.client->get("/metrics").body();
    BOOST_TEST(metrics.find("cardsmith_apple_registrations_total{wallet=\"walletunion_fcm\","
                            "outcome=\"created\"}") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(passwallet_registers_an_allowlisted_push_service) {
    World w;
    const auto token = hex_token(10);
    // Stored normalised: no trailing slash (Wallet Passes' fallback URL ends in one).
    auto r = w.register_attido(
        "pw-phone", {{"pushToken", token}, {"pushServiceUrl", w.relay.url("passwallet") + "/"}});
    BOOST_TEST(r.result_int() == 201, r.body());
    BOOST_TEST(w.wallet_of("pw-phone") == "passwallet");
    BOOST_TEST(w.column_of("pw-phone", "push_service_url") == w.relay.url("passwallet"));
    BOOST_TEST(w.column_of("pw-phone", "user_agent") == "PassWallet/Android 8.1");
    auto again = w.register_attido(
        "pw-phone", {{"pushToken", token}, {"pushServiceUrl", w.relay.url("passwallet")}});
    BOOST_TEST(again.result_int() == 200, again.body());
    BOOST_TEST(w.column_of("pw-phone", "push_service_url") == w.relay.url("passwallet"));

    // Scheme and host are case-insensitive: stored lower-cased.
    auto upper = w.register_attido(
        "pw-upper", {{"pushToken", hex_token(11)},
                     {"pushServiceUrl",
                      "HTTP://127.0.0.1:" + std::to_string(w.relay.port()) + "/passwallet//"}});
    BOOST_TEST(upper.result_int() == 201, upper.body());
    BOOST_TEST(w.column_of("pw-upper", "push_service_url") == w.relay.url("passwallet"));

    const auto port = std::to_string(w.relay.port());
    const std::vector<std::pair<std::string, json::object>> refused{
        {"host not allowed",
         {{"pushToken", token}, {"pushServiceUrl", "http://push.evil.example/passwallet"}}},
        {"localhost is another host",
         {{"pushToken", token}, {"pushServiceUrl", "http://localhost:" + port + "/passwallet"}}},
        {"not http", {{"pushToken", token}, {"pushServiceUrl", "ftp://127.0.0.1:" + port + "/x"}}},
        {"file", {{"pushToken", token}, {"pushServiceUrl", "file:///etc/passwd"}}},
        {"credentials",
         {{"pushToken", token}, {"pushServiceUrl", "http://user:pw@127.0.0.1:" + port + "/x"}}},
        {"relative", {{"pushToken", token}, {"pushServiceUrl", "/passwallet"}}},
        {"empty", {{"pushToken", token}, {"pushServiceUrl", ""}}},
        {"not a string", {{"pushToken", token}, {"pushServiceUrl", 42}}},
        {"missing", {{"pushToken", token}}},
        {"too long",
         {{"pushToken", token},
          {"pushServiceUrl", w.relay.url("passwallet") + "/" + std::string(400, 'a')}}},
    };
    const auto registrations = w.registrations();
    const auto events = count(w.server.storage_url(), "SELECT COUNT(*) FROM events");
    for (const auto& [what, body] : refused) {
        BOOST_TEST_CONTEXT(what) {
            auto bad = w.register_attido("pw-other", body);
            BOOST_TEST(bad.result_int() == 400, bad.body());
        }
    }
    BOOST_TEST(w.wallet_of("pw-other").empty());
    BOOST_TEST(count(w.server.storage_url(), "SELECT COUNT(*) FROM devices WHERE library_id = ?1",
                     {"pw-other"}) == 0);
    BOOST_TEST(w.registrations() == registrations);
    BOOST_TEST(count(w.server.storage_url(), "SELECT COUNT(*) FROM events") == events);
    // The stored URL of the existing registration is untouched by the refused calls.
    auto refused_again = w.register_attido(
        "pw-phone", {{"pushToken", token}, {"pushServiceUrl", "http://push.evil.example/"}});
    BOOST_TEST(refused_again.result_int() == 400);
    BOOST_TEST(w.column_of("pw-phone", "push_service_url") == w.relay.url("passwallet"));

    // Its other calls: get-pass with AttidoPass, unregister through the standard path.
    BOOST_TEST(w.get_pass("AttidoPass " + w.token()).result_int() == 200);
    BOOST_TEST(w.unregister_as("pw-phone", "AttidoPass").result_int() == 200);
    BOOST_TEST(w.wallet_of("pw-phone").empty());
}

BOOST_AUTO_TEST_CASE(a_change_wakes_every_wallet_through_its_relay) {
    test::FakeRelayOptions ro;
    ro.walletpasses_key = "walletpasses-test-key";
    Setup setup;
    setup.walletpasses_key = "walletpasses-test-key";
    setup.pass2u_url_slash = true;
    World w(ro, setup);

    struct App {
        std::string device, scheme, push_token;
        std::map<std::string, std::string> headers;
    };
    const std::vector<App> apps{
        {"wu-fcm", "WalletUnionPass", fcm_token("a"), {}},
        {"wu-hms", "WalletUnionHMSPass", hms_token("a"), {}},
        {"walletpasses", "AndroidPass", hex_token(20), {}},
        {"pass2u", "ApplePass", fcm_token("p2u"), {{"X-Pass-Client", "Passes"}}},
    };
    w.relay.seed_hms_token(hms_token("a"));
    for (const auto& a : apps) {
        BOOST_REQUIRE_EQUAL(w.register_as(a.device, a.push_token, a.scheme, a.headers).result_int(),
                            201);
    }
    const auto pw_token = hex_token(21);
    BOOST_REQUIRE_EQUAL(
        w.register_attido("passwallet",
                          {{"pushToken", pw_token}, {"pushServiceUrl", w.relay.url("passwallet")}})
            .result_int(),
        201);
    // Never pushed: Passworks (its relay is dead) and apps we do not know.
    const auto passworks_token = fcm_token("passworks"), unknown_token = fcm_token("unknown");
    BOOST_REQUIRE_EQUAL(
        w.register_as("passworks", passworks_token, "ApplePass", {{"X-Pass-Client", "Passworks"}})
            .result_int(),
        201);
    BOOST_REQUIRE_EQUAL(w.register_as("unknown", unknown_token, "OtherPass").result_int(), 201);

    auto before = w.serials("wu-fcm");
    BOOST_REQUIRE_EQUAL(before.result_int(), 200);
    const std::string tag(test::json_of(before).at("lastUpdated").as_string());

    const auto t0 = std::chrono::steady_clock::now();
    BOOST_TEST(w.transaction(25) == 25);
    std::set<std::string> pushed{pw_token};
    for (const auto& a : apps) pushed.insert(a.push_token);
    BOOST_REQUIRE(w.relay.wait_for_tokens(pushed, 5s));
    BOOST_TEST_MESSAGE("transaction → every relay called: "
                       << std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - t0)
                              .count()
                       << " ms");
    std::this_thread::sleep_for(300ms);  // anything else would have come by now

    // Wallet Union: one request per family, `hms` matching, the bare key.
    auto wu = w.relay.calls("walletunion");
    BOOST_REQUIRE_EQUAL(wu.size(), 2u);
    for (const auto& c : wu) {
        BOOST_TEST(c.status == 200);
        BOOST_TEST(c.path == "/walletunion/send");
        BOOST_TEST(c.headers.at("authorization") == "walletunion-test-key");
        BOOST_TEST(c.headers.at("content-type").find("application/json") != std::string::npos);
        BOOST_TEST(c.pass_type_id == w.type());
        BOOST_REQUIRE(c.hms.has_value());
        BOOST_REQUIRE_EQUAL(c.tokens.size(), 1u);
        BOOST_TEST(c.tokens.front() == (*c.hms ? hms_token("a") : fcm_token("a")));
    }
    BOOST_TEST((*wu[0].hms != *wu[1].hms));
    // Wallet Passes: pushTokens as an array, with the key that is configured.
    auto wp = w.relay.calls("walletpasses");
    BOOST_REQUIRE_EQUAL(wp.size(), 1u);
    BOOST_TEST(wp[0].status == 200);
    BOOST_TEST(wp[0].path == "/walletpasses/api/v1/push");
    BOOST_TEST(wp[0].headers.at("authorization") == "walletpasses-test-key");
    BOOST_TEST(json::parse(wp[0].body).at("pushTokens").is_array());
    BOOST_TEST(wp[0].tokens == std::vector<std::string>{hex_token(20)});
    BOOST_TEST(wp[0].pass_type_id == w.type());
    // Pass2U: the pass type id in the path, x-api-key, registrationIds.
    auto p2u = w.relay.calls("pass2u");
    BOOST_REQUIRE_EQUAL(p2u.size(), 1u);
    BOOST_TEST(p2u[0].status == 200);
    BOOST_TEST(p2u[0].path == "/pass2u/v2/registrations/" + w.type() + "/push");
    BOOST_TEST(p2u[0].headers.at("x-api-key") == "pass2u-test-key");
    BOOST_TEST(p2u[0].headers.count("authorization") == 0u);
    BOOST_TEST(p2u[0].headers.at("accept").find("application/json") != std::string::npos);
    auto p2u_body = json::parse(p2u[0].body).as_object();
    BOOST_TEST(p2u_body.at("registrationIds").is_array());
    BOOST_TEST(!p2u_body.contains("passTypeIdentifier"));
    BOOST_TEST(p2u[0].tokens == std::vector<std::string>{fcm_token("p2u")});
    // PassWallet: its own push service, pushUpdates with passTypeID.
    auto pwc = w.relay.calls("passwallet");
    BOOST_REQUIRE_EQUAL(pwc.size(), 1u);
    BOOST_TEST(pwc[0].status == 200);
    BOOST_TEST(pwc[0].path == "/passwallet/v1/pushUpdates");
    BOOST_TEST(pwc[0].pass_type_id == w.type());
    BOOST_TEST(json::parse(pwc[0].body).as_object().contains("passTypeID"));
    BOOST_TEST(pwc[0].tokens == std::vector<std::string>{pw_token});
    // Nothing for Passworks or the unknown app, and no outbox rows for them either.
    BOOST_TEST(w.relay.calls("passworks").empty());
    BOOST_TEST(w.relay.calls().size() == 5u);
    BOOST_TEST(w.relay.deliveries(passworks_token) == 0u);
    BOOST_TEST(w.relay.deliveries(unknown_token) == 0u);
    BOOST_TEST(count(w.server.storage_url(), "SELECT COUNT(*) FROM outbox WHERE target IN (?1, ?2)",
                     {passworks_token, unknown_token}) == 0);
    // Every relay row settled (done rows are deleted).
    BOOST_REQUIRE(eventually(
        [&] { return count(w.server.storage_url(), "SELECT COUNT(*) FROM outbox") == 0; }));

    // Each device, as its app: the list call, then get-pass with its scheme → new balance.
    for (const auto& [device, scheme] :
         std::vector<std::pair<std::string, std::string>>{{"wu-fcm", "WalletUnionPass"},
                                                          {"wu-hms", "WalletUnionHMSPass"},
                                                          {"walletpasses", "AndroidPass"},
                                                          {"pass2u", "ApplePass"},
                                                          {"passwallet", "AttidoPass"}}) {
        BOOST_TEST_CONTEXT(device) {
            auto changed = w.serials(device, tag);
            BOOST_REQUIRE_EQUAL(changed.result_int(), 200);
            BOOST_TEST(test::json_of(changed).at("serialNumbers").at(0).as_string() == w.serial());
            std::map<std::string, std::string> headers;
            if (device == "pass2u") headers["X-Pass-Client"] = "Passes";
            auto latest = w.get_pass(scheme + " " + w.token(), headers);
            BOOST_REQUIRE_EQUAL(latest.result_int(), 200);
            BOOST_TEST(balance_of(latest) == "25");
        }
    }
    auto metrics = w.client->get("/metrics").body();
    for (const std::string wallet :
         {"walletunion_fcm", "walletunion_hms", "walletpasses", "pass2u", "passwallet"}) {
        BOOST_TEST(metrics.find("cardsmith_pushes_total{wallet=\"" + wallet +
                                "\",outcome=\"delivered\"") != std::string::npos,
                   wallet);
    }
}

BOOST_AUTO_TEST_CASE(batches_stay_within_the_limits_and_families_never_mix) {
    Setup setup;
    setup.relays_extra = "walletunion_hms_batch = 20\n";
    World w({}, setup);
    constexpr int kFcm = 120, kHms = 30;
    std::set<std::string> fcm, hms;
    for (int i = 0; i < kFcm; ++i) {
        const auto t = fcm_token("b" + std::to_string(i));
        fcm.insert(t);
        BOOST_REQUIRE_EQUAL(
            w.register_as("fcm" + std::to_string(i), t, "WalletUnionPass").result_int(), 201);
    }
    for (int i = 0; i < kHms; ++i) {
        const auto t = hms_token("b" + std::to_string(i));
        hms.insert(t);
        w.relay.seed_hms_token(t);
        BOOST_REQUIRE_EQUAL(
            w.register_as("hms" + std::to_string(i), t, "WalletUnionHMSPass").result_int(), 201);
    }
    std::set<std::string> all = fcm;
    all.insert(hms.begin(), hms.end());

    w.transaction(3);
    BOOST_REQUIRE(w.relay.wait_for_tokens(all, 10s));
    std::this_thread::sleep_for(200ms);
    std::size_t fcm_requests = 0, hms_requests = 0;
    std::string sizes;
    for (const auto& c : w.relay.calls("walletunion")) {
        BOOST_TEST(c.status == 200);
        BOOST_REQUIRE(c.hms.has_value());
        const auto& family = *c.hms ? hms : fcm;
        for (const auto& t : c.tokens) {
            BOOST_TEST(family.contains(t), "a token of the other family in a request");
        }
        BOOST_TEST(c.tokens.size() <= (*c.hms ? 20u : 50u));
        (*c.hms ? hms_requests : fcm_requests) += 1;
        sizes += (*c.hms ? " hms:" : " fcm:") + std::to_string(c.tokens.size());
    }
    BOOST_TEST_MESSAGE("Wallet Union requests:" << sizes);
    BOOST_TEST(fcm_requests >= 3u);  // 50/50/20 when they arrive together
    BOOST_TEST(hms_requests >= 2u);  // 20/10
    for (const auto& t : all) {
        BOOST_TEST(w.relay.deliveries(t) == 1u);
    }
}

BOOST_AUTO_TEST_CASE(relay_failures_split_retry_and_pause_without_losing_a_push) {
    test::FakeRelayOptions ro;
    ro.fcm_max = 30;  // below our batch of 50: every full batch gets 413 once
    World w(ro);
    constexpr int kFcm = 120;
    std::set<std::string> fcm;
    for (int i = 0; i < kFcm; ++i) {
        const auto t = fcm_token("r" + std::to_string(i));
        fcm.insert(t);
        BOOST_REQUIRE_EQUAL(
            w.register_as("fcm" + std::to_string(i), t, "WalletUnionPass").result_int(), 201);
    }
    const auto check_round = [&](const std::string& what) {
        BOOST_TEST_CONTEXT(what) {
            BOOST_REQUIRE(w.relay.wait_for_tokens(fcm, 10s));
            for (const auto& t : fcm) {
                BOOST_TEST(w.relay.deliveries(t) == 1u);
            }
            for (const auto& c : with_status(w.relay.calls("walletunion"), 200)) {
                BOOST_TEST(c.tokens.size() <= 30u);
            }
            BOOST_TEST(w.registrations() == kFcm);  // nothing deleted
            BOOST_REQUIRE(eventually([&] {
                return count(w.server.storage_url(),
                             "SELECT COUNT(*) FROM outbox WHERE state <> 'done'") == 0;
            }));
        }
    };

    // 413: the sender halves the request (and its batch size) and delivers everything.
    w.transaction(1);
    check_round("413");
    const auto too_large = with_status(w.relay.calls("walletunion"), 413);
    BOOST_TEST(too_large.size() >= 1u);
    for (const auto& c : too_large) {
        BOOST_TEST(c.tokens.size() > 30u);
    }
    BOOST_TEST(w.server.log().find("request too large, splitting") != std::string::npos);

    // 429 with Retry-After: retried later.
    w.relay.clear();
    test::FakeRelay::Failure throttle;
    throttle.mode = FailMode::rate_limited;
    throttle.retry_after = "1";
    w.relay.fail_next(1, throttle, "walletunion");
    w.transaction(1);
    check_round("429");
    BOOST_TEST(with_status(w.relay.calls("walletunion"), 429).size() == 1u);

    // FCM_FAILED: the push provider failed; retried, nothing deleted.
    w.relay.clear();
    w.relay.fail_next(2, FailMode::fcm_failed, "walletunion");
    w.transaction(1);
    check_round("FCM_FAILED");
    std::size_t fcm_failed = 0;
    for (const auto& c : w.relay.calls("walletunion")) {
        if (c.reply_body.find("FCM_FAILED") != std::string::npos) ++fcm_failed;
    }
    BOOST_TEST(fcm_failed == 2u);

    // 500 and 503 (Wallet Union's error body says "ERROR" with no tokens): retried.
    w.relay.clear();
    w.relay.fail_next(1, FailMode::server_error, "walletunion");
    test::FakeRelay::Failure unavailable;
    unavailable.mode = FailMode::server_error;
    unavailable.status = 503;
    w.relay.fail_next(1, unavailable, "walletunion");
    w.transaction(1);
    check_round("5xx");
    BOOST_TEST(with_status(w.relay.calls("walletunion"), 500).size() == 1u);
    BOOST_TEST(with_status(w.relay.calls("walletunion"), 503).size() == 1u);

    // A dropped connection (no answer at all): retried.
    w.relay.clear();
    w.relay.fail_next(1, FailMode::drop_connection, "walletunion");
    w.transaction(1);
    check_round("dropped connection");
    BOOST_TEST(with_status(w.relay.calls("walletunion"), 0).size() == 1u);

    // A refused key (401) pauses the route; once the relay accepts it again, the paused
    // pushes go out (identity_pause_ms = 1000).
    w.relay.clear();
    test::FakeRelay::Failure refused;
    refused.mode = FailMode::server_error;
    refused.status = 401;
    refused.message = "Unauthorized";
    w.relay.fail_next(1, refused, "walletunion");
    w.transaction(1);
    check_round("401");
    BOOST_TEST(with_status(w.relay.calls("walletunion"), 401).size() == 1u);
    BOOST_TEST(count(w.server.storage_url(), "SELECT COUNT(*) FROM outbox WHERE state = 'dead'") ==
               0);
}

BOOST_AUTO_TEST_CASE(dead_tokens_drop_their_registrations_and_are_never_pushed_again) {
    World w;
    const auto expired = fcm_token("expired"), both = fcm_token("both"),
               unknown = hms_token("unknown"), alive = fcm_token("alive"),
               alive_hms = hms_token("alive");
    w.relay.seed_hms_token(unknown);
    w.relay.seed_hms_token(alive_hms);
    w.relay.expire_token(expired);
    w.relay.expire_token(both);
    w.relay.unknown_token(both);  // listed in both arrays
    w.relay.unknown_token(unknown);
    BOOST_REQUIRE_EQUAL(w.register_as("d-expired", expired, "WalletUnionPass").result_int(), 201);
    BOOST_REQUIRE_EQUAL(w.register_as("d-both", both, "WalletUnionPass").result_int(), 201);
    BOOST_REQUIRE_EQUAL(w.register_as("d-unknown", unknown, "WalletUnionHMSPass").result_int(),
                        201);
    BOOST_REQUIRE_EQUAL(w.register_as("d-alive", alive, "WalletUnionPass").result_int(), 201);
    BOOST_REQUIRE_EQUAL(w.register_as("d-alive-hms", alive_hms, "WalletUnionHMSPass").result_int(),
                        201);
    // The other relays' refusals have no documented format: logged, nothing deleted.
    const auto wp = hex_token(30), p2u = fcm_token("p2u-refused"), pw = hex_token(31);
    BOOST_REQUIRE_EQUAL(w.register_as("d-wp", wp, "AndroidPass").result_int(), 201);
    BOOST_REQUIRE_EQUAL(
        w.register_as("d-p2u", p2u, "ApplePass", {{"X-Pass-Client", "Passes"}}).result_int(), 201);
    BOOST_REQUIRE_EQUAL(w.register_attido("d-pw", {{"pushToken", pw},
                                                   {"pushServiceUrl", w.relay.url("passwallet")}})
                            .result_int(),
                        201);
    for (const std::string route : {"walletpasses", "pass2u", "passwallet"}) {
        w.relay.fail_next(1, FailMode::bad_request, route);
    }

    w.transaction(5);
    BOOST_REQUIRE(w.relay.wait_for_tokens({alive, alive_hms}, 5s));
    BOOST_REQUIRE(eventually([&] { return w.registrations() == 5; }));
    BOOST_REQUIRE(eventually([&] {
        return count(w.server.storage_url(), "SELECT COUNT(*) FROM outbox WHERE state = 'dead'") ==
               3;
    }));
    for (const std::string route : {"walletpasses", "pass2u", "passwallet"}) {
        BOOST_TEST(with_status(w.relay.calls(route), 400).size() == 1u, route);
    }
    BOOST_TEST(w.wallet_of("d-wp") == "walletpasses");
    BOOST_TEST(w.wallet_of("d-p2u") == "pass2u");
    BOOST_TEST(w.wallet_of("d-pw") == "passwallet");
    BOOST_TEST(w.server.log().find("push relay refused a request") != std::string::npos);
    BOOST_TEST(w.wallet_of("d-expired").empty());
    BOOST_TEST(w.wallet_of("d-both").empty());
    BOOST_TEST(w.wallet_of("d-unknown").empty());
    BOOST_TEST(w.wallet_of("d-alive") == "walletunion_fcm");
    BOOST_TEST(w.wallet_of("d-alive-hms") == "walletunion_hms");
    BOOST_TEST(w.serials("d-expired").result_int() == 204);
    // The same path as the device's own DELETE: pass.removed, with the wallet.
    auto removed = query(w.server.storage_url(),
                         "SELECT wallet, COUNT(*) FROM events WHERE kind = 'pass.removed' "
                         "GROUP BY wallet ORDER BY wallet");
    BOOST_REQUIRE_EQUAL(removed.size(), 2u);
    BOOST_TEST(removed[0][0] == "walletunion_fcm");
    BOOST_TEST(removed[0][1] == "2");
    BOOST_TEST(removed[1][0] == "walletunion_hms");
    BOOST_TEST(removed[1][1] == "1");
    BOOST_TEST(count(w.server.storage_url(),
                     "SELECT COUNT(*) FROM devices WHERE library_id IN "
                     "('d-expired', 'd-both', 'd-unknown')") == 0);

    // The next change reaches the live devices only.
    w.relay.clear();
    w.transaction(5);
    const std::set<std::string> live{alive, alive_hms, wp, p2u, pw};
    BOOST_REQUIRE(w.relay.wait_for_tokens(live, 5s));
    std::this_thread::sleep_for(300ms);
    for (const auto& c : w.relay.calls()) {
        for (const auto& t : c.tokens) {
            BOOST_TEST(live.contains(t), "pushed a dropped token");
        }
    }
    BOOST_TEST(count(w.server.storage_url(),
                     "SELECT COUNT(*) FROM outbox WHERE target IN (?1, ?2, "
                     "?3) AND state = 'pending'",
                     {expired, both, unknown}) == 0);
}

BOOST_AUTO_TEST_CASE(queued_pushes_survive_a_restart) {
    World w;
    const auto fcm = fcm_token("restart"), pw = hex_token(40);
    BOOST_REQUIRE_EQUAL(w.register_as("phone", fcm, "WalletUnionPass").result_int(), 201);
    BOOST_REQUIRE_EQUAL(
        w.register_attido("pw", {{"pushToken", pw}, {"pushServiceUrl", w.relay.url("passwallet")}})
            .result_int(),
        201);

    // The relays are unreachable (every connection dropped): the pushes wait in the outbox.
    w.relay.fail_next(1000000, FailMode::drop_connection);
    w.transaction(7);
    BOOST_REQUIRE(w.relay.wait_for_calls(4, 5s));  // tried, failed, tried again
    BOOST_TEST(w.relay.deliveries(fcm) == 0u);
    BOOST_TEST(w.relay.deliveries(pw) == 0u);
    w.server.kill_hard();
    BOOST_TEST(count(w.server.storage_url(),
                     "SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'sending')") == 2);

    w.relay.reset_script();
    w.relay.clear();
    w.server.start();
    w.reconnect();
    BOOST_REQUIRE(w.relay.wait_for_tokens({fcm, pw}, 10s));
    auto latest = w.get_pass("WalletUnionPass " + w.token());
    BOOST_REQUIRE_EQUAL(latest.result_int(), 200);
    BOOST_TEST(balance_of(latest) == "7");

    // Killed while the relay holds the request (answer delayed): sent again after the
    // restart; a push is at least once.
    w.relay.clear();
    w.relay.set_delay(3s);
    w.transaction(1);
    BOOST_REQUIRE(w.relay.wait_for_calls(2, 5s));
    w.server.kill_hard();
    w.relay.set_delay(0ms);
    w.server.start();
    w.reconnect();
    BOOST_REQUIRE(
        eventually([&] { return w.relay.deliveries(fcm) >= 2 && w.relay.deliveries(pw) >= 2; }));
    BOOST_REQUIRE(eventually([&] {
        return count(w.server.storage_url(), "SELECT COUNT(*) FROM outbox WHERE state <> 'done'") ==
               0;
    }));
    BOOST_TEST(balance_of(w.get_pass("AttidoPass " + w.token())) == "8");
}

BOOST_AUTO_TEST_CASE(relays_without_keys_keep_their_registrations_and_send_nothing) {
    Setup setup;
    setup.walletunion_key = false;
    setup.pass2u_key = false;
    setup.passwallet = false;  // walletpasses stays on, without a key
    World w({}, setup);
    const auto wu = fcm_token("nokey"), p2u = fcm_token("p2u-nokey"), wp = hex_token(50),
               pw = hex_token(51);
    BOOST_REQUIRE_EQUAL(w.register_as("wu", wu, "WalletUnionPass").result_int(), 201);
    BOOST_REQUIRE_EQUAL(
        w.register_as("p2u", p2u, "ApplePass", {{"X-Pass-Client", "Passes"}}).result_int(), 201);
    BOOST_REQUIRE_EQUAL(w.register_as("wp", wp, "AndroidPass").result_int(), 201);
    BOOST_REQUIRE_EQUAL(
        w.register_attido("pw", {{"pushToken", pw}, {"pushServiceUrl", w.relay.url("passwallet")}})
            .result_int(),
        201);

    w.transaction(2);
    // Wallet Passes needs no key: pushed, without an Authorization header.
    BOOST_REQUIRE(w.relay.wait_for_tokens({wp}, 5s));
    auto wpc = w.relay.calls("walletpasses");
    BOOST_REQUIRE_EQUAL(wpc.size(), 1u);
    BOOST_TEST(wpc[0].headers.count("authorization") == 0u);
    // The others wait (deferred, not dead) and their registrations stay.
    std::this_thread::sleep_for(1500ms);
    BOOST_TEST(w.relay.calls().size() == 1u);
    BOOST_TEST(w.registrations() == 4);
    BOOST_TEST(w.wallet_of("wu") == "walletunion_fcm");
    BOOST_TEST(w.wallet_of("p2u") == "pass2u");
    BOOST_TEST(w.wallet_of("pw") == "passwallet");
    BOOST_TEST(count(w.server.storage_url(), "SELECT COUNT(*) FROM outbox WHERE state = 'dead'") ==
               0);
    BOOST_TEST(count(w.server.storage_url(),
                     "SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'sending') AND kind "
                     "IN ('walletunion_fcm', 'pass2u', 'passwallet')") == 3);
    // The rows carry the wallet kind, and PassWallet's its push service.
    auto rows =
        query(w.server.storage_url(), "SELECT kind, route, target FROM outbox ORDER BY kind");
    BOOST_REQUIRE_EQUAL(rows.size(), 3u);
    BOOST_TEST(rows[0][0] == "pass2u");
    BOOST_TEST(rows[0][1] == "");
    BOOST_TEST(rows[0][2] == p2u);
    BOOST_TEST(rows[1][0] == "passwallet");
    BOOST_TEST(rows[1][1] == w.relay.url("passwallet"));
    BOOST_TEST(rows[1][2] == pw);
    BOOST_TEST(rows[2][0] == "walletunion_fcm");
    BOOST_TEST(rows[2][2] == wu);
    BOOST_TEST(count(w.server.storage_url(),
                     "SELECT COUNT(*) FROM outbox WHERE last_error LIKE 'no relay configured%'") ==
               3);
    // The server is fine: it answers, and the devices still pull the new pass.
    BOOST_TEST(w.client->get("/healthz").result_int() == 200);
    BOOST_TEST(balance_of(w.get_pass("WalletUnionPass " + w.token())) == "2");
}

BOOST_AUTO_TEST_CASE(a_429_pauses_only_that_relay_until_retry_after) {
    World w;
    const auto wu = fcm_token("throttled"), wp = hex_token(60);
    BOOST_REQUIRE_EQUAL(w.register_as("wu", wu, "WalletUnionPass").result_int(), 201);
    BOOST_REQUIRE_EQUAL(w.register_as("wp", wp, "AndroidPass").result_int(), 201);

    test::FakeRelay::Failure throttle;
    throttle.mode = FailMode::rate_limited;
    throttle.retry_after = "2";
    w.relay.fail_next(1, throttle, "walletunion");
    w.transaction(1);
    BOOST_REQUIRE(w.relay.wait_for_tokens({wp}, 5s));
    BOOST_REQUIRE(eventually([&] { return !w.relay.calls("walletunion").empty(); }));
    const auto limited = w.relay.calls("walletunion").front();
    BOOST_REQUIRE_EQUAL(limited.status, 429);
    // Wallet Passes is not held up: a second change during the pause reaches it at once.
    std::this_thread::sleep_for(300ms);
    w.transaction(1);
    BOOST_REQUIRE(eventually([&] { return w.relay.deliveries(wp) == 2; }, 1500ms));
    const auto second_wp = w.relay.calls("walletpasses").back().at;
    BOOST_TEST(millis(second_wp - limited.at) < 1900);
    BOOST_TEST(w.relay.calls("walletunion").size() == 1u);  // nothing to Wallet Union yet

    // After Retry-After, Wallet Union gets the push (and then the second change).
    BOOST_REQUIRE(w.relay.wait_for_tokens({wu}, 8s));
    BOOST_REQUIRE(eventually([&] { return w.relay.deliveries(wu) == 2; }));
    const auto calls = w.relay.calls("walletunion");
    BOOST_TEST(with_status(calls, 429).size() == 1u);
    for (std::size_t i = 1; i < calls.size(); ++i) {
        BOOST_TEST(calls[i].status == 200);
        BOOST_TEST(millis(calls[i].at - limited.at) >= 1900,
                   "call " << i << " came during the pause");
    }
    BOOST_REQUIRE(eventually([&] {
        return count(w.server.storage_url(), "SELECT COUNT(*) FROM outbox WHERE state <> 'done'") ==
               0;
    }));
    const auto log = w.server.log();
    BOOST_TEST(log.find("push relay: rate limited, pausing") != std::string::npos);
    // The held push was not a failed attempt: no retry was recorded for it.
    BOOST_TEST(log.find("giving up") == std::string::npos);
    auto metrics = w.client->get("/metrics").body();
    BOOST_TEST(
        metrics.find("cardsmith_pushes_total{wallet=\"walletunion_fcm\",outcome=\"retry\"") ==
        std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_identity_with_its_own_relay_key_pushes_with_it) {
    World w;
    constexpr char kOwnKey[] = "merchant-own-walletunion-key-0123456789";
    w.relay.accept_key("walletunion", kOwnKey);
    const auto issued = test::issue("pass.merchant.relay", "TEAMREL", "wwdr");
    const auto& cert = issued.cert_pem;
    const auto& private_key = issued.key_pem;
    auto up = w.client->post_json("/api/v1/identities",
                                  {{"certificate", cert}, {"privateKey", private_key}}, w.key);
    BOOST_REQUIRE_MESSAGE(up.result_int() == 201, up.body());
    const auto id = test::json_of(up).at("id").as_int64();
    const auto keys_path = "/api/v1/identities/" + std::to_string(id) + "/relay-keys";
    BOOST_TEST(json::serialize(test::json_of(up).at("relayKeys")) ==
               R"({"walletunion":false,"walletpasses":false,"pass2u":false})");

    // A program of the merchant's identity, a card, and a Wallet Union phone holding it.
    auto p = w.client->post_json(
        "/api/v1/programs",
        {{"slug", "roast"}, {"name", "Roast"}, {"template", "coffee"}, {"identity", id}}, w.key);
    BOOST_REQUIRE_MESSAGE(p.result_int() == 201, p.body());
    auto c = w.client->post_json("/api/v1/programs/roast/cards",
                                 {{"holder", {{"email", "ben@example.com"}}}}, w.key);
    BOOST_REQUIRE_EQUAL(c.result_int(), 201);
    const auto card = test::json_of(c).as_object();
    auto bytes = w.client->get(path_of(std::string(card.at("links").at("pkpass").as_string())));
    BOOST_REQUIRE_EQUAL(bytes.result_int(), 200);
    const auto pass = json::parse(test::unzip(bytes.body())["pass.json"]).as_object();
    const std::string own_type(pass.at("passTypeIdentifier").as_string());
    BOOST_REQUIRE_EQUAL(own_type, "pass.merchant.relay");
    const auto own_token = fcm_token("own"), server_token = fcm_token("server");
    auto reg = w.client->request(
        verb::post,
        "/apple/v1/devices/own-phone/registrations/" + own_type + "/" +
            std::string(pass.at("serialNumber").as_string()),
        json::serialize(json::object{{"pushToken", own_token}}),
        {{"Authorization",
          "WalletUnionPass " + std::string(pass.at("authenticationToken").as_string())},
         {"Content-Type", "application/json"}});
    BOOST_REQUIRE_EQUAL(reg.result_int(), 201);
    BOOST_REQUIRE_EQUAL(w.register_as("server-phone", server_token, "WalletUnionPass").result_int(),
                        201);
    const auto own_number = std::string(card.at("cardNumber").as_string());
    const auto earn = [&](const std::string& number) {
        auto r = w.client->request(
            verb::post, "/api/v1/cards/" + number + "/transactions",
            json::serialize(json::object{{"points", 1}}),
            {{"Authorization", "Bearer " + w.key}, {"Content-Type", "application/json"}});
        BOOST_REQUIRE_MESSAGE(r.result_int() == 201, r.body());
    };
    const auto put_keys = [&](const json::object& body, const std::string& key) {
        return w.client->request(
            verb::put, keys_path, json::serialize(body),
            {{"Authorization", "Bearer " + key}, {"Content-Type", "application/json"}});
    };

    // Refused: unknown relays, bad values, another merchant's key, no such identity.
    auto unknown = put_keys({{"walletunion", kOwnKey}, {"passworks", "x"}}, w.key);
    BOOST_TEST(unknown.result_int() == 422, unknown.body());
    BOOST_TEST(test::json_of(unknown).at("error").at("field").as_string() == "passworks");
    for (const json::value& bad : {json::value(42), json::value(""), json::value("a\nb"),
                                   json::value(std::string(513, 'k')), json::value(true)}) {
        BOOST_TEST(put_keys({{"walletunion", bad}}, w.key).result_int() == 422,
                   json::serialize(bad));
    }
    auto other =
        w.client->post_json("/api/v1/merchants", {{"name", "Other"}}, w.server.admin_key());
    BOOST_REQUIRE_EQUAL(other.result_int(), 201);
    const std::string other_key(test::json_of(other).at("apiKey").as_string());
    BOOST_TEST(put_keys({{"walletunion", kOwnKey}}, other_key).result_int() == 404);
    BOOST_TEST(
        w.client
            ->request(verb::put, "/api/v1/identities/999999/relay-keys", R"({"walletunion":"x"})",
                      {{"Authorization", "Bearer " + w.key}, {"Content-Type", "application/json"}})
            .result_int() == 404);
    BOOST_TEST(
        w.client
            ->request(verb::put, "/api/v1/identities/abc/relay-keys", "{}",
                      {{"Authorization", "Bearer " + w.key}, {"Content-Type", "application/json"}})
            .result_int() == 404);
    BOOST_TEST(w.client->request(verb::put, keys_path, R"({"walletunion":"x"})").result_int() ==
               401);
    BOOST_TEST(count(w.server.storage_url(),
                     "SELECT COUNT(*) FROM identities WHERE relay_keys_sealed IS NOT NULL") == 0);

    // Set: never echoed, only which are set.
    auto set = put_keys({{"walletunion", kOwnKey}}, w.key);
    BOOST_REQUIRE_MESSAGE(set.result_int() == 200, set.body());
    BOOST_TEST(set.body().find(kOwnKey) == std::string::npos);
    BOOST_TEST(json::serialize(test::json_of(set).at("relayKeys")) ==
               R"({"walletunion":true,"walletpasses":false,"pass2u":false})");
    auto listed = w.client->get("/api/v1/identities", w.key);
    BOOST_TEST(listed.body().find(kOwnKey) == std::string::npos);
    BOOST_TEST(test::json_of(listed).at("identities").at(0).at("relayKeys").at("walletunion") ==
               json::value(true));
    const auto sealed = query(w.server.storage_url(), "SELECT relay_keys_sealed FROM identities");
    BOOST_REQUIRE_EQUAL(sealed.size(), 1u);
    BOOST_TEST(sealed[0][0].rfind("v1.", 0) == 0u);
    BOOST_TEST(sealed[0][0].find(kOwnKey) == std::string::npos);

    // Each pass's push carries its identity's key, or the configured one.
    const auto check_keys = [&](const std::string& what, const std::string& own_expected) {
        BOOST_TEST_CONTEXT(what) {
            w.relay.clear();
            earn(own_number);
            w.transaction(1);
            BOOST_REQUIRE(w.relay.wait_for_tokens({own_token, server_token}, 8s));
            for (const auto& call : w.relay.calls("walletunion")) {
                BOOST_TEST(call.status == 200);
                BOOST_TEST(call.tokens.size() == 1u);
                const bool own = call.pass_type_id == own_type;
                BOOST_TEST(call.tokens.at(0) == (own ? own_token : server_token));
                BOOST_TEST(call.key == (own ? own_expected : w.relay.options().walletunion_key));
            }
        }
    };
    check_keys("own key", kOwnKey);

    // Kept across a restart (loaded with the identities).
    BOOST_REQUIRE_EQUAL(w.server.stop(), 0);
    w.server.start();
    w.reconnect();
    check_keys("after a restart", kOwnKey);

    // null removes it: back to the configured key; an empty body changes nothing.
    auto removed = put_keys({{"walletunion", nullptr}}, w.key);
    BOOST_REQUIRE_EQUAL(removed.result_int(), 200);
    BOOST_TEST(test::json_of(removed).at("relayKeys").at("walletunion") == json::value(false));
    BOOST_TEST(put_keys({}, w.key).result_int() == 200);
    BOOST_TEST(count(w.server.storage_url(),
                     "SELECT COUNT(*) FROM identities WHERE relay_keys_sealed IS NOT NULL") == 0);
    check_keys("removed", w.relay.options().walletunion_key);

    // The admin key may set them too.
    BOOST_TEST(put_keys({{"pass2u", "p2u-own"}}, w.server.admin_key()).result_int() == 200);
    BOOST_TEST(w.server.log().find(kOwnKey) == std::string::npos);
    BOOST_TEST(w.server.log().find("p2u-own") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
