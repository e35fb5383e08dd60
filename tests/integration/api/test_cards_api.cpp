// Merchant → program → cards → signed pkpass, end to end against the real server process.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <set>

#include "http_client.hpp"
#include "pkpass_reader.hpp"
#include "server_process.hpp"
#include "test_util.hpp"

using namespace cardsmith;
namespace json = boost::json;
using test::bhttp::status;

namespace {

using test::path_of;

struct World {
    test::ServerProcess server;
    test::Client client{server.port()};

    std::string merchant(const std::string& name) {
        auto r = client.post_json("/api/v1/merchants", {{"name", name}}, server.admin_key());
        BOOST_REQUIRE_EQUAL(r.result_int(), 201);
        auto key = std::string(test::json_of(r).at("apiKey").as_string());
        BOOST_REQUIRE(key.size() >= 40);
        return key;
    }
    json::object program(const std::string& key, const std::string& slug,
                         const std::string& tmpl = "coffee") {
        auto r = client.post_json(
            "/api/v1/programs", {{"slug", slug}, {"name", "Bean There"}, {"template", tmpl}}, key);
        BOOST_REQUIRE_MESSAGE(r.result_int() == 201, r.body());
        return test::json_of(r).as_object();
    }
    json::object card(const std::string& key, const std::string& slug, json::object holder) {
        auto r = client.post_json("/api/v1/programs/" + slug + "/cards", {{"holder", holder}}, key);
        BOOST_REQUIRE_MESSAGE(r.result_int() == 201, r.body());
        return test::json_of(r).as_object();
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(cards_api)

BOOST_AUTO_TEST_CASE(system_endpoints) {
    World w;
    auto h = w.client.get("/healthz");
    BOOST_TEST(h.result_int() == 200);
    BOOST_TEST(test::json_of(h).at("status").as_string() == "ok");
    BOOST_TEST(w.client.get("/readyz").result_int() == 200);
    auto m = w.client.get("/metrics");
    BOOST_TEST(m.result_int() == 200);
    BOOST_TEST(m.body().find("cardsmith_http_requests_total{") != std::string::npos);
    BOOST_TEST(m.body().find("route=\"/healthz\"") != std::string::npos);
    BOOST_TEST(m.body().find("cardsmith_http_request_duration_seconds_bucket") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(issue_cards_and_download_signed_passes) {
    World w;
    auto key = w.merchant("Bean There");
    auto program = w.program(key, "bean-there");
    BOOST_TEST(program.at("slug").as_string() == "bean-there");
    BOOST_TEST(program.at("design").at("organizationName").is_string());

    auto got = w.client.get("/api/v1/programs/bean-there", key);
    BOOST_TEST(got.result_int() == 200);

    std::set<std::string> numbers;
    json::object first;
    for (int i = 0; i < 5; ++i) {
        auto c =
            w.card(key, "bean-there",
                   {{"name", "Anna \"Lee\""}, {"phone", "+49 151 1234 567" + std::to_string(i)}});
        numbers.insert(std::string(c.at("cardNumber").as_string()));
        if (i == 0) first = c;
    }
    BOOST_TEST(numbers.size() == 5u);
    BOOST_TEST(first.at("balance").as_int64() == 0);
    BOOST_TEST(first.at("program").as_string() == "bean-there");
    BOOST_TEST(first.at("holder").at("phone").as_string() == "+4915112345670");
    BOOST_TEST(first.at("links").at("googleSave").is_null());
    std::string pkpass_url(first.at("links").at("pkpass").as_string());
    BOOST_TEST(pkpass_url.rfind("http://127.0.0.1:8080/", 0) == 0u);  // absolute, public_url
    BOOST_TEST(pkpass_url.ends_with(".pkpass"));
    BOOST_TEST(std::string(first.at("links").at("page").as_string()).rfind("http", 0) == 0u);

    std::string number(first.at("cardNumber").as_string());
    auto card = w.client.get("/api/v1/cards/" + number, key);
    BOOST_TEST(card.result_int() == 200);
    BOOST_TEST(test::json_of(card).at("serial") == first.at("serial"));

    auto pass = w.client.get(path_of(pkpass_url));
    BOOST_REQUIRE_EQUAL(pass.result_int(), 200);
    BOOST_TEST(pass[test::bhttp::field::content_type] == "application/vnd.apple.pkpass");
    BOOST_TEST(std::stoul(std::string(pass[test::bhttp::field::content_length])) ==
               pass.body().size());
    BOOST_TEST(!pass[test::bhttp::field::last_modified].empty());
    BOOST_TEST(pass[test::bhttp::field::content_disposition].find(".pkpass") != std::string::npos);

    auto files = test::unzip(pass.body());
    for (const char* name : {"pass.json", "manifest.json", "signature", "icon.png", "icon@2x.png",
                             "icon@3x.png", "logo.png", "strip.png"}) {
        BOOST_TEST(files.count(name) == 1u, name);
    }
    auto pj = json::parse(files["pass.json"]).as_object();
    BOOST_TEST(pj.at("serialNumber") == first.at("serial"));
    BOOST_TEST(pj.at("barcodes").at(0).at("message").as_string() == number);
    BOOST_TEST(pj.at("passTypeIdentifier").as_string() == "pass.dev.cardsmith");
    BOOST_TEST(pj.at("authenticationToken").as_string().size() >= 32u);
    BOOST_TEST(pj.at("webServiceURL").as_string().rfind("http://127.0.0.1:8080/", 0) == 0u);
    auto check =
        test::verify_signature(files["signature"], files["manifest.json"], w.server.root_ca());
    BOOST_TEST(check.verified, check.error);
    BOOST_TEST(check.has_signing_time);
    BOOST_TEST(check.carries_issuer_of_signer);

    // Same content → same bytes from the cache; If-Modified-Since → 304.
    auto again = w.client.get(path_of(pkpass_url));
    BOOST_TEST((again.body() == pass.body()));
    auto not_modified = w.client.request(
        test::bhttp::verb::get, path_of(pkpass_url), "",
        {{"If-Modified-Since", std::string(pass[test::bhttp::field::last_modified])}});
    BOOST_TEST(not_modified.result_int() == 304);

    // Another card's pass has its own number and serial.
    auto other = w.card(key, "bean-there", {{"email", "Zoe@Example.com"}});
    auto other_pass =
        w.client.get(path_of(std::string(other.at("links").at("pkpass").as_string())));
    auto other_json = json::parse(test::unzip(other_pass.body())["pass.json"]).as_object();
    BOOST_TEST(other_json.at("barcodes").at(0).at("message") == other.at("cardNumber"));
    BOOST_TEST(other.at("holder").at("email").as_string() == "Zoe@example.com");
    BOOST_TEST(w.client.get("/p/unknownserial.pkpass").result_int() == 404);
}

BOOST_AUTO_TEST_CASE(tenants_are_isolated) {
    World w;
    auto a = w.merchant("A");
    auto b = w.merchant("B");
    w.program(a, "shop-a");
    auto card = w.card(a, "shop-a", {{"name", "Ann"}});
    std::string number(card.at("cardNumber").as_string());

    BOOST_TEST(w.client.get("/api/v1/programs/shop-a", b).result_int() == 404);
    BOOST_TEST(w.client.get("/api/v1/cards/" + number, b).result_int() == 404);
    BOOST_TEST(
        w.client.post_json("/api/v1/programs/shop-a/cards", json::object{}, b).result_int() == 404);
    // A merchant key cannot create merchants or act for another merchant.
    BOOST_TEST(w.client.post_json("/api/v1/merchants", {{"name", "X"}}, b).result_int() == 403);
    auto r = w.client.post_json(
        "/api/v1/programs",
        {{"slug", "b-for-a"}, {"name", "n"}, {"template", "coffee"}, {"merchant", 1}}, b);
    BOOST_TEST(r.result_int() == 404);
    // The owner and the admin still see it.
    BOOST_TEST(w.client.get("/api/v1/cards/" + number, a).result_int() == 200);
    BOOST_TEST(w.client.get("/api/v1/cards/" + number, w.server.admin_key()).result_int() == 200);
    // Keys must be real.
    BOOST_TEST(w.client.get("/api/v1/programs/shop-a").result_int() == 401);
    BOOST_TEST(w.client.get("/api/v1/programs/shop-a", "csk_wrong").result_int() == 401);
}

BOOST_AUTO_TEST_SUITE_END()
