// Merchants' own Apple identities against the real server: upload checks (good and bad
// certificates), signing and pushing with the program's identity, renewal, restart.
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <thread>

#include "crypto/base64.hpp"
#include "crypto/pem.hpp"
#include "dev_pki.hpp"
#include "fake_apns.hpp"
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

namespace {

using test::eventually;
using test::path_of;

using test::issue;
using test::Issued;
using test::kDay;

struct World {
    testing::FakeApns apns{[] {
        auto& pki = test::DevPki::shared();
        testing::FakeApnsOptions o;
        o.cert_file = (pki.dir.path() / "server.pem").string();
        o.key_file = (pki.dir.path() / "server.key").string();
        o.ca_file = pki.root();
        return o;
    }()};
    test::ServerProcess server{
        "[apns]\nhost = \"127.0.0.1\"\nport = " + std::to_string(apns.port()) + "\nca_file = \"" +
            test::DevPki::shared().root() + "\"\n",
        {},
        test::DevPki::shared().dir.path()};
    std::unique_ptr<test::Client> client = std::make_unique<test::Client>(server.port());

    std::string merchant(const std::string& name) {
        auto m = client->post_json("/api/v1/merchants", {{"name", name}}, server.admin_key());
        BOOST_REQUIRE_EQUAL(m.result_int(), 201);
        return std::string(test::json_of(m).at("apiKey").as_string());
    }
    test::Response upload(const std::string& key, const json::object& body) {
        return client->post_json("/api/v1/identities", body, key);
    }
};

json::object pem_body(const Issued& i) {
    return {{"certificate", i.cert_pem}, {"privateKey", i.key_pem}};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(identities)

BOOST_AUTO_TEST_CASE(upload_checks_sign_and_push_with_the_programs_identity) {
    World w;
    const auto key = w.merchant("Bean");
    const auto other = w.merchant("Other");
    const auto good = issue("pass.merchant.one", "TEAMONE", "wwdr", -kDay, 20 * kDay);

    // Bad uploads: a clear 4xx naming the field, nothing stored.
    auto field_of = [](const test::Response& r) {
        return std::string(test::json_of(r).at("error").at("field").as_string());
    };
    auto self_signed = issue("pass.merchant.one", "TEAMONE", nullptr);
    auto r = w.upload(key, pem_body(self_signed));
    BOOST_TEST(r.result_int() == 422);
    BOOST_TEST(field_of(r) == "certificate");
    BOOST_TEST(r.body().find("WWDR") != std::string::npos, r.body());
    auto from_root = issue("pass.merchant.one", "TEAMONE", "root-ca");
    BOOST_TEST(w.upload(key, pem_body(from_root)).result_int() == 422);
    auto expired = issue("pass.merchant.one", "TEAMONE", "wwdr", -30 * kDay, -kDay);
    r = w.upload(key, pem_body(expired));
    BOOST_TEST(r.result_int() == 422);
    BOOST_TEST(r.body().find("expired") != std::string::npos, r.body());
    auto mismatched = pem_body(good);
    mismatched["privateKey"] = self_signed.key_pem;
    r = w.upload(key, mismatched);
    BOOST_TEST(r.result_int() == 422);
    BOOST_TEST(field_of(r) == "privateKey");
    auto wrong_uid = pem_body(good);
    wrong_uid["passTypeId"] = "pass.someone.else";
    BOOST_TEST(w.upload(key, wrong_uid).result_int() == 422);
    auto wrong_team = pem_body(good);
    wrong_team["teamId"] = "OTHERTEAM";
    BOOST_TEST(w.upload(key, wrong_team).result_int() == 422);
    BOOST_TEST(w.upload(key, {{"certificate", "garbage"}, {"privateKey", "junk"}}).result_int() ==
               422);
    BOOST_TEST(w.upload(key, {{"pkcs12", "!!notbase64!!"}, {"password", "x"}}).result_int() == 422);
    BOOST_TEST(w.upload(w.server.admin_key(), pem_body(good)).result_int() == 403);

    // PKCS#12 (what Keychain exports), base64 in JSON, with its password.
    {
        auto p12_cert = issue("pass.merchant.two", "TEAMTWO", "wwdr");
        auto cert = crypto::parse_certificate_pem(p12_cert.cert_pem, "c");
        auto pkey = crypto::parse_private_key_pem(p12_cert.key_pem, "k");
        PKCS12* p12 =
            PKCS12_create("s3cret", "pass", pkey.get(), cert.get(), nullptr, 0, 0, 0, 0, 0);
        BOOST_REQUIRE(p12 != nullptr);
        unsigned char* der = nullptr;
        const int len = i2d_PKCS12(p12, &der);
        PKCS12_free(p12);
        const std::string b64 = crypto::base64_encode(
            std::string_view(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len)));
        OPENSSL_free(der);
        BOOST_TEST(w.upload(key, {{"pkcs12", b64}, {"password", "wrong"}}).result_int() == 422);
        auto p12_ok = w.upload(key, {{"pkcs12", b64}, {"password", "s3cret"}});
        BOOST_TEST(p12_ok.result_int() == 201, p12_ok.body());
    }
    const auto dir = test::DevPki::shared().dir.path();
    json::object server_own{
        {"certificate",
         crypto::certificate_to_pem(crypto::load_certificate_file(dir / "pass.pem").get())},
        {"privateKey",
         crypto::private_key_to_pem(crypto::load_private_key_file(dir / "pass.key").get())}};
    BOOST_TEST(w.upload(key, server_own).result_int() == 409);
    BOOST_TEST(test::json_of(w.client->get("/api/v1/identities", key))
                   .at("identities")
                   .as_array()
                   .size() == 1u);  // only the PKCS#12 one

    // A good upload: 201, the key never comes back; renewal of the same pass type id: 200.
    r = w.upload(key, pem_body(good));
    BOOST_REQUIRE_MESSAGE(r.result_int() == 201, r.body());
    auto view = test::json_of(r).as_object();
    BOOST_TEST(view.at("passTypeId").as_string() == "pass.merchant.one");
    BOOST_TEST(view.at("teamId").as_string() == "TEAMONE");
    BOOST_TEST(view.at("expiresSoon").as_bool());
    BOOST_TEST(r.body().find("PRIVATE KEY") == std::string::npos);
    const auto identity_id = view.at("id").as_int64();
    BOOST_TEST(w.upload(key, pem_body(good)).result_int() == 200);
    BOOST_TEST(w.upload(other, pem_body(good)).result_int() == 409);  // another merchant's
    BOOST_TEST(test::json_of(w.client->get("/api/v1/identities", other))
                   .at("identities")
                   .as_array()
                   .empty());
    auto ready = test::json_of(w.client->get("/readyz")).as_object();
    BOOST_TEST(json::serialize(ready.at("warnings")).find("pass.merchant.one") !=
               std::string::npos);

    // Another merchant cannot use it for a program.
    BOOST_TEST(w.client
                   ->post_json("/api/v1/programs",
                               {{"slug", "theirs"},
                                {"name", "T"},
                                {"template", "coffee"},
                                {"identity", identity_id}},
                               other)
                   .result_int() == 422);

    // A program with the identity: its passes carry and are signed by it.
    auto p = w.client->post_json(
        "/api/v1/programs",
        {{"slug", "own"}, {"name", "Own"}, {"template", "coffee"}, {"identity", identity_id}}, key);
    BOOST_REQUIRE_MESSAGE(p.result_int() == 201, p.body());
    BOOST_TEST(test::json_of(p).at("identity").as_int64() == identity_id);
    auto c = w.client->post_json("/api/v1/programs/own/cards",
                                 {{"holder", {{"email", "a@example.com"}}}}, key);
    BOOST_REQUIRE_EQUAL(c.result_int(), 201);
    auto card = test::json_of(c).as_object();
    auto bytes = w.client->get(path_of(std::string(card.at("links").at("pkpass").as_string())));
    BOOST_REQUIRE_EQUAL(bytes.result_int(), 200);
    auto files = test::unzip(bytes.body());
    auto pass = json::parse(files["pass.json"]).as_object();
    BOOST_TEST(pass.at("passTypeIdentifier").as_string() == "pass.merchant.one");
    BOOST_TEST(pass.at("teamIdentifier").as_string() == "TEAMONE");
    auto sig = test::verify_signature(files["signature"], files["manifest.json"],
                                      test::DevPki::shared().root());
    BOOST_TEST(sig.verified, sig.error);
    BOOST_TEST(sig.signer_subject.find("pass.merchant.one") != std::string::npos);

    // The identity cannot change once cards exist.
    auto change = w.client->request(
        verb::put, "/api/v1/programs/own/identity", R"({"identity":null})",
        {{"Authorization", "Bearer " + key}, {"Content-Type", "application/json"}});
    BOOST_TEST(change.result_int() == 409);

    // Web service under the wrong pass type: 404; under its own: registered, then the push
    // goes out with the merchant's certificate and topic.
    const std::string serial(pass.at("serialNumber").as_string());
    const std::string auth = "ApplePass " + std::string(pass.at("authenticationToken").as_string());
    const std::string token(64, 'e');
    auto reg = [&](const std::string& type) {
        return w.client
            ->request(verb::post, "/apple/v1/devices/dev1/registrations/" + type + "/" + serial,
                      json::serialize(json::object{{"pushToken", token}}),
                      {{"Authorization", auth}, {"Content-Type", "application/json"}})
            .result_int();
    };
    BOOST_TEST(reg("pass.dev.cardsmith") == 404u);
    BOOST_TEST(reg("pass.merchant.one") == 201u);
    auto t = w.client->request(
        verb::post,
        "/api/v1/cards/" + std::string(card.at("cardNumber").as_string()) + "/transactions",
        R"({"points":9})",
        {{"Authorization", "Bearer " + key}, {"Content-Type", "application/json"}});
    BOOST_REQUIRE_EQUAL(t.result_int(), 201);
    BOOST_REQUIRE(w.apns.wait_for_count(1, 5s));
    auto pushed = w.apns.pushes().front();
    BOOST_TEST(pushed.topic == "pass.merchant.one");
    BOOST_TEST(pushed.client_subject.find("UID=pass.merchant.one") != std::string::npos,
               pushed.client_subject);

    // At rest the key is sealed; after a restart it opens and signing goes on.
    {
        const auto sealed =
            test::query_text(w.server.storage_url(), "SELECT key_sealed FROM identities");
        BOOST_TEST(sealed.rfind("v1.", 0) == 0u);
        BOOST_TEST(sealed.find("PRIVATE") == std::string::npos);
    }
    BOOST_TEST(w.server.stop() == 0);
    w.server.start();
    w.client = std::make_unique<test::Client>(w.server.port());
    auto again = w.client->request(verb::get, "/apple/v1/passes/pass.merchant.one/" + serial, "",
                                   {{"Authorization", auth}});
    BOOST_TEST(again.result_int() == 200);
    BOOST_TEST(w.server.log().find(good.key_pem.substr(40, 40)) == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
