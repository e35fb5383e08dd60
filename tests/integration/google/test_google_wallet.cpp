// Google Wallet end to end (issue 5): the real server against the fake Google (a token
// endpoint that verifies the RS256 assertion, and the Wallet REST API over TLS that checks
// bearer tokens and records calls). Save link → object inserted and a short signed save
// JWT; transaction → object patched; redesign push → class patched; 401/503/400 answers;
// the notification budget; a crash with updates queued; a redesign through the API (and its
// roll back) → the class patched once its rollout is done, also across kill -9 mid-rollout
// and while Google is down.
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <optional>
#include <thread>

#include "crypto/base64.hpp"
#include "dev_pki.hpp"
#include "fake_google.hpp"
#include "http_client.hpp"
#include "jwt_check.hpp"
#include "server_process.hpp"
#include "test_util.hpp"

using namespace cardsmith;
namespace json = boost::json;
using test::bhttp::verb;
using namespace std::chrono_literals;

namespace {

using test::eventually;
using test::exec_sql;
using test::query_text;

constexpr const char* kIssuer = "3388000000022123456";

std::string service_account_file() {
    return (test::DevPki::shared().dir.path() / "google-service-account.json").string();
}

test::FakeGoogleOptions fake_options() {
    auto& pki = test::DevPki::shared();
    test::FakeGoogleOptions o;
    o.cert_file = (pki.dir.path() / "server.pem").string();
    o.key_file = (pki.dir.path() / "server.key").string();
    o.service_account_file = service_account_file();
    o.issuer_id = kIssuer;
    return o;
}

// `google_extra`: more [google] keys.
std::string google_toml(const test::FakeGoogle& g, const std::string& google_extra = "",
                        const std::string& apns_extra = "") {
    return std::string("[google]\nissuer_id = \"") + kIssuer + "\"\nservice_account = \"" +
           service_account_file() + "\"\napi_base = \"" + g.base_url() + "\"\ntoken_url = \"" +
           g.token_url() + "\"\nca_file = \"" + test::DevPki::shared().root() + "\"\n" +
           google_extra +
           "[apns]\nretry_base_ms = 100\nretry_max_ms = 300\nidentity_pause_ms = 1000\n" +
           apns_extra;
}

// Google's side of the save/delete callbacks (ECv2SigningOnly), made with OpenSSL.
struct EcKey {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    ~EcKey() { EVP_PKEY_free(key); }
    std::string public_der() const {
        unsigned char* der = nullptr;
        const int n = i2d_PUBKEY(key, &der);
        std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
        OPENSSL_free(der);
        return out;
    }
    std::string sign(const std::string& data) const {
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        std::size_t n = 0;
        EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key);
        EVP_DigestSign(ctx, nullptr, &n, reinterpret_cast<const unsigned char*>(data.data()),
                       data.size());
        std::string sig(n, '\0');
        EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &n,
                       reinterpret_cast<const unsigned char*>(data.data()), data.size());
        EVP_MD_CTX_free(ctx);
        sig.resize(n);
        return sig;
    }
};

std::string lv(std::initializer_list<std::string> parts) {
    std::string out;
    for (const auto& p : parts) {
        const auto n = static_cast<std::uint32_t>(p.size());
        for (int i = 0; i < 4; ++i) out += static_cast<char>((n >> (8 * i)) & 0xFF);
        out += p;
    }
    return out;
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

struct GoogleSigner {
    EcKey root, intermediate;
    std::string keys_json() const {
        return json::serialize(json::object{
            {"keys",
             json::array{json::object{{"keyValue", crypto::base64_encode(root.public_der())},
                                      {"protocolVersion", "ECv2SigningOnly"}}}}});
    }
    std::string callback(const std::string& object_id, const std::string& event,
                         const std::string& nonce, std::int64_t exp_ms,
                         const std::string& recipient = kIssuer) const {
        const std::string signed_key = json::serialize(
            json::object{{"keyValue", crypto::base64_encode(intermediate.public_der())},
                         {"keyExpiration", std::to_string(now_ms() + 3'600'000)}});
        const std::string message =
            json::serialize(json::object{{"classId", std::string(kIssuer) + ".program-bean"},
                                         {"objectId", object_id},
                                         {"eventType", event},
                                         {"expTimeMillis", exp_ms},
                                         {"count", 1},
                                         {"nonce", nonce}});
        return json::serialize(json::object{
            {"protocolVersion", "ECv2SigningOnly"},
            {"intermediateSigningKey",
             {{"signedKey", signed_key},
              {"signatures", json::array{crypto::base64_encode(root.sign(
                                 lv({"GooglePayPasses", "ECv2SigningOnly", signed_key})))}}}},
            {"signedMessage", message},
            {"signature", crypto::base64_encode(intermediate.sign(
                              lv({"GooglePayPasses", recipient, "ECv2SigningOnly", message})))}});
    }
};

struct World {
    test::FakeGoogle google{fake_options()};
    std::string extra_toml, apns_toml;
    test::ServerProcess server{
        google_toml(google, extra_toml, apns_toml), {}, test::DevPki::shared().dir.path()};
    std::optional<test::Client> client_;
    std::string key;
    json::object card;

    // `extra` goes into [google] (and may open sections of its own), `apns` into [apns].
    explicit World(std::string extra = "", std::string apns = "")
        : extra_toml(std::move(extra)), apns_toml(std::move(apns)) {
        client_.emplace(server.port());
        auto m = client().post_json("/api/v1/merchants", {{"name", "Bean"}}, server.admin_key());
        key = std::string(test::json_of(m).at("apiKey").as_string());
        BOOST_REQUIRE_EQUAL(
            client()
                .post_json("/api/v1/programs",
                           {{"slug", "bean"}, {"name", "Bean There"}, {"template", "coffee"}}, key)
                .result_int(),
            201);
        auto c = client().post_json("/api/v1/programs/bean/cards",
                                    {{"holder", {{"name", "Ana Silva"}}}, {"balance", 120}}, key);
        BOOST_REQUIRE_EQUAL(c.result_int(), 201);
        card = test::json_of(c).as_object();
    }
    test::Client& client() { return *client_; }
    void restart_after_kill() {
        server.kill_hard();
        restart();
    }
    // Starts the server again (after server.kill_hard()) and reconnects.
    void restart() {
        server.start();
        client_.reset();
        client_.emplace(server.port());
    }
    // Issues `n` more cards and saves each to Google Wallet (its object inserted).
    void issue_saved_cards(int n) {
        for (int i = 0; i < n; ++i) {
            auto c = client().post_json(
                "/api/v1/programs/bean/cards",
                {{"holder", {{"name", "Holder " + std::to_string(i)}}}, {"balance", i}}, key);
            BOOST_REQUIRE_EQUAL(c.result_int(), 201);
            const std::string serial(test::json_of(c).at("serial").as_string());
            BOOST_REQUIRE_EQUAL(client().get("/g/" + serial).result_int(), 302);
        }
    }
    // An API call with the merchant's key and a JSON body.
    test::Response call(verb method, const std::string& target, const json::value& body = nullptr) {
        return client().request(
            method, target, body.is_null() ? "" : json::serialize(body),
            {{"Authorization", "Bearer " + key}, {"Content-Type", "application/json"}});
    }
    json::object rollout(std::int64_t id) {
        auto r = call(verb::get, "/api/v1/rollouts/" + std::to_string(id));
        BOOST_REQUIRE_MESSAGE(r.result_int() == 200, "rollout " << id << ": " << r.body());
        return test::json_of(r).as_object();
    }
    // PATCHes of the program's class that reached the fake, oldest first (any status).
    std::vector<test::GoogleCall> class_patches() const {
        std::vector<test::GoogleCall> out;
        for (auto& c : google.calls()) {
            if (c.method == "PATCH" && c.path.ends_with("/loyaltyClass/" + class_id())) {
                out.push_back(std::move(c));
            }
        }
        return out;
    }
    // The colour a class PATCH carried ("" when it carried none).
    static std::string colour_of(const test::GoogleCall& c) {
        const auto body = json::parse(c.body).as_object();
        const auto* colour = body.if_contains("hexBackgroundColor");
        return colour ? std::string(colour->as_string()) : "";
    }
    std::string google_colour() const {
        auto k = google.klass(class_id());
        return k ? std::string(k->at("hexBackgroundColor").as_string()) : "";
    }
    std::string number() const { return std::string(card.at("cardNumber").as_string()); }
    std::string serial() const { return std::string(card.at("serial").as_string()); }
    std::string object_id() const { return std::string(kIssuer) + ".card-" + number(); }
    std::string class_id() const { return std::string(kIssuer) + ".program-bean"; }
    std::int64_t google_balance() const {
        auto o = google.object(object_id());
        if (!o) return -1;
        return o->at("loyaltyPoints").at("balance").at("int").as_int64();
    }
    test::Response save() { return client().get("/g/" + serial()); }
    void earn(int points) {
        BOOST_REQUIRE_EQUAL(
            client()
                .post_json("/api/v1/cards/" + number() + "/transactions", {{"points", points}}, key)
                .result_int(),
            201);
    }
    std::size_t patches() const {
        std::size_t n = 0;
        for (const auto& c : google.calls()) {
            if (c.method == "PATCH" && c.path.find("/loyaltyObject/") != std::string::npos) ++n;
        }
        return n;
    }
};

std::string jwt_of(const test::Response& r) {
    const std::string location(r[test::bhttp::field::location]);
    const std::string prefix = "https://pay.google.com/gp/v/save/";
    BOOST_REQUIRE_MESSAGE(location.rfind(prefix, 0) == 0, location);
    return location.substr(prefix.size());
}

std::int64_t rollout_id(const test::Response& r) {
    return test::json_of(r).at("rollout").at("id").as_int64();
}

// Waits until rollout `id` is done; meanwhile, every look at the fake taken while the
// rollout was still moving cards must show no class PATCH (Google's copy of the design
// changes once, at the end). Returns how many such looks there were.
int wait_done_without_early_class_patch(World& w, std::int64_t id, std::size_t patches_before,
                                        std::chrono::milliseconds timeout = 10s) {
    int looks_while_running = 0;
    std::string early;  // the first look that saw a class PATCH before the end
    const bool done = eventually(
        [&] {
            const auto seen = w.class_patches().size();  // before the state: no race
            const auto r = w.rollout(id);
            if (r.at("state").as_string() == "done") return true;
            ++looks_while_running;
            if (seen != patches_before && early.empty()) {
                early = "class PATCHed while the rollout was " +
                        std::string(r.at("state").as_string()) + " at " +
                        std::to_string(r.at("cardsDone").as_int64()) + "/" +
                        std::to_string(r.at("cardsTotal").as_int64());
            }
            return false;
        },
        timeout);
    BOOST_TEST(early.empty(), early);
    BOOST_TEST(done, "rollout " << id << " not done: " << json::serialize(w.rollout(id)));
    return looks_while_running;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(google_wallet)

BOOST_AUTO_TEST_CASE(save_link_inserts_the_object_and_redirects_to_a_signed_short_jwt) {
    World w;
    const std::string link(w.card.at("links").at("googleSave").as_string());
    BOOST_TEST(link.find("/g/" + w.serial()) != std::string::npos);
    BOOST_TEST(w.google.object_ids().empty());  // nothing at Google before the click

    auto r = w.save();
    BOOST_REQUIRE_EQUAL(r.result_int(), 302);
    const std::string jwt = jwt_of(r);
    BOOST_TEST(jwt.size() <= 1800u);
    const auto sa = test::load_service_account(service_account_file());
    auto check = test::check_save_jwt(jwt, sa.private_key, sa.client_email);
    BOOST_TEST(check.ok, [&] {
        std::string all;
        for (const auto& p : check.problems) all += p + "; ";
        return all;
    }());
    auto verified = test::check_rs256_jwt(jwt, test::public_key_pem(sa.private_key));
    BOOST_REQUIRE_MESSAGE(verified.ok(), verified.error);
    const auto& objects = verified.claims.at("payload").at("loyaltyObjects").as_array();
    BOOST_REQUIRE_EQUAL(objects.size(), 1u);
    BOOST_TEST(objects[0].at("id").as_string() == w.object_id());
    BOOST_TEST(objects[0].at("classId").as_string() == w.class_id());
    BOOST_TEST(verified.claims.at("aud").as_string() == "google");
    BOOST_TEST(verified.claims.at("typ").as_string() == "savetowallet");
    BOOST_TEST(verified.claims.at("origins").as_array().size() == 1u);

    // The class from the design, the object from the card.
    auto klass = w.google.klass(w.class_id());
    BOOST_REQUIRE(klass);
    BOOST_TEST(klass->at("programName").as_string() == "Bean There");
    BOOST_TEST(std::string(klass->at("hexBackgroundColor").as_string()).size() == 7u);
    const std::string logo(klass->at("programLogo").at("sourceUri").at("uri").as_string());
    BOOST_TEST(logo.find("/images/bean/icon@3x.png?v=") != std::string::npos);
    auto object = w.google.object(w.object_id());
    BOOST_REQUIRE(object);
    BOOST_TEST(object->at("accountId").as_string() == w.number());
    BOOST_TEST(object->at("accountName").as_string() == "Ana Silva");
    BOOST_TEST(object->at("state").as_string() == "ACTIVE");
    BOOST_TEST(object->at("barcode").at("type").as_string() == "QR_CODE");
    BOOST_TEST(object->at("barcode").at("value").as_string() == w.number());
    BOOST_TEST(w.google_balance() == 120);
    // The served logo is our own image, reachable at that path.
    const std::string logo_path = logo.substr(logo.find("/images/"));
    BOOST_TEST(w.client().get(logo_path).result_int() == 200);

    // A second click: no duplicate; the existing object is brought up to date (409 → PATCH).
    auto again = w.save();
    BOOST_REQUIRE_EQUAL(again.result_int(), 302);
    BOOST_TEST(w.google.object_ids().size() == 1u);
    // One access token for all of it.
    BOOST_TEST(w.google.token_requests() == 1u);
    // The card page offers the Google button.
    auto page = w.client().get("/c/" + w.serial());
    BOOST_TEST(page.body().find("/g/" + w.serial()) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(transactions_patch_the_object_and_a_redesign_patches_the_class) {
    World w;
    // Before the save link is used, a transaction sends nothing to Google.
    w.earn(5);
    std::this_thread::sleep_for(300ms);
    BOOST_TEST(w.patches() == 0u);
    BOOST_REQUIRE_EQUAL(w.save().result_int(), 302);
    BOOST_TEST(w.google_balance() == 125);

    w.earn(40);
    BOOST_TEST(eventually([&] { return w.google_balance() == 165; }));
    const auto calls = w.google.calls();
    bool notified = false;
    for (const auto& c : calls) {
        if (c.method == "PATCH" && c.body.find("NOTIFY_ON_UPDATE") != std::string::npos) {
            notified = true;
        }
    }
    BOOST_TEST(!notified);  // no notification in the first 12 hours after the save

    // `cardsmith push --program` (what a redesign does): the class is patched.
    auto pushed = test::run_cardsmith(
        {"push", "--program", "bean", "--config", (w.server.dir() / "cardsmith.toml").string()});
    BOOST_REQUIRE_MESSAGE(pushed.exit_code == 0, pushed.out);
    BOOST_TEST(eventually([&] {
        for (const auto& c : w.google.calls()) {
            if (c.method == "PATCH" &&
                c.path.find("/loyaltyClass/" + w.class_id()) != std::string::npos) {
                return true;
            }
        }
        return false;
    }));
}

BOOST_AUTO_TEST_CASE(an_api_redesign_patches_the_class_once_its_rollout_is_done_and_rolls_back) {
    // 250 ms a card: 1.5 s for 6, longer than the dispatcher's 1 s poll, so a class update
    // queued too early would reach the fake while the rollout still runs.
    World w("[rollouts]\ncards_per_second = 4\n");
    w.issue_saved_cards(5);
    BOOST_REQUIRE_EQUAL(w.save().result_int(), 302);
    BOOST_REQUIRE_EQUAL(w.google.object_ids().size(), 6u);
    const std::string before = w.google_colour();
    BOOST_REQUIRE_EQUAL(before.size(), 7u);
    BOOST_REQUIRE_NE(before, "#0A5C36");
    w.google.clear_calls();

    auto r = w.call(verb::patch, "/api/v1/programs/bean/design",
                    {{"colors", {{"background", "#0a5c36"}}}});
    BOOST_REQUIRE_MESSAGE(r.result_int() == 200, r.body());
    BOOST_TEST(test::json_of(r).at("version").as_int64() == 2);
    const auto id = rollout_id(r);
    BOOST_TEST(wait_done_without_early_class_patch(w, id, 0) > 0);
    auto done = w.rollout(id);
    BOOST_TEST(done.at("cardsTotal").as_int64() == 6);
    BOOST_TEST(done.at("cardsDone").as_int64() == 6);
    BOOST_TEST(done.at("version").as_int64() == 2);
    // Then one PATCH of the class, with the new colour; Google's class has it.
    BOOST_TEST(w.google.wait_for([&] { return !w.class_patches().empty(); }, 10s), w.server.log());
    BOOST_TEST(eventually([&] { return w.google_colour() == "#0A5C36"; }));
    auto patches = w.class_patches();
    BOOST_REQUIRE_EQUAL(patches.size(), 1u);
    BOOST_TEST(patches[0].status == 200u);
    BOOST_TEST(World::colour_of(patches[0]) == "#0A5C36");
    BOOST_TEST(w.google.klass(w.class_id())->at("programName").as_string() == "Bean There");

    // Roll back: publish version 1 again; the class gets the old colour back.
    auto back = w.call(verb::post, "/api/v1/programs/bean/designs/1/publish");
    BOOST_REQUIRE_MESSAGE(back.result_int() == 200, back.body());
    BOOST_TEST(test::json_of(back).at("designVersion").as_int64() == 1);
    const auto back_id = rollout_id(back);
    BOOST_TEST(back_id != id);
    BOOST_TEST(wait_done_without_early_class_patch(w, back_id, 1) > 0);
    BOOST_TEST(w.rollout(back_id).at("cardsDone").as_int64() == 6);
    BOOST_TEST(w.google.wait_for([&] { return w.class_patches().size() >= 2; }, 10s),
               w.server.log());
    BOOST_TEST(eventually([&] { return w.google_colour() == before; }));
    patches = w.class_patches();
    BOOST_REQUIRE_EQUAL(patches.size(), 2u);
    BOOST_TEST(patches[1].status == 200u);
    BOOST_TEST(World::colour_of(patches[1]) == before);
}

BOOST_AUTO_TEST_CASE(a_redesign_reaches_google_across_kill_9_mid_rollout_and_while_google_is_down) {
    World w("[rollouts]\ncards_per_second = 4\n");  // 250 ms a card: 3 s for 12
    w.issue_saved_cards(11);
    BOOST_REQUIRE_EQUAL(w.save().result_int(), 302);
    BOOST_REQUIRE_EQUAL(w.google.object_ids().size(), 12u);
    const std::string before = w.google_colour();
    BOOST_REQUIRE_NE(before, "#778899");
    w.google.clear_calls();
    w.google.fail_next("*", 503, 100000);  // Google is down from here on
    const auto db = w.server.storage_url();

    auto r = w.call(verb::patch, "/api/v1/programs/bean/design",
                    {{"colors", {{"background", "#778899"}}}});
    BOOST_REQUIRE_MESSAGE(r.result_int() == 200, r.body());
    const auto id = rollout_id(r);
    BOOST_TEST(eventually([&] {
        auto p = w.rollout(id);
        return p.at("cardsDone").as_int64() >= 2 && p.at("state").as_string() == "running";
    }));

    // kill -9 mid-way: part of the cards moved, nothing sent to Google yet.
    w.server.kill_hard();
    const auto moved = std::stoll(
        query_text(db, "SELECT cards_done FROM rollouts WHERE id = " + std::to_string(id)));
    BOOST_TEST(moved >= 2);
    BOOST_TEST(moved < 12);
    BOOST_TEST(query_text(db, "SELECT state FROM rollouts WHERE id = " + std::to_string(id)) ==
               "running");
    BOOST_TEST(w.class_patches().empty());

    // The next start carries on and, at the end, tries Google (still down).
    w.restart();
    BOOST_TEST(wait_done_without_early_class_patch(w, id, 0, 20s) > 0);
    BOOST_TEST(w.rollout(id).at("cardsDone").as_int64() == 12);
    BOOST_REQUIRE_MESSAGE(w.google.wait_for([&] { return !w.class_patches().empty(); }, 10s),
                          "no class PATCH after the resumed rollout: " + w.server.log());
    BOOST_TEST(w.class_patches().front().status == 503u);
    BOOST_TEST(w.google_colour() == before);

    // kill -9 again while the class update waits for its retry (not in flight: a claimed
    // row would wait for its lease to run out).
    const auto waiting = [] {
        const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
        return "SELECT COUNT(*) FROM outbox WHERE kind = 'google_class' AND state = 'pending' "
               "AND not_before > " +
               std::to_string(now_ms + 40);
    };
    BOOST_TEST(eventually([&] { return query_text(db, waiting()) == "1"; }, 5s));
    w.server.kill_hard();
    BOOST_TEST(query_text(db,
                          "SELECT COUNT(*) FROM outbox WHERE kind = 'google_class' AND "
                          "state = 'pending'") == "1");

    // Google is back: the class gets the new colour, the rollout stays done.
    w.google.clear_failures();
    const auto attempts = w.class_patches().size();
    w.restart();
    BOOST_TEST(eventually([&] { return w.google_colour() == "#778899"; }, 15s), w.server.log());
    const auto patches = w.class_patches();
    BOOST_REQUIRE_GT(patches.size(), attempts);
    BOOST_TEST(patches.back().status == 200u);
    BOOST_TEST(World::colour_of(patches.back()) == "#778899");
    for (const auto& p : patches) {
        BOOST_TEST(World::colour_of(p) == "#778899");  // every try carried the new design
    }
    auto done = w.rollout(id);
    BOOST_TEST(done.at("state").as_string() == "done");
    BOOST_TEST(done.at("cardsDone").as_int64() == 12);
    BOOST_TEST(done.at("cardsTotal").as_int64() == 12);
    // The row is settled once the answer is in: nothing left to send, nothing dead.
    const std::string left =
        "SELECT string_agg(state, ',') FROM outbox WHERE kind = 'google_class' AND state IN "
        "('pending', 'sending', 'dead')";
    BOOST_TEST(eventually([&] { return query_text(db, left).empty(); }), query_text(db, left));
}

BOOST_AUTO_TEST_CASE(google_failures_retry_refresh_or_die_with_the_message) {
    World w;
    BOOST_REQUIRE_EQUAL(w.save().result_int(), 302);
    // 503 twice: retried with backoff, then patched.
    w.google.fail_next("*", 503, 2);
    w.earn(10);
    BOOST_TEST(eventually([&] { return w.google_balance() == 130; }));
    // A revoked token: 401, one new token, the call succeeds.
    const auto tokens = w.google.token_requests();
    w.google.revoke_tokens();
    w.earn(10);
    BOOST_TEST(eventually([&] { return w.google_balance() == 140; }));
    BOOST_TEST(w.google.token_requests() == tokens + 1);
    // A permanent 400: not retried; the row is dead with Google's message.
    w.google.fail_next("/walletobjects/v1/loyaltyObject", 400, 1);
    w.earn(10);
    BOOST_TEST(eventually([&] {
        return !query_text(w.server.storage_url(),
                           "SELECT last_error FROM outbox WHERE state = 'dead' AND kind = "
                           "'google_object'")
                    .empty();
    }));
    BOOST_TEST(w.google_balance() == 140);
    // The next change goes through again.
    w.earn(1);
    BOOST_TEST(eventually([&] { return w.google_balance() == 151; }));
}

BOOST_AUTO_TEST_CASE(googles_quota_and_outages_spend_no_attempts) {
    World w("", "max_attempts = 2\n");
    BOOST_REQUIRE_EQUAL(w.save().result_int(), 302);
    // Three 429s (the issuer's quota) and two 503s, more than max_attempts together and
    // each: the update still arrives.
    w.google.fail_next("*", 429, 3);
    w.earn(10);
    BOOST_TEST(eventually([&] { return w.google_balance() == 130; }));
    w.google.fail_next("*", 503, 3);
    w.earn(10);
    BOOST_TEST(eventually([&] { return w.google_balance() == 140; }));
    BOOST_TEST(query_text(w.server.storage_url(),
                          "SELECT string_agg(state, ',') FROM outbox WHERE state = 'dead'")
                   .empty());
}

BOOST_AUTO_TEST_CASE(queued_google_updates_survive_a_crash) {
    World w;
    BOOST_REQUIRE_EQUAL(w.save().result_int(), 302);
    w.google.fail_next("*", 503, 1000);  // Google is down
    w.earn(30);
    BOOST_TEST(eventually([&] {
        for (const auto& c : w.google.calls()) {
            if (c.method == "PATCH" && c.status == 503) return true;
        }
        return false;
    }));
    w.restart_after_kill();
    w.google.clear_failures();  // Google is back
    BOOST_TEST(eventually([&] { return w.google_balance() == 150; }, 15s));
}

BOOST_AUTO_TEST_CASE(notifications_respect_googles_budget) {
    World w;
    BOOST_REQUIRE_EQUAL(w.save().result_int(), 302);
    // The save was 13 hours ago: notifications are allowed, three a day.
    exec_sql(w.server.storage_url(),
             "UPDATE cards SET google_saved_at = google_saved_at - 13 * 3600000");
    int expected = 120;
    std::vector<bool> notified;
    for (int i = 0; i < 4; ++i) {
        const auto before = w.patches();
        w.earn(1);
        ++expected;
        BOOST_REQUIRE(eventually([&] { return w.google_balance() == expected; }));
        BOOST_REQUIRE(eventually([&] { return w.patches() > before; }));
        const auto calls = w.google.calls();
        for (auto it = calls.rbegin(); it != calls.rend(); ++it) {
            if (it->method == "PATCH") {
                notified.push_back(it->body.find("NOTIFY_ON_UPDATE") != std::string::npos);
                break;
            }
        }
    }
    BOOST_REQUIRE_EQUAL(notified.size(), 4u);
    BOOST_TEST(notified[0]);
    BOOST_TEST(notified[1]);
    BOOST_TEST(notified[2]);
    BOOST_TEST(!notified[3]);  // over budget: updated silently
    BOOST_TEST(w.google.notifications(w.object_id()).size() == 3u);
}

BOOST_AUTO_TEST_CASE(campaigns_add_messages_within_the_notification_budget) {
    World w;
    BOOST_REQUIRE_EQUAL(w.save().result_int(), 302);
    auto campaign = [&](const std::string& message) {
        auto r = w.client().post_json(
            "/api/v1/programs/bean/campaigns",
            {{"message", message}, {"header", "Bean There"}, {"frequencyCapHours", 0}}, w.key);
        BOOST_REQUIRE_MESSAGE(r.result_int() == 202, r.body());
        const auto id = test::json_of(r).at("id").as_int64();
        json::object c;
        BOOST_REQUIRE(eventually([&] {
            c = test::json_of(w.client().get("/api/v1/campaigns/" + std::to_string(id), w.key))
                    .as_object();
            return c.at("googleNotified").as_int64() + c.at("googleSilent").as_int64() == 1;
        }));
        return c;
    };
    auto messages = [&] {
        auto o = w.google.object(w.object_id());
        BOOST_REQUIRE(o);
        return o->contains("messages") ? o->at("messages").as_array() : json::array{};
    };
    // Within 12 hours of the save: the message is added silently.
    auto first = campaign("Welcome treat");
    BOOST_TEST(first.at("googleSilent").as_int64() == 1);
    BOOST_TEST(first.at("delivered").as_int64() == 1);
    BOOST_TEST(messages().back().at("messageType").as_string() == "TEXT");
    BOOST_TEST(messages().back().at("body").as_string() == "Welcome treat");
    BOOST_TEST(w.google.notifications(w.object_id()).empty());
    // 13 hours later: three notifying messages a day, then silent ones again.
    exec_sql(w.server.storage_url(),
             "UPDATE cards SET google_saved_at = google_saved_at - 13 * 3600000");
    for (int i = 0; i < 3; ++i) {
        auto c = campaign("Offer " + std::to_string(i));
        BOOST_TEST(c.at("googleNotified").as_int64() == 1);
        BOOST_TEST(messages().back().at("messageType").as_string() == "TEXT_AND_NOTIFY");
    }
    auto over = campaign("One too many");
    BOOST_TEST(over.at("googleSilent").as_int64() == 1);
    BOOST_TEST(messages().back().at("messageType").as_string() == "TEXT");
    BOOST_TEST(w.google.notifications(w.object_id()).size() == 3u);
    // Message ids are the campaigns': a retried addMessage cannot add a second copy.
    BOOST_TEST(std::string(messages().back().at("id").as_string()).rfind("campaign-", 0) == 0u);
    // A campaign does not PATCH the object (that would spend a notification too).
    BOOST_TEST(w.patches() == 0u);
}

BOOST_AUTO_TEST_CASE(a_start_up_probe_reports_a_refused_issuer_in_readyz) {
    World w;
    auto google_status = [&] {
        auto r = w.client().get("/readyz");
        return std::string(test::json_of(r).at("google").as_string());
    };
    BOOST_TEST(eventually([&] { return google_status() == "ok"; }));
    bool listed = false;
    for (const auto& c : w.google.calls()) {
        listed = listed || (c.method == "GET" &&
                            c.target.find("/loyaltyClass?issuerId=") != std::string::npos);
    }
    BOOST_TEST(listed);
    // The channel's details: the probe and the OAuth token it needed (operations.md).
    auto channel = test::json_of(w.client().get("/readyz")).at("channels").at("google");
    BOOST_TEST(channel.at("probe").as_string() == "ok");
    BOOST_TEST(channel.at("token").as_string() == "ok");
    BOOST_TEST(w.client().get("/metrics").body().find("\ncardsmith_google_up 1\n") !=
               std::string::npos);
    // The service account is not a user of the issuer: said plainly, the server stays up.
    w.google.fail_next("/walletobjects/v1/loyaltyClass", 403, 1);
    w.restart_after_kill();
    BOOST_TEST(eventually([&] { return google_status().rfind("refused", 0) == 0; }));
    BOOST_TEST(google_status().find(kIssuer) != std::string::npos);
    BOOST_TEST(w.client().get("/readyz").result_int() == 200);
    BOOST_TEST(test::json_of(w.client().get("/readyz")).at("push").as_string() == "degraded");
    BOOST_TEST(w.client().get("/metrics").body().find("\ncardsmith_google_up 0\n") !=
               std::string::npos);
    BOOST_TEST(w.server.log().find("Google Wallet is not usable") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(save_and_delete_callbacks_count_as_installs_and_removals) {
    GoogleSigner google_side;
    test::TempDir dir;
    const auto keys = dir.path() / "google-keys.json";
    std::ofstream(keys) << google_side.keys_json();
    World w("callbacks = true\ncallback_keys = \"" + keys.string() + "\"\n");
    BOOST_REQUIRE_EQUAL(w.save().result_int(), 302);
    auto klass = w.google.klass(w.class_id());
    BOOST_REQUIRE(klass);
    BOOST_TEST(
        std::string(klass->at("callbackOptions").at("url").as_string()).find("/google/callback") !=
        std::string::npos);

    const auto post = [&](const std::string& body) {
        return w.client().request(verb::post, "/google/callback", body,
                                  {{"Content-Type", "application/json"}});
    };
    const auto stats = [&] {
        return test::json_of(w.client().get("/api/v1/programs/bean/stats", w.key)).as_object();
    };
    const auto later = now_ms() + 60'000;
    BOOST_TEST(post(google_side.callback(w.object_id(), "save", "n-1", later)).result_int() == 200);
    BOOST_TEST(stats().at("passesInstalled").as_int64() == 1);
    // Google retries: the same nonce counts once.
    BOOST_TEST(post(google_side.callback(w.object_id(), "save", "n-1", later)).result_int() == 200);
    BOOST_TEST(stats().at("passesInstalled").as_int64() == 1);
    BOOST_TEST(post(google_side.callback(w.object_id(), "del", "n-2", later)).result_int() == 200);
    BOOST_TEST(stats().at("passesRemoved").as_int64() == 1);
    BOOST_TEST(query_text(w.server.storage_url(),
                          "SELECT wallet FROM events WHERE kind = 'pass.removed'") == "google");
    // Expired: dropped, not counted.
    BOOST_TEST(
        post(google_side.callback(w.object_id(), "save", "n-3", now_ms() - 1000)).result_int() ==
        200);
    BOOST_TEST(stats().at("passesInstalled").as_int64() == 1);
    // Forged: another key pair, another recipient, a tampered message, garbage.
    GoogleSigner stranger;
    BOOST_TEST(post(stranger.callback(w.object_id(), "save", "n-4", later)).result_int() == 400);
    BOOST_TEST(
        post(google_side.callback(w.object_id(), "save", "n-5", later, "999")).result_int() == 400);
    auto tampered = google_side.callback(w.object_id(), "save", "n-6", later);
    tampered.replace(tampered.find("n-6"), 3, "n-7");
    BOOST_TEST(post(tampered).result_int() == 400);
    BOOST_TEST(post("{not json").result_int() == 400);
    BOOST_TEST(stats().at("passesInstalled").as_int64() == 1);
    // An object that is not ours: acknowledged, ignored.
    BOOST_TEST(post(google_side.callback(std::string(kIssuer) + ".card-0000", "save", "n-8", later))
                   .result_int() == 200);
    BOOST_TEST(stats().at("passesInstalled").as_int64() == 1);
}

BOOST_AUTO_TEST_CASE(without_google_there_is_no_save_link) {
    test::ServerProcess server;
    test::Client client(server.port());
    auto m = client.post_json("/api/v1/merchants", {{"name", "Bean"}}, server.admin_key());
    const std::string key(test::json_of(m).at("apiKey").as_string());
    client.post_json("/api/v1/programs",
                     {{"slug", "bean"}, {"name", "Bean"}, {"template", "coffee"}}, key);
    auto c = client.post_json("/api/v1/programs/bean/cards", {{"holder", {{"name", "A"}}}}, key);
    auto card = test::json_of(c).as_object();
    BOOST_TEST(card.at("links").at("googleSave").is_null());
    BOOST_TEST(client.get("/g/" + std::string(card.at("serial").as_string())).result_int() == 404);
}

BOOST_AUTO_TEST_CASE(a_bad_service_account_stops_the_server_at_start) {
    auto r = test::run_cardsmith({"serve", "--config", "/nonexistent.toml"});
    BOOST_TEST(r.exit_code == 2);
    test::TempDir dir;
    const auto cfg = dir.path() / "c.toml";
    const auto& pki = test::DevPki::shared().dir.path();
    std::ofstream(cfg) << "[server]\nlisten = \"127.0.0.1:0\"\n[storage]\nurl = \"sqlite:"
                       << (dir.path() / "x.db").string() << "\"\n[apple]\ncert = \""
                       << (pki / "pass.pem").string() << "\"\nkey = \""
                       << (pki / "pass.key").string() << "\"\nwwdr = \""
                       << (pki / "wwdr.pem").string() << "\"\n[templates]\ndir = \""
                       << CARDSMITH_SOURCE_DIR << "/templates\"\n[google]\nissuer_id = \"123\"\n"
                       << "service_account = \"" << (dir.path() / "missing.json").string()
                       << "\"\n";
    auto bad = test::run_cardsmith({"serve", "--config", cfg.string()}, {}, dir.path());
    BOOST_TEST(bad.exit_code == 2);
    BOOST_TEST(bad.out.find("google.service_account") != std::string::npos, bad.out);
}

BOOST_AUTO_TEST_SUITE_END()
