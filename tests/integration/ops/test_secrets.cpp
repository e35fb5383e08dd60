// Secrets against the real binary (issue 8): key files others may read stop the server,
// an encrypted apple.key opens with its passphrase file, API keys rotate with a grace
// period and are revoked, `cardsmith secret-key rotate` re-seals the database next to a
// running server that follows it, and no key or token reaches the log.
#include <sys/stat.h>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "ops_world.hpp"
#include "pkpass_reader.hpp"
#include "test_db.hpp"
#include "webhook_receiver.hpp"

using namespace cardsmith;
namespace json = boost::json;
namespace fs = std::filesystem;
using test::bhttp::verb;

namespace {

int lines(const std::string& s) {
    int n = 0;
    for (char c : s) n += c == '\n';
    return n;
}

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

unsigned mode_of(const fs::path& p) {
    struct stat st {};
    BOOST_REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_mode & 0777;
}

// `cardsmith serve` on the server's own config (after it stopped): its exit and output.
test::CommandResult serve_again(const test::ServerProcess& server,
                                const std::map<std::string, std::string>& env = {}) {
    return test::run_cardsmith({"serve", "--config", (server.dir() / "cardsmith.toml").string()},
                               env, server.dir());
}

test::Response call(test::Client& c, verb method, const std::string& target, const std::string& key,
                    const json::value& body = nullptr) {
    std::map<std::string, std::string> headers{{"Authorization", "Bearer " + key}};
    std::string text;
    if (!body.is_null()) {
        text = json::serialize(body);
        headers["Content-Type"] = "application/json";
    }
    return c.request(method, target, text, headers);
}

std::string str(const json::value& v, const char* key) {
    return std::string(v.at(key).as_string());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(secrets)

BOOST_AUTO_TEST_CASE(key_files_others_may_read_stop_the_server_in_one_line) {
    test::ServerProcess server;
    BOOST_TEST(server.stop() == 0);
    const fs::path key = server.dir() / "certs/pass.key";
    const fs::path secret = server.dir() / "var/secret.key";
    BOOST_TEST(mode_of(key) == 0600U);
    BOOST_TEST(mode_of(secret) == 0600U);

    fs::permissions(key, fs::perms(0644), fs::perm_options::replace);
    auto r = serve_again(server);
    BOOST_TEST(r.exit_code == 2);
    BOOST_TEST(lines(r.out) == 1, r.out);
    BOOST_TEST(r.out == "cardsmith: apple.key: " + key.string() +
                            ": readable by group or others (mode 0644); run chmod 600 " +
                            key.string() + "\n");
    fs::permissions(key, fs::perms(0400), fs::perm_options::replace);

    fs::permissions(secret, fs::perms(0640), fs::perm_options::replace);
    r = serve_again(server);
    BOOST_TEST(r.exit_code == 2);
    BOOST_TEST(lines(r.out) == 1, r.out);
    // As configured: relative to the server's folder.
    BOOST_TEST(r.out ==
               "cardsmith: server.secret_key_file: var/secret.key: readable by group or "
               "others (mode 0640); run chmod 600 var/secret.key\n");
    fs::permissions(secret, fs::perms(0400), fs::perm_options::replace);

    // google.service_account holds a private key too.
    const fs::path account = server.dir() / "certs/google-service-account.json";
    fs::permissions(account, fs::perms(0604), fs::perm_options::replace);
    r = serve_again(server, {{"CARDSMITH_GOOGLE_ISSUER_ID", "3388000000012345678"},
                             {"CARDSMITH_GOOGLE_SERVICE_ACCOUNT", account.string()}});
    BOOST_TEST(r.exit_code == 2);
    BOOST_TEST(lines(r.out) == 1, r.out);
    BOOST_TEST(has(r.out, "google.service_account: " + account.string()), r.out);

    // 0400 key files are fine: the server starts again.
    BOOST_REQUIRE_NO_THROW(server.start());
    test::Client client(server.port());
    BOOST_TEST(client.get("/readyz").result_int() == 200);
}

BOOST_AUTO_TEST_CASE(an_encrypted_apple_key_opens_with_its_passphrase_file) {
    test::TempDir dir;
    const fs::path plain = test::DevPki::shared().dir.path() / "pass.key";
    const fs::path encrypted = dir.path() / "pass.enc.key";
    const fs::path passphrase = dir.path() / "passphrase";
    std::ofstream(passphrase) << "correct horse battery\n";
    fs::permissions(passphrase, fs::perms(0600), fs::perm_options::replace);
    // As an operator would: PKCS#8, AES-256-CBC, by the openssl command.
    const std::string cmd = "openssl pkcs8 -topk8 -v2 aes-256-cbc -in " + plain.string() +
                            " -out " + encrypted.string() +
                            " -passout file:" + passphrase.string() + " 2>&1";
    BOOST_REQUIRE_EQUAL(std::system(cmd.c_str()), 0);
    fs::permissions(encrypted, fs::perms(0600), fs::perm_options::replace);
    BOOST_REQUIRE(has(read(encrypted), "-----BEGIN ENCRYPTED PRIVATE KEY-----"));

    std::map<std::string, std::string> env{
        {"CARDSMITH_APPLE_KEY", encrypted.string()},
        {"CARDSMITH_APPLE_KEY_PASSPHRASE_FILE", passphrase.string()}};
    test::ServerProcess server("", env, test::DevPki::shared().dir.path());
    test::Shop shop(server);
    const auto card = shop.card("anna@example.com");
    const auto files = test::unzip(shop.pkpass(card));
    BOOST_TEST(files.count("signature") == 1U);
    BOOST_TEST(server.stop() == 0);

    env.erase("CARDSMITH_APPLE_KEY_PASSPHRASE_FILE");
    auto r = serve_again(server, env);
    BOOST_TEST(r.exit_code == 2);
    BOOST_TEST(lines(r.out) == 1, r.out);
    BOOST_TEST(has(r.out, "apple.key: " + encrypted.string() +
                              ": the private key is encrypted and no passphrase is set"),
               r.out);

    const fs::path wrong = dir.path() / "wrong";
    std::ofstream(wrong) << "not it\n";
    fs::permissions(wrong, fs::perms(0600), fs::perm_options::replace);
    env["CARDSMITH_APPLE_KEY_PASSPHRASE_FILE"] = wrong.string();
    r = serve_again(server, env);
    BOOST_TEST(r.exit_code == 2);
    BOOST_TEST(has(r.out, "the passphrase does not decrypt the private key"), r.out);
    BOOST_TEST(!has(r.out, "not it"), r.out);

    fs::permissions(wrong, fs::perms(0644), fs::perm_options::replace);
    r = serve_again(server, env);
    BOOST_TEST(r.exit_code == 2);
    BOOST_TEST(has(r.out, "apple.key_passphrase_file: " + wrong.string()), r.out);
}

BOOST_AUTO_TEST_CASE(api_keys_rotate_with_a_grace_period_and_are_revoked) {
    test::ServerProcess server;
    test::Shop shop(server);
    test::Client& c = shop.client;
    const std::string admin = server.admin_key();
    const std::string k1 = shop.key;
    auto merchants = call(c, verb::post, "/api/v1/merchants", admin, {{"name", "Other"}});
    const std::string other_key = str(test::json_of(merchants), "apiKey");
    const std::string keys = "/api/v1/merchants/1/keys";

    // The merchant itself: a new key, the old one works for the grace period.
    auto made = call(c, verb::post, keys, k1, {{"graceSeconds", 3600}});
    BOOST_REQUIRE_MESSAGE(made.result_int() == 201, made.body());
    const auto k2_view = test::json_of(made);
    const std::string k2 = str(k2_view, "apiKey");
    BOOST_TEST(k2.starts_with("csk_"));
    BOOST_TEST(str(k2_view, "prefix") == k2.substr(0, 8));
    BOOST_TEST(str(k2_view, "state") == "active");
    BOOST_TEST(call(c, verb::get, "/api/v1/programs/shop", k1).result_int() == 200);
    BOOST_TEST(call(c, verb::get, "/api/v1/programs/shop", k2).result_int() == 200);
    auto listed = test::json_of(call(c, verb::get, keys, k2)).at("keys").as_array();
    BOOST_REQUIRE(listed.size() == 2U);
    BOOST_TEST(str(listed[0], "state") == "expiring");
    BOOST_TEST(!listed[0].at("expiresAt").is_null());
    BOOST_TEST(str(listed[1], "state") == "active");
    BOOST_TEST(json::serialize(listed).find(k2) == std::string::npos);  // never shown again

    // Revoked at once; then the admin rotates for the merchant with no grace at all.
    const auto k1_id = listed[0].at("id").as_int64();
    BOOST_TEST(call(c, verb::delete_, keys + "/" + std::to_string(k1_id), k2).result_int() == 204);
    BOOST_TEST(call(c, verb::get, "/api/v1/programs/shop", k1).result_int() == 401);
    BOOST_TEST(call(c, verb::delete_, keys + "/" + std::to_string(k1_id), k2).result_int() == 404);
    auto by_admin = call(c, verb::post, keys, admin, {{"graceSeconds", 0}});
    BOOST_REQUIRE_EQUAL(by_admin.result_int(), 201);
    const std::string k3 = str(test::json_of(by_admin), "apiKey");
    BOOST_TEST(call(c, verb::get, "/api/v1/programs/shop", k2).result_int() == 401);
    BOOST_TEST(call(c, verb::get, "/api/v1/programs/shop", k3).result_int() == 200);
    // An empty body takes the default grace (a day).
    auto plain = c.request(verb::post, keys, "", {{"Authorization", "Bearer " + k3}});
    BOOST_REQUIRE_EQUAL(plain.result_int(), 201);
    BOOST_TEST(call(c, verb::get, "/api/v1/programs/shop", k3).result_int() == 200);

    // Another merchant sees nothing; bad input is 4xx; merchants do not manage admin keys.
    BOOST_TEST(call(c, verb::get, keys, other_key).result_int() == 404);
    BOOST_TEST(call(c, verb::post, keys, other_key).result_int() == 404);
    BOOST_TEST(call(c, verb::delete_, keys + "/1", other_key).result_int() == 404);
    BOOST_TEST(call(c, verb::get, "/api/v1/merchants/99/keys", admin).result_int() == 404);
    BOOST_TEST(call(c, verb::post, keys, k3, {{"graceSeconds", -1}}).result_int() == 422);
    BOOST_TEST(call(c, verb::post, keys, k3, {{"grace", 1}}).result_int() == 422);
    BOOST_TEST(call(c, verb::get, "/api/v1/admin/keys", k3).result_int() == 403);
    BOOST_TEST(call(c, verb::get, keys, "csk_wrong").result_int() == 401);

    // Admin keys: one stored in the database rotates; the config's admin.key stays.
    auto a1 = call(c, verb::post, "/api/v1/admin/keys", admin, {{"graceSeconds", 0}});
    BOOST_REQUIRE_EQUAL(a1.result_int(), 201);
    const std::string admin2 = str(test::json_of(a1), "apiKey");
    BOOST_TEST(call(c, verb::get, keys, admin2).result_int() == 200);
    auto a2 = call(c, verb::post, "/api/v1/admin/keys", admin2, {{"graceSeconds", 0}});
    BOOST_REQUIRE_EQUAL(a2.result_int(), 201);
    BOOST_TEST(call(c, verb::get, keys, admin2).result_int() == 401);
    BOOST_TEST(call(c, verb::get, keys, admin).result_int() == 200);
    BOOST_TEST(test::json_of(call(c, verb::get, "/api/v1/admin/keys", admin))
                   .at("keys")
                   .as_array()
                   .size() == 2U);
}

BOOST_AUTO_TEST_CASE(secret_key_rotate_reseals_next_to_a_running_server) {
    test::WebhookReceiver receiver("unused");
    test::ServerProcess server("", {{"CARDSMITH_SERVER_SYNC_INTERVAL", "1"}},
                               test::DevPki::shared().dir.path());
    test::Shop shop(server);
    const std::string db = server.storage_url();
    const auto config = (server.dir() / "cardsmith.toml").string();
    const fs::path key_file = server.dir() / "var/secret.key";

    // Something of every kind the server key seals: an identity's key and relay keys, a
    // webhook secret, a program's verification webhook secret.
    const auto [cert, key] = test::merchant_certificate("pass.merchant.rotate", 200);
    auto up = shop.client.post_json("/api/v1/identities",
                                    {{"certificate", cert}, {"privateKey", key}}, shop.key);
    BOOST_REQUIRE_MESSAGE(up.result_int() == 201, up.body());
    const auto identity = test::json_of(up).at("id").as_int64();
    BOOST_REQUIRE_EQUAL(call(shop.client, verb::put,
                             "/api/v1/identities/" + std::to_string(identity) + "/relay-keys",
                             shop.key, {{"pass2u", "relay-key-secret-0123"}})
                            .result_int(),
                        200);
    auto p =
        call(shop.client, verb::post, "/api/v1/programs", shop.key,
             {{"slug", "own"}, {"name", "Own"}, {"template", "coffee"}, {"identity", identity}});
    BOOST_REQUIRE_MESSAGE(p.result_int() == 201, p.body());
    auto hook = call(shop.client, verb::post, "/api/v1/webhooks", shop.key,
                     {{"url", receiver.url("/crm")}, {"events", {"card.created"}}});
    BOOST_REQUIRE_MESSAGE(hook.result_int() == 201, hook.body());
    const std::string hook_secret = str(test::json_of(hook), "secret");
    auto enrollment = call(shop.client, verb::put, "/api/v1/programs/shop/enrollment", shop.key,
                           {{"fields", {{"phone", "required"}}},
                            {"verification",
                             {{"channel", "phone"},
                              {"provider", "webhook"},
                              {"webhookUrl", "https://sms.example.com/send"},
                              {"webhookSecret", "verification-secret-0123456789"}}}});
    BOOST_REQUIRE_MESSAGE(enrollment.result_int() == 200, enrollment.body());

    const std::string sealed_key_before = test::query_text(db, "SELECT key_sealed FROM identities");
    const std::string key_before = read(key_file);

    // Open permissions are refused before anything changes.
    fs::permissions(key_file, fs::perms(0644), fs::perm_options::replace);
    auto refused =
        test::run_cardsmith({"secret-key", "rotate", "--config", config}, {}, server.dir());
    BOOST_TEST(refused.exit_code == 2);
    BOOST_TEST(has(refused.out, "server.secret_key_file: var/secret.key: readable"), refused.out);
    fs::permissions(key_file, fs::perms(0600), fs::perm_options::replace);
    BOOST_TEST(test::run_cardsmith({"secret-key", "frob"}).exit_code == 2);

    auto r = test::run_cardsmith({"secret-key", "rotate", "--config", config}, {}, server.dir());
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.out);
    BOOST_TEST(has(r.out, "4 sealed secrets re-sealed in one transaction"), r.out);
    BOOST_TEST(read(fs::path(key_file.string() + ".old")) == key_before);
    BOOST_TEST(read(key_file) != key_before);
    BOOST_TEST(read(key_file).size() == 65U);
    BOOST_TEST(mode_of(key_file) == 0600U);
    BOOST_TEST(mode_of(key_file.string() + ".old") == 0600U);
    BOOST_TEST(test::query_text(db, "SELECT key_sealed FROM identities") != sealed_key_before);

    // The running server follows: it reloads the key and the re-sealed identity, and a
    // webhook is still signed with the same secret.
    BOOST_TEST(test::eventually([&] { return has(server.log(), "server key reloaded"); }),
               server.log());
    BOOST_TEST(test::eventually(
        [&] { return has(server.log(), "identity loaded as changed in the database"); }));
    const auto card = json::parse(call(shop.client, verb::post, "/api/v1/programs/own/cards",
                                       shop.key, {{"holder", {{"email", "b@example.com"}}}})
                                      .body());
    BOOST_TEST(test::unzip(shop.pkpass(card.as_object())).count("signature") == 1U);
    const auto calls = receiver.wait_for(1);
    BOOST_REQUIRE(!calls.empty());
    BOOST_TEST(test::check_signature(hook_secret, calls.back().headers.at("cardsmith-signature"),
                                     calls.back().body));

    // A second rotation, then a restart: everything opens with the file alone.
    r = test::run_cardsmith({"secret-key", "rotate", "--config", config}, {}, server.dir());
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.out);
    BOOST_TEST(server.stop() == 0);
    fs::remove(key_file.string() + ".old");
    BOOST_REQUIRE_NO_THROW(server.start());
    test::Client again(server.port());
    const auto card2 = test::json_of(call(again, verb::post, "/api/v1/programs/own/cards", shop.key,
                                          {{"holder", {{"email", "c@example.com"}}}}));
    auto pass = again.get(test::path_of(std::string(card2.at("links").at("pkpass").as_string())));
    BOOST_TEST(pass.result_int() == 200);
    BOOST_TEST(!has(server.log(), "not loaded"), server.log());
}

BOOST_AUTO_TEST_CASE(no_key_or_token_reaches_the_log) {
    test::ServerProcess server("", {{"CARDSMITH_LOG_LEVEL", "debug"}},
                               test::DevPki::shared().dir.path());
    test::Shop shop(server);
    auto rotated = call(shop.client, verb::post, "/api/v1/merchants/1/keys", shop.key);
    const std::string rotated_key = str(test::json_of(rotated), "apiKey");
    const auto card = shop.card("anna@example.com");
    auto pass = json::parse(test::unzip(shop.pkpass(card))["pass.json"]).as_object();
    const auto page = test::path_of(std::string(card.at("links").at("page").as_string()));
    BOOST_TEST(shop.client.get(page).result_int() == 200);
    const std::string token = str(pass, "authenticationToken");
    const std::string type = str(pass, "passTypeIdentifier");
    const std::string serial = str(pass, "serialNumber");
    // The pass's token, right and wrong, on Apple's web service.
    auto reg = shop.client.request(
        verb::post, "/apple/v1/devices/d1/registrations/" + type + "/" + serial,
        json::serialize(json::object{{"pushToken", std::string(64, 'a')}}),
        {{"Authorization", "ApplePass " + token}, {"Content-Type", "application/json"}});
    BOOST_TEST(reg.result_int() == 201);
    auto wrong = shop.client.request(verb::get, "/apple/v1/passes/" + type + "/" + serial, "",
                                     {{"Authorization", "ApplePass " + token + "x"}});
    BOOST_TEST(wrong.result_int() == 401);
    // Keys in odd places: a wrong key, a key in the query string, a key in a bad body.
    const std::string near_miss = shop.key + "x";
    BOOST_TEST(shop.client.get("/api/v1/programs/shop", near_miss).result_int() == 401);
    BOOST_TEST(shop.client.get("/api/v1/programs/shop?key=" + rotated_key).result_int() == 401);
    BOOST_TEST(shop.client.post_json("/api/v1/programs", {{"slug", rotated_key}}, rotated_key)
                   .result_int() >= 400);
    BOOST_TEST(server.stop() == 0);

    const std::string log = server.log();
    BOOST_TEST(has(log, "route=/apple/v1/devices/"), log);  // the requests were logged
    // The card's page and pass links are capabilities: logged by their route only.
    BOOST_TEST(has(log, "route=/c/{serial} path=/c/{serial}"), log);
    BOOST_TEST(has(log, "route=/p/{file} path=/p/{file}"), log);
    BOOST_TEST(!has(log, page), log);
    for (const auto& secret : {server.admin_key(), shop.key, rotated_key, near_miss, token,
                               read(server.dir() / "var/secret.key").substr(0, 64)}) {
        BOOST_TEST(!has(log, secret), "the log holds " << secret);
    }
    BOOST_TEST(!has(log, "PRIVATE KEY"));
}

BOOST_AUTO_TEST_SUITE_END()
