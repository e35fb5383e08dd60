// Self-test of the fake Google token endpoint + Wallet REST API (tests/support/fake_google.hpp)
// with a plain synchronous Beast HTTPS client and JWTs signed here with OpenSSL (through
// tests/support/jwt_check.hpp), not with our production Google client.
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <cctype>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "dev_pki.hpp"
#include "fake_google.hpp"
#include "jwt_check.hpp"

namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace http = boost::beast::http;
namespace json = boost::json;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using cardsmith::test::DevPki;
using cardsmith::test::FakeGoogle;
using cardsmith::test::FakeGoogleOptions;
using cardsmith::test::GoogleCall;
using cardsmith::test::GoogleNotification;
using cardsmith::test::ServiceAccount;

constexpr const char* kIssuer = "3388000000022123456";
const std::string kClassId = std::string(kIssuer) + ".bean-club-v1";
const std::string kObjectId = std::string(kIssuer) + ".card-7f3a91c2d4e8";

std::string pki_file(const char* name) { return (DevPki::shared().dir.path() / name).string(); }

const ServiceAccount& service_account() {
    static const ServiceAccount sa =
        cardsmith::test::load_service_account(pki_file("google-service-account.json"));
    return sa;
}

FakeGoogleOptions options() {
    FakeGoogleOptions o;
    o.cert_file = pki_file("server.pem");
    o.key_file = pki_file("server.key");
    o.service_account_file = pki_file("google-service-account.json");
    o.issuer_id = kIssuer;
    return o;
}

struct Response {
    unsigned status = 0;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;

    [[nodiscard]] json::object doc() const { return json::parse(body).as_object(); }
    // The Google error envelope's errors[0].reason.
    [[nodiscard]] std::string reason() const {
        const auto o = doc();
        return std::string(
            o.at("error").at("errors").as_array().at(0).as_object().at("reason").as_string());
    }
};

// One keep-alive HTTPS connection to the fake, verified against the dev root CA (IP SAN).
class Client {
public:
    // `alpn`: protocols to offer, in wire format (none by default, like Beast clients).
    explicit Client(std::uint16_t port, const std::string& alpn = {})
        : tls_(make_tls()), stream_(ioc_, tls_) {
        if (!alpn.empty()) {
            SSL_set_alpn_protos(stream_.native_handle(),
                                reinterpret_cast<const unsigned char*>(alpn.data()),
                                static_cast<unsigned>(alpn.size()));
        }
        stream_.set_verify_mode(ssl::verify_peer);
        stream_.set_verify_callback(ssl::host_name_verification("127.0.0.1"));
        stream_.next_layer().connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
        const timeval tv{10, 0};
        ::setsockopt(stream_.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(stream_.next_layer().native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        stream_.handshake(ssl::stream_base::client);
    }

    Response request(http::verb method, const std::string& target, const std::string& body = {},
                     const std::string& content_type = "application/json",
                     const std::string& bearer = {}) {
        http::request<http::string_body> req{method, target, 11};
        req.set(http::field::host, "127.0.0.1");
        if (!bearer.empty()) {
            req.set(http::field::authorization, "Bearer " + bearer);
        }
        if (!body.empty()) {
            req.set(http::field::content_type, content_type);
            req.body() = body;
        }
        req.keep_alive(true);
        req.prepare_payload();
        http::write(stream_, req);
        boost::beast::flat_buffer buffer;
        http::response<http::string_body> res;
        http::read(stream_, buffer, res);
        Response out;
        out.status = res.result_int();
        for (const auto& field : res) {
            std::string name(field.name_string());
            for (char& c : name) {
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            }
            out.headers[name] = std::string(field.value());
        }
        out.body = res.body();
        return out;
    }

    [[nodiscard]] std::string alpn() {
        const unsigned char* p = nullptr;
        unsigned int n = 0;
        SSL_get0_alpn_selected(stream_.native_handle(), &p, &n);
        return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p), n);
    }

private:
    static ssl::context make_tls() {
        ssl::context ctx(ssl::context::tls_client);
        ctx.load_verify_file(DevPki::shared().root());
        return ctx;
    }

    net::io_context ioc_;
    ssl::context tls_;
    ssl::stream<tcp::socket> stream_;
};

std::string form_escape(const std::string& s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
            out.push_back(c);
        } else {
            out.push_back('%');
            out.push_back(kHex[u >> 4]);
            out.push_back(kHex[u & 15]);
        }
    }
    return out;
}

struct Assertion {
    std::string aud;
    std::int64_t iat_offset = 0;  // seconds from now
    std::int64_t lifetime = 3600;
    std::string scope = std::string(FakeGoogle::kScope);
    std::string iss = service_account().client_email;
    std::string key = service_account().private_key;
    std::string alg = "RS256";
};

std::string sign(const Assertion& a) {
    const std::int64_t iat = cardsmith::test::unix_now() + a.iat_offset;
    const json::object header{{"alg", a.alg}, {"typ", "JWT"}};
    const json::object claims{{"iss", a.iss},
                              {"scope", a.scope},
                              {"aud", a.aud},
                              {"iat", iat},
                              {"exp", iat + a.lifetime}};
    return cardsmith::test::sign_rs256_jwt(header, claims, a.key);
}

Response post_token(Client& c, const std::string& assertion,
                    std::string grant = std::string(FakeGoogle::kGrantType)) {
    return c.request(http::verb::post, "/token",
                     "grant_type=" + form_escape(grant) + "&assertion=" + form_escape(assertion),
                     "application/x-www-form-urlencoded");
}

std::string fetch_token(Client& c, const FakeGoogle& fake) {
    Assertion a;
    a.aud = fake.audience();
    const Response r = post_token(c, sign(a));
    BOOST_REQUIRE_EQUAL(r.status, 200U);
    return std::string(r.doc().at("access_token").as_string());
}

json::object minimal_class() {
    return json::parse(R"({
      "id": "3388000000022123456.bean-club-v1",
      "issuerName": "Bean Club",
      "programName": "Bean Club Rewards",
      "programLogo": { "sourceUri": { "uri": "https://cards.example.com/img/logo.png" } },
      "reviewStatus": "UNDER_REVIEW",
      "textModulesData": [ { "id": "how", "header": "How it works", "body": "One point per euro." } ]
    })")
        .as_object();
}

json::object minimal_object() {
    return json::parse(R"({
      "id": "3388000000022123456.card-7f3a91c2d4e8",
      "classId": "3388000000022123456.bean-club-v1",
      "state": "ACTIVE",
      "accountId": "6011234567890128",
      "accountName": "Ana Silva",
      "loyaltyPoints": { "label": "Points", "balance": { "int": 120 } },
      "textModulesData": [ { "id": "a", "header": "A", "body": "a" },
                           { "id": "b", "header": "B", "body": "b" } ]
    })")
        .as_object();
}

// A fake, a connection and a token: the REST tests start here.
struct Api {
    FakeGoogle fake{options()};
    Client client{fake.port()};
    std::string token = fetch_token(client, fake);

    Response call(http::verb method, const std::string& path, const json::object& body = {}) {
        const std::string target = std::string(FakeGoogle::kApiPath) + path;
        return client.request(method, target, body.empty() ? std::string() : json::serialize(body),
                              "application/json", token);
    }
    void insert_class() {
        BOOST_REQUIRE_EQUAL(call(http::verb::post, "/loyaltyClass", minimal_class()).status, 200U);
    }
    void insert_object() {
        insert_class();
        BOOST_REQUIRE_EQUAL(call(http::verb::post, "/loyaltyObject", minimal_object()).status,
                            200U);
    }
    Response add_message(const std::string& id, const std::string& type) {
        return call(http::verb::post, "/loyaltyObject/" + kObjectId + "/addMessage",
                    json::object{{"message", json::object{{"id", id},
                                                          {"header", "Hello"},
                                                          {"body", "World"},
                                                          {"messageType", type}}}});
    }
    Response notify_patch(int balance) {
        return call(http::verb::patch, "/loyaltyObject/" + kObjectId,
                    json::object{{"loyaltyPoints",
                                  json::object{{"label", "Points"},
                                               {"balance", json::object{{"int", balance}}}}},
                                 {"notifyPreference", "NOTIFY_ON_UPDATE"}});
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(fake_google)

BOOST_AUTO_TEST_CASE(urls_and_identity) {
    FakeGoogle fake(options());
    const std::string origin = "https://127.0.0.1:" + std::to_string(fake.port());
    BOOST_TEST(fake.port() != 0);
    BOOST_TEST(fake.base_url() == origin + "/walletobjects/v1");
    BOOST_TEST(fake.token_url() == origin + "/token");
    BOOST_TEST(fake.audience() == fake.token_url());
    BOOST_TEST(fake.client_email() == service_account().client_email);
    BOOST_TEST(fake.issuer_id() == kIssuer);
}

BOOST_AUTO_TEST_CASE(token_happy_path) {
    FakeGoogle fake(options());
    Client c(fake.port());
    Assertion a;
    a.aud = fake.token_url();
    const Response r = post_token(c, sign(a));
    BOOST_TEST_REQUIRE(r.status == 200U);
    const auto body = r.doc();
    BOOST_TEST(std::string(body.at("access_token").as_string()).rfind("fake-", 0) == 0U);
    BOOST_TEST(body.at("expires_in").to_number<std::int64_t>() == 3599);
    BOOST_TEST(body.at("token_type").as_string() == "Bearer");
    BOOST_TEST(fake.token_requests() == 1U);
    BOOST_TEST(fake.tokens_issued() == 1U);

    // A second token differs; expires_in is configurable.
    fake.set_expires_in(120);
    const Response r2 = post_token(c, sign(a));
    BOOST_TEST_REQUIRE(r2.status == 200U);
    BOOST_TEST(r2.doc().at("expires_in").to_number<std::int64_t>() == 120);
    BOOST_TEST(r2.doc().at("access_token") != body.at("access_token"));

    // A 10-minute token and a slightly skewed iat are fine.
    a.lifetime = 600;
    a.iat_offset = -120;
    BOOST_TEST(post_token(c, sign(a)).status == 200U);
}

BOOST_AUTO_TEST_CASE(token_from_public_key_and_explicit_audience) {
    FakeGoogleOptions o = options();
    o.service_account_file.clear();
    o.public_key_pem = cardsmith::test::public_key_pem(service_account().private_key);
    o.client_email = service_account().client_email;
    o.token_audience = "https://oauth2.googleapis.com/token";
    FakeGoogle fake(o);
    Client c(fake.port());
    Assertion a;
    a.aud = "https://oauth2.googleapis.com/token";
    BOOST_TEST(post_token(c, sign(a)).status == 200U);
    a.aud = fake.token_url();
    BOOST_TEST(post_token(c, sign(a)).status == 400U);
}

BOOST_AUTO_TEST_CASE(token_rejections) {
    FakeGoogle fake(options());
    Client c(fake.port());
    const auto expect = [&](const std::string& assertion, const std::string& error,
                            const std::string& grant = std::string(FakeGoogle::kGrantType)) {
        const Response r = post_token(c, assertion, grant);
        BOOST_TEST(r.status == 400U);
        BOOST_TEST(r.doc().at("error").as_string() == error);
        BOOST_TEST(r.doc().contains("error_description"));
        return std::string(r.doc().at("error_description").as_string());
    };
    Assertion good;
    good.aud = fake.token_url();

    Assertion other_key = good;
    other_key.key = cardsmith::test::make_rsa_key_pem();
    BOOST_TEST(expect(sign(other_key), "invalid_grant") == "Invalid JWT Signature.");

    Assertion wrong_aud = good;
    wrong_aud.aud = "https://oauth2.googleapis.com/token";
    BOOST_TEST(expect(sign(wrong_aud), "invalid_grant").find("audience") != std::string::npos);

    Assertion too_long = good;
    too_long.lifetime = 3601;
    BOOST_TEST(expect(sign(too_long), "invalid_grant").find("short-lived") != std::string::npos);

    Assertion old = good;
    old.iat_offset = -3000;  // exp still in the future, but iat 50 min ago
    expect(sign(old), "invalid_grant");

    Assertion future = good;
    future.iat_offset = 600;
    expect(sign(future), "invalid_grant");

    Assertion expired = good;
    expired.iat_offset = -200;
    expired.lifetime = 100;
    expect(sign(expired), "invalid_grant");

    Assertion wrong_iss = good;
    wrong_iss.iss = "someone@else.iam.gserviceaccount.com";
    expect(sign(wrong_iss), "invalid_grant");

    Assertion wrong_scope = good;
    wrong_scope.scope = "https://www.googleapis.com/auth/cloud-platform";
    expect(sign(wrong_scope), "invalid_scope");

    Assertion hs256 = good;
    hs256.alg = "HS256";  // header claims HS256, signed RS256: rejected on alg
    expect(sign(hs256), "invalid_grant");

    // Tampered claims keep the old signature.
    std::string tampered = sign(good);
    tampered[tampered.find('.') + 5] = tampered[tampered.find('.') + 5] == 'A' ? 'B' : 'A';
    expect(tampered, "invalid_grant");

    expect("not-a-jwt", "invalid_grant");
    expect(sign(good), "unsupported_grant_type", "client_credentials");

    // No grant_type / no assertion / not a form body.
    BOOST_TEST(
        c.request(http::verb::post, "/token", "assertion=x", "application/x-www-form-urlencoded")
            .doc()
            .at("error")
            .as_string() == "invalid_request");
    BOOST_TEST(post_token(c, "").doc().at("error").as_string() == "invalid_request");
    const Response as_json =
        c.request(http::verb::post, "/token",
                  json::serialize(json::object{{"grant_type", FakeGoogle::kGrantType},
                                               {"assertion", sign(good)}}),
                  "application/json");
    BOOST_TEST(as_json.status == 400U);

    BOOST_TEST(fake.tokens_issued() == 0U);
    BOOST_TEST(fake.token_requests() == 15U);
}

BOOST_AUTO_TEST_CASE(api_requires_a_valid_bearer_token) {
    FakeGoogle fake(options());
    Client c(fake.port());
    const std::string path = "/walletobjects/v1/loyaltyClass/" + kClassId;

    const Response none = c.request(http::verb::get, path);
    BOOST_TEST(none.status == 401U);
    const auto error = none.doc().at("error").as_object();
    BOOST_TEST(error.at("code").to_number<int>() == 401);
    BOOST_TEST(error.at("status").as_string() == "UNAUTHENTICATED");
    BOOST_TEST(!error.at("message").as_string().empty());
    BOOST_TEST(none.headers.count("www-authenticate") == 1U);

    BOOST_TEST(c.request(http::verb::get, path, {}, {}, "fake-unknown").status == 401U);

    const std::string token = fetch_token(c, fake);
    BOOST_TEST(c.request(http::verb::get, path, {}, {}, token).status == 404U);  // authorized

    fake.revoke_tokens();
    BOOST_TEST(c.request(http::verb::get, path, {}, {}, token).status == 401U);
    const std::string fresh = fetch_token(c, fake);
    BOOST_TEST(c.request(http::verb::get, path, {}, {}, fresh).status == 404U);
}

BOOST_AUTO_TEST_CASE(issued_tokens_expire) {
    FakeGoogle fake(options());
    fake.set_expires_in(1);
    Client c(fake.port());
    const std::string token = fetch_token(c, fake);
    const std::string path = "/walletobjects/v1/loyaltyClass/" + kClassId;
    BOOST_TEST(c.request(http::verb::get, path, {}, {}, token).status == 404U);
    std::this_thread::sleep_for(1100ms);
    BOOST_TEST(c.request(http::verb::get, path, {}, {}, token).status == 401U);
}

BOOST_AUTO_TEST_CASE(class_insert_get_conflict) {
    Api api;
    json::object draft = minimal_class();
    draft.erase("reviewStatus");
    const Response no_review = api.call(http::verb::post, "/loyaltyClass", draft);
    BOOST_TEST(no_review.status == 400U);
    draft["reviewStatus"] = "DRAFT";
    BOOST_TEST(api.call(http::verb::post, "/loyaltyClass", draft).status == 400U);
    BOOST_TEST(!api.fake.klass(kClassId));

    const Response inserted = api.call(http::verb::post, "/loyaltyClass", minimal_class());
    BOOST_TEST_REQUIRE(inserted.status == 200U);
    BOOST_TEST(inserted.doc().at("reviewStatus").as_string() == "APPROVED");
    BOOST_TEST(inserted.doc().at("programName").as_string() == "Bean Club Rewards");

    const Response again = api.call(http::verb::post, "/loyaltyClass", minimal_class());
    BOOST_TEST(again.status == 409U);
    BOOST_TEST(again.doc().at("error").at("message").as_string().find("AlreadyExists") !=
               std::string::npos);
    BOOST_TEST(again.doc().at("error").at("status").as_string() == "ALREADY_EXISTS");

    const Response got = api.call(http::verb::get, "/loyaltyClass/" + kClassId);
    BOOST_TEST_REQUIRE(got.status == 200U);
    BOOST_TEST(got.doc().at("id").as_string() == kClassId);

    const auto stored = api.fake.klass(kClassId);
    BOOST_TEST_REQUIRE(stored.has_value());
    BOOST_TEST(stored->at("issuerName").as_string() == "Bean Club");

    const Response missing =
        api.call(http::verb::get, "/loyaltyClass/" + std::string(kIssuer) + ".nope");
    BOOST_TEST(missing.status == 404U);
    BOOST_TEST(missing.doc().at("error").at("status").as_string() == "NOT_FOUND");

    // Class writes without UNDER_REVIEW are refused; with it they pass.
    const std::string path = "/loyaltyClass/" + kClassId;
    BOOST_TEST(api.call(http::verb::patch, path, {{"programName", "New"}}).status == 400U);
    BOOST_TEST(api.call(http::verb::patch, path,
                        {{"programName", "New"}, {"reviewStatus", "UNDER_REVIEW"}})
                   .status == 200U);
    BOOST_TEST(api.fake.klass(kClassId)->at("programName").as_string() == "New");
    BOOST_TEST(api.fake.klass(kClassId)->at("reviewStatus").as_string() == "APPROVED");
    json::object full = minimal_class();
    full.erase("reviewStatus");
    BOOST_TEST(api.call(http::verb::put, path, full).status == 400U);
    full["reviewStatus"] = "UNDER_REVIEW";
    BOOST_TEST(api.call(http::verb::put, path, full).status == 200U);
    BOOST_TEST(api.fake.klass(kClassId)->at("programName").as_string() == "Bean Club Rewards");

    // list
    const Response listed =
        api.call(http::verb::get, "/loyaltyClass?issuerId=" + std::string(kIssuer));
    BOOST_TEST_REQUIRE(listed.status == 200U);
    BOOST_TEST(listed.doc().at("resources").as_array().size() == 1U);
    BOOST_TEST(api.call(http::verb::get, "/loyaltyClass?issuerId=42").status == 403U);
}

BOOST_AUTO_TEST_CASE(bad_resource_ids) {
    Api api;
    for (const std::string id :
         {"bean-club", "3388000000022123456.", ".bean", "3388000000022123456.bad id",
          "3388000000022123456.b/ad", "33880000000221234x6.bean", "1234.bean-club"}) {
        json::object body = minimal_class();
        body["id"] = id;
        BOOST_TEST_CONTEXT("id " << id) {
            const Response r = api.call(http::verb::post, "/loyaltyClass", body);
            BOOST_TEST(r.status == 400U);
            BOOST_TEST(r.reason() == "invalidResource");
        }
    }
    const Response get = api.call(http::verb::get, "/loyaltyObject/9999.card");
    BOOST_TEST(get.status == 400U);
    BOOST_TEST(get.reason() == "invalidResource");
    BOOST_TEST(api.fake.class_ids().empty());
}

BOOST_AUTO_TEST_CASE(object_insert_get_patch_replace) {
    Api api;
    // The class must exist first.
    const Response no_class = api.call(http::verb::post, "/loyaltyObject", minimal_object());
    BOOST_TEST(no_class.status == 404U);
    BOOST_TEST(no_class.doc().at("error").at("message").as_string().find(
                   "IssuerClassNotFoundException") != std::string::npos);
    api.insert_class();

    json::object stateless = minimal_object();
    stateless.erase("state");
    BOOST_TEST(api.call(http::verb::post, "/loyaltyObject", stateless).status == 400U);
    stateless["state"] = "active";  // deprecated lower case
    BOOST_TEST(api.call(http::verb::post, "/loyaltyObject", stateless).status == 400U);

    const Response inserted = api.call(http::verb::post, "/loyaltyObject", minimal_object());
    BOOST_TEST_REQUIRE(inserted.status == 200U);
    BOOST_TEST(inserted.doc().at("classReference").at("id").as_string() == kClassId);
    BOOST_TEST(api.call(http::verb::post, "/loyaltyObject", minimal_object()).status == 409U);

    const std::string path = "/loyaltyObject/" + kObjectId;
    const Response got = api.call(http::verb::get, path);
    BOOST_TEST_REQUIRE(got.status == 200U);
    BOOST_TEST(got.doc().at("accountName").as_string() == "Ana Silva");
    BOOST_TEST(got.doc().at("classReference").at("programName").as_string() == "Bean Club Rewards");
    BOOST_TEST(!api.fake.object(kObjectId)->contains("classReference"));  // not stored

    // PATCH: arrays replace the stored array; other fields stay; notifyPreference not stored.
    const Response patched =
        api.call(http::verb::patch, path,
                 {{"textModulesData", json::array{json::object{{"id", "c"}, {"body", "c"}}}},
                  {"loyaltyPoints", json::object{{"balance", json::object{{"int", 7}}}}},
                  {"notifyPreference", "NOTIFICATION_SETTINGS_FOR_UPDATES_UNSPECIFIED"}});
    BOOST_TEST_REQUIRE(patched.status == 200U);
    auto stored = api.fake.object(kObjectId);
    BOOST_TEST_REQUIRE(stored.has_value());
    BOOST_TEST(stored->at("textModulesData").as_array().size() == 1U);
    BOOST_TEST(stored->at("textModulesData").at(0).at("id").as_string() == "c");
    BOOST_TEST(!stored->at("loyaltyPoints").as_object().contains("label"));  // wholesale
    BOOST_TEST(stored->at("accountName").as_string() == "Ana Silva");
    BOOST_TEST(!stored->contains("notifyPreference"));
    BOOST_TEST(api.fake.notifications(kObjectId).empty());

    // JSON null removes a field.
    BOOST_TEST(api.call(http::verb::patch, path, {{"accountName", nullptr}}).status == 200U);
    BOOST_TEST(!api.fake.object(kObjectId)->contains("accountName"));

    // PUT clears unsent fields; the URL id wins and must match the body's.
    json::object full{{"classId", kClassId}, {"state", "INACTIVE"}};
    BOOST_TEST(api.call(http::verb::put, path, full).status == 200U);
    stored = api.fake.object(kObjectId);
    BOOST_TEST(stored->at("state").as_string() == "INACTIVE");
    BOOST_TEST(stored->at("id").as_string() == kObjectId);
    BOOST_TEST(!stored->contains("textModulesData"));
    full["id"] = std::string(kIssuer) + ".other";
    BOOST_TEST(api.call(http::verb::put, path, full).status == 400U);

    // Missing objects: 404 for get, patch, put and addMessage.
    const std::string missing = "/loyaltyObject/" + std::string(kIssuer) + ".missing";
    BOOST_TEST(api.call(http::verb::get, missing).status == 404U);
    BOOST_TEST(api.call(http::verb::patch, missing, {{"state", "ACTIVE"}}).status == 404U);
    BOOST_TEST(api.call(http::verb::put, missing, minimal_object()).status == 404U);
    BOOST_TEST(api.call(http::verb::post, missing + "/addMessage",
                        {{"message", json::object{{"header", "h"}, {"body", "b"}}}})
                   .status == 404U);

    // list by class
    const Response listed = api.call(http::verb::get, "/loyaltyObject?classId=" + kClassId);
    BOOST_TEST_REQUIRE(listed.status == 200U);
    BOOST_TEST(listed.doc().at("resources").as_array().size() == 1U);

    // Wrong content type, broken JSON.
    BOOST_TEST(api.client
                   .request(http::verb::patch, std::string(FakeGoogle::kApiPath) + path, "{}",
                            "text/plain", api.token)
                   .status == 400U);
    BOOST_TEST(api.client
                   .request(http::verb::patch, std::string(FakeGoogle::kApiPath) + path,
                            "{not json", "application/json", api.token)
                   .status == 400U);
}

BOOST_AUTO_TEST_CASE(add_message_appends_up_to_ten) {
    Api api;
    api.insert_object();
    for (int i = 0; i < 10; ++i) {
        const Response r = api.add_message("m" + std::to_string(i), "TEXT");
        BOOST_TEST_REQUIRE(r.status == 200U);
        BOOST_TEST(r.doc().at("resource").at("messages").as_array().size() ==
                   static_cast<std::size_t>(i + 1));
        BOOST_TEST(r.doc().at("resource").at("id").as_string() == kObjectId);
    }
    const Response eleventh = api.add_message("m10", "TEXT");
    BOOST_TEST(eleventh.status == 400U);
    BOOST_TEST(api.fake.object(kObjectId)->at("messages").as_array().size() == 10U);

    // Pruning by PATCH makes room again; more than 10 in a PATCH is refused.
    json::array eleven;
    for (int i = 0; i < 11; ++i) {
        eleven.push_back(json::object{{"id", "p" + std::to_string(i)}});
    }
    const std::string path = "/loyaltyObject/" + kObjectId;
    BOOST_TEST(api.call(http::verb::patch, path, {{"messages", eleven}}).status == 400U);
    BOOST_TEST(api.call(http::verb::patch, path, {{"messages", json::array{}}}).status == 200U);
    BOOST_TEST(api.add_message("m10", "TEXT").status == 200U);

    // Duplicate ids are appended (addMessage is not idempotent, §6) ...
    BOOST_TEST(api.add_message("m10", "TEXT").status == 200U);
    BOOST_TEST(api.fake.object(kObjectId)->at("messages").as_array().size() == 2U);
    // ... bad message types are refused, and so is a body without "message".
    BOOST_TEST(api.add_message("x", "LOUD").status == 400U);
    BOOST_TEST(api.call(http::verb::post, path + "/addMessage", {{"header", "h"}}).status == 400U);

    // Class messages work the same way.
    const Response class_message =
        api.call(http::verb::post, "/loyaltyClass/" + kClassId + "/addMessage",
                 {{"message", json::object{{"id", "all"}, {"header", "h"}, {"body", "b"}}}});
    BOOST_TEST(class_message.status == 200U);
    BOOST_TEST(api.fake.klass(kClassId)->at("messages").as_array().size() == 1U);
}

BOOST_AUTO_TEST_CASE(duplicate_message_ids_can_be_refused) {
    FakeGoogleOptions o = options();
    o.reject_duplicate_message_ids = true;
    FakeGoogle fake(o);
    Client c(fake.port());
    const std::string token = fetch_token(c, fake);
    fake.seed_class(minimal_class());
    fake.seed_object(minimal_object());
    const std::string target =
        std::string(FakeGoogle::kApiPath) + "/loyaltyObject/" + kObjectId + "/addMessage";
    const std::string body = R"({"message":{"id":"same","header":"h","body":"b"}})";
    BOOST_TEST(c.request(http::verb::post, target, body, "application/json", token).status == 200U);
    BOOST_TEST(c.request(http::verb::post, target, body, "application/json", token).status == 409U);
    BOOST_TEST(fake.klass(kClassId)->at("reviewStatus").as_string() == "APPROVED");
}

BOOST_AUTO_TEST_CASE(notification_budget) {
    Api api;
    api.insert_object();
    BOOST_TEST(api.add_message("n1", "TEXT_AND_NOTIFY").status == 200U);
    BOOST_TEST(api.notify_patch(130).status == 200U);
    BOOST_TEST(api.add_message("n2", "TEXT_AND_NOTIFY").status == 200U);
    BOOST_TEST(api.fake.notifications(kObjectId).size() == 3U);

    // The fourth notifying write in 24 h is refused and changes nothing.
    const Response over = api.notify_patch(140);
    BOOST_TEST(over.status == 400U);
    BOOST_TEST(over.reason() == "QuotaExceededException");
    BOOST_TEST(api.fake.object(kObjectId)->at("loyaltyPoints").at("balance").at("int") == 130);
    const Response over_message = api.add_message("n3", "TEXT_AND_NOTIFY");
    BOOST_TEST(over_message.status == 400U);
    BOOST_TEST(api.fake.object(kObjectId)->at("messages").as_array().size() == 2U);

    // Silent writes still pass.
    BOOST_TEST(api.add_message("t1", "TEXT").status == 200U);
    BOOST_TEST(
        api.call(http::verb::patch, "/loyaltyObject/" + kObjectId, {{"accountId", "42"}}).status ==
        200U);

    // The over-quota status is configurable.
    api.fake.set_quota_status(429);
    BOOST_TEST(api.notify_patch(140).status == 429U);

    // Notifications older than 24 h no longer count.
    api.fake.age_notifications(std::chrono::hours(23));
    BOOST_TEST(api.notify_patch(140).status == 429U);
    api.fake.age_notifications(std::chrono::hours(1) + std::chrono::seconds(1));
    BOOST_TEST(api.notify_patch(140).status == 200U);
    const auto notes = api.fake.notifications(kObjectId);
    BOOST_TEST_REQUIRE(notes.size() == 4U);
    BOOST_TEST((notes[0].kind == GoogleNotification::Kind::message));
    BOOST_TEST(notes[0].message_id == "n1");
    BOOST_TEST((notes[1].kind == GoogleNotification::Kind::field_update));
    BOOST_TEST((notes[3].kind == GoogleNotification::Kind::field_update));
}

BOOST_AUTO_TEST_CASE(scripted_failures) {
    Api api;
    api.fake.fail_next("", 429, 2);
    for (int i = 0; i < 2; ++i) {
        const Response r = api.call(http::verb::post, "/loyaltyClass", minimal_class());
        BOOST_TEST(r.status == 429U);
        BOOST_TEST_REQUIRE(r.headers.count("retry-after") == 1U);
        BOOST_TEST(r.headers.at("retry-after") == "1");
        BOOST_TEST(r.doc().at("error").at("status").as_string() == "RESOURCE_EXHAUSTED");
    }
    BOOST_TEST(!api.fake.klass(kClassId));  // scripted answers change nothing
    api.insert_class();

    // Per path prefix: only object calls fail.
    api.fake.fail_next("/walletobjects/v1/loyaltyObject", 503, 1);
    BOOST_TEST(api.call(http::verb::get, "/loyaltyClass/" + kClassId).status == 200U);
    const Response unavailable = api.call(http::verb::post, "/loyaltyObject", minimal_object());
    BOOST_TEST(unavailable.status == 503U);
    BOOST_TEST(unavailable.headers.count("retry-after") == 0U);
    BOOST_TEST(api.call(http::verb::post, "/loyaltyObject", minimal_object()).status == 200U);

    // Rules queue up in order; "*" is any API call; 500 and 403 too.
    api.fake.fail_next("*", 500, 1);
    api.fake.fail_next("*", 403, 1);
    BOOST_TEST(api.call(http::verb::get, "/loyaltyClass/" + kClassId).status == 500U);
    const Response denied = api.call(http::verb::get, "/loyaltyClass/" + kClassId);
    BOOST_TEST(denied.status == 403U);
    BOOST_TEST(denied.doc().at("error").at("status").as_string() == "PERMISSION_DENIED");
    BOOST_TEST(api.call(http::verb::get, "/loyaltyClass/" + kClassId).status == 200U);

    // The token endpoint only when asked for; clear_failures drops pending rules.
    api.fake.fail_next("", 500, 1);
    BOOST_TEST(fetch_token(api.client, api.fake).rfind("fake-", 0) == 0U);
    api.fake.clear_failures();
    BOOST_TEST(api.call(http::verb::get, "/loyaltyClass/" + kClassId).status == 200U);
    api.fake.fail_next("/token", 503, 1);
    Assertion a;
    a.aud = api.fake.audience();
    const Response token = post_token(api.client, sign(a));
    BOOST_TEST(token.status == 503U);
    BOOST_TEST(token.doc().contains("error"));
}

BOOST_AUTO_TEST_CASE(delay_is_applied) {
    Api api;
    api.fake.set_delay(300ms);
    const auto start = Clock::now();
    BOOST_TEST(api.call(http::verb::get, "/loyaltyClass/" + kClassId).status == 404U);
    BOOST_TEST((Clock::now() - start >= 300ms));
    api.fake.set_delay(0ms);
}

BOOST_AUTO_TEST_CASE(calls_are_recorded) {
    Api api;
    api.fake.clear_calls();
    api.insert_class();
    const auto calls = api.fake.calls();
    BOOST_TEST_REQUIRE(calls.size() == 1U);
    const GoogleCall& call = calls[0];
    BOOST_TEST(call.method == "POST");
    BOOST_TEST(call.path == "/walletobjects/v1/loyaltyClass");
    BOOST_TEST(call.target == call.path);
    BOOST_TEST(call.headers.at("authorization") == "Bearer " + api.token);
    BOOST_TEST(call.headers.at("content-type") == "application/json");
    BOOST_TEST(json::parse(call.body).at("id").as_string() == kClassId);
    BOOST_TEST(call.status == 200U);
    BOOST_TEST(json::parse(call.response_body).at("reviewStatus").as_string() == "APPROVED");
    BOOST_TEST(call.connection == 1U);

    // wait_for sees a call made later from another thread, over another connection.
    api.fake.clear_calls();
    std::thread later([&api] {
        std::this_thread::sleep_for(100ms);
        Client other(api.fake.port());
        (void)other.request(http::verb::get,
                            "/walletobjects/v1/loyaltyObject/" + kObjectId + "?fields=id", {}, {},
                            api.token);
    });
    const bool seen = api.fake.wait_for(
        [&api] {
            const auto c = api.fake.calls();
            return !c.empty() && c.back().status == 404U;
        },
        5s);
    later.join();
    BOOST_TEST(seen);
    const auto after = api.fake.calls();
    BOOST_TEST_REQUIRE(after.size() == 1U);
    BOOST_TEST(after[0].target == "/walletobjects/v1/loyaltyObject/" + kObjectId + "?fields=id");
    BOOST_TEST(after[0].path == "/walletobjects/v1/loyaltyObject/" + kObjectId);
    BOOST_TEST(after[0].connection == 2U);
    BOOST_TEST(api.fake.wait_for_calls(1, 1s));
    BOOST_TEST(!api.fake.wait_for([] { return false; }, 100ms));
}

BOOST_AUTO_TEST_CASE(concurrent_keep_alive_clients) {
    FakeGoogle fake(options());
    std::string token;
    {
        Client c(fake.port());
        token = fetch_token(c, fake);
    }
    fake.seed_class(minimal_class());
    constexpr int kThreads = 4;
    constexpr int kRequests = 25;
    std::vector<std::thread> threads;
    std::vector<int> ok(kThreads, 0);
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            Client c(fake.port());
            for (int i = 0; i < kRequests; ++i) {
                json::object o = minimal_object();
                o["id"] =
                    std::string(kIssuer) + ".card-" + std::to_string(t) + "-" + std::to_string(i);
                const auto r = c.request(http::verb::post, "/walletobjects/v1/loyaltyObject",
                                         json::serialize(o), "application/json", token);
                ok[static_cast<std::size_t>(t)] += r.status == 200U ? 1 : 0;
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    for (const int n : ok) {
        BOOST_TEST(n == kRequests);
    }
    BOOST_TEST(fake.object_ids().size() == static_cast<std::size_t>(kThreads * kRequests));
    BOOST_TEST(fake.connections_accepted() == static_cast<std::size_t>(kThreads + 1));
}

BOOST_AUTO_TEST_CASE(alpn_prefers_http11) {
    FakeGoogle fake(options());
    Client offers_both(fake.port(), std::string("\x02h2\x08http/1.1", 12));
    BOOST_TEST(offers_both.alpn() == "http/1.1");
    BOOST_TEST(fetch_token(offers_both, fake).rfind("fake-", 0) == 0U);
    Client offers_none(fake.port());
    BOOST_TEST(offers_none.alpn().empty());
}

BOOST_AUTO_TEST_CASE(shutdown_with_open_and_busy_connections) {
    auto fake = std::make_unique<FakeGoogle>(options());
    Client idle(fake->port());
    const std::string token = fetch_token(idle, *fake);  // keep-alive, left open
    fake->set_delay(10s);
    std::thread busy([port = fake->port()] {
        try {
            Client c(port);
            (void)c.request(http::verb::get, "/walletobjects/v1/loyaltyClass/" + kClassId);
        } catch (const std::exception&) {  // the fake goes away mid-request
        }
    });
    std::this_thread::sleep_for(200ms);
    const auto start = Clock::now();
    fake.reset();
    BOOST_TEST((Clock::now() - start < 3s));
    busy.join();
}

BOOST_AUTO_TEST_CASE(constructor_errors) {
    FakeGoogleOptions no_key = options();
    no_key.service_account_file.clear();
    BOOST_CHECK_THROW(FakeGoogle{no_key}, std::runtime_error);
    FakeGoogleOptions no_email = no_key;
    no_email.public_key_pem = cardsmith::test::public_key_pem(service_account().private_key);
    BOOST_CHECK_THROW(FakeGoogle{no_email}, std::runtime_error);
    FakeGoogleOptions bad_cert = options();
    bad_cert.cert_file = "/nonexistent.pem";
    BOOST_CHECK_THROW(FakeGoogle{bad_cert}, std::exception);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(jwt_check)

BOOST_AUTO_TEST_CASE(base64url_round_trip) {
    using cardsmith::test::base64url_decode;
    using cardsmith::test::base64url_encode;
    for (const std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xff\xfe\xfd"}) {
        BOOST_TEST(base64url_decode(base64url_encode(s)).value_or("?") == s);
    }
    BOOST_TEST(base64url_encode("\xfb\xff") == "-_8");
    BOOST_TEST(!base64url_decode("Zm9v=="));
    BOOST_TEST(!base64url_decode("Zm9v+"));
    BOOST_TEST(!base64url_decode("Z"));
}

BOOST_AUTO_TEST_CASE(rs256_verification) {
    const auto& sa = service_account();
    const std::string pub = cardsmith::test::public_key_pem(sa.private_key);
    const std::string jwt = cardsmith::test::sign_rs256_jwt(
        {{"alg", "RS256"}, {"typ", "JWT"}}, {{"iss", sa.client_email}, {"n", 1}}, sa.private_key);
    const auto good = cardsmith::test::check_rs256_jwt(jwt, pub);
    BOOST_TEST(good.ok());
    BOOST_TEST(good.claims.at("iss").as_string() == sa.client_email);
    BOOST_TEST(good.header.at("typ").as_string() == "JWT");
    // The private key PEM works as the verification key too.
    BOOST_TEST(cardsmith::test::check_rs256_jwt(jwt, sa.private_key).ok());

    const auto other = cardsmith::test::check_rs256_jwt(jwt, cardsmith::test::make_rsa_key_pem());
    BOOST_TEST((other.status == cardsmith::test::JwtStatus::bad_signature));
    BOOST_TEST(other.claims.at("n") == 1);  // decoded anyway
    BOOST_TEST((cardsmith::test::check_rs256_jwt("a.b", pub).status ==
                cardsmith::test::JwtStatus::malformed));
    BOOST_CHECK_THROW((void)cardsmith::test::check_rs256_jwt(jwt, "not a pem"), std::runtime_error);
}

BOOST_AUTO_TEST_CASE(save_jwt_checks) {
    const auto& sa = service_account();
    const json::object header{{"alg", "RS256"}, {"typ", "JWT"}};
    json::object claims{
        {"iss", sa.client_email},
        {"aud", "google"},
        {"typ", "savetowallet"},
        {"iat", cardsmith::test::unix_now()},
        {"origins", json::array{}},
        {"payload",
         json::object{{"loyaltyObjects",
                       json::array{json::object{{"id", kObjectId}, {"classId", kClassId}}}}}}};
    const std::string skinny = cardsmith::test::sign_rs256_jwt(header, claims, sa.private_key);
    const auto ok = cardsmith::test::check_save_jwt(skinny, sa.private_key, sa.client_email);
    for (const auto& problem : ok.problems) {
        BOOST_TEST_MESSAGE("save JWT problem: " << problem);
    }
    BOOST_TEST(ok.ok);
    BOOST_TEST(skinny.size() <= 1800U);

    json::object wrong = claims;
    wrong["aud"] = "https://oauth2.googleapis.com/token";
    wrong["typ"] = "JWT";
    const auto bad = cardsmith::test::check_save_jwt(
        cardsmith::test::sign_rs256_jwt(header, wrong, sa.private_key), sa.private_key);
    BOOST_TEST(!bad.ok);
    BOOST_TEST(bad.problems.size() == 2U);

    // A full class in the payload makes it too long (§7 "JWT too long").
    json::object fat = claims;
    json::array classes;
    for (int i = 0; i < 3; ++i) {
        classes.push_back(minimal_class());
    }
    fat["payload"].as_object()["loyaltyClasses"] = classes;
    const auto long_jwt = cardsmith::test::check_save_jwt(
        cardsmith::test::sign_rs256_jwt(header, fat, sa.private_key), sa.private_key);
    BOOST_TEST(!long_jwt.ok);
    BOOST_TEST_REQUIRE(long_jwt.problems.size() == 1U);
    BOOST_TEST(long_jwt.problems[0].find("length") == 0U);

    const auto other_key = cardsmith::test::check_save_jwt(
        skinny, cardsmith::test::make_rsa_key_pem(), sa.client_email);
    BOOST_TEST(!other_key.ok);
}

BOOST_AUTO_TEST_SUITE_END()
