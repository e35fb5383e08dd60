// A table of bad requests against the real server: each gets the right 4xx and JSON error
// and changes nothing in the database.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "http_client.hpp"
#include "server_process.hpp"
#include "test_db.hpp"

using namespace cardsmith;
namespace json = boost::json;
using test::bhttp::verb;

BOOST_AUTO_TEST_SUITE(bad_input)

BOOST_AUTO_TEST_CASE(bad_requests_get_4xx_and_write_nothing) {
    test::ServerProcess server;
    test::Client client(server.port());
    auto r = client.post_json("/api/v1/merchants", {{"name", "M"}}, server.admin_key());
    BOOST_REQUIRE_EQUAL(r.result_int(), 201);
    std::string key(test::json_of(r).at("apiKey").as_string());
    r = client.post_json("/api/v1/programs",
                         {{"slug", "shop"}, {"name", "Shop"}, {"template", "coffee"}}, key);
    BOOST_REQUIRE_EQUAL(r.result_int(), 201);
    r = client.post_json("/api/v1/programs/shop/cards", {{"holder", {{"name", "Ann"}}}}, key);
    BOOST_REQUIRE_EQUAL(r.result_int(), 201);

    struct Case {
        const char* what;
        verb method;
        std::string target;
        std::string body;
        int status;
        const char* code;
    };
    const std::string cards = "/api/v1/programs/shop/cards";
    const std::vector<Case> cases = {
        {"malformed JSON", verb::post, cards, "{\"holder\": {", 400, "invalid_json"},
        {"not an object", verb::post, cards, "[1,2]", 400, "invalid_json"},
        {"deep nesting", verb::post, cards, std::string(200, '[') + std::string(200, ']'), 400,
         "invalid_json"},
        {"wrong type: holder", verb::post, cards, R"({"holder": "Ann"})", 422, "validation_failed"},
        {"wrong type: name", verb::post, cards, R"({"holder": {"name": 5}})", 422,
         "validation_failed"},
        {"wrong type: balance", verb::post, cards, R"({"balance": "100"})", 422,
         "validation_failed"},
        {"negative balance", verb::post, cards, R"({"balance": -1})", 422, "validation_failed"},
        {"huge balance", verb::post, cards, R"({"balance": 18446744073709551615})", 422,
         "validation_failed"},
        {"bad phone", verb::post, cards, R"({"holder": {"phone": "12345"}})", 422,
         "validation_failed"},
        {"bad email", verb::post, cards, R"({"holder": {"email": "not-an-email"}})", 422,
         "validation_failed"},
        {"unknown property", verb::post, cards, R"({"holdr": {}})", 422, "validation_failed"},
        {"control characters", verb::post, cards, "{\"holder\": {\"name\": \"a\\u0000b\"}}", 422,
         "validation_failed"},
        {"unknown program", verb::post, "/api/v1/programs/nope/cards", "{}", 404, "not_found"},
        {"unknown card", verb::get, "/api/v1/cards/4111111111111111", "", 404, "not_found"},
        {"malformed card number", verb::get, "/api/v1/cards/12ab", "", 404, "not_found"},
        {"2 MB body", verb::post, cards,
         "{\"holder\": {\"name\": \"" + std::string(2 * 1024 * 1024, 'a') + "\"}}", 413,
         "payload_too_large"},
        {"bad slug", verb::post, "/api/v1/programs", R"({"slug": "Bad Slug!", "name": "x",
          "template": "coffee"})",
         422, "validation_failed"},
        {"unknown template", verb::post, "/api/v1/programs",
         R"({"slug": "other", "name": "x", "template": "nope"})", 422, "validation_failed"},
        {"taken slug", verb::post, "/api/v1/programs",
         R"({"slug": "shop", "name": "x", "template": "coffee"})", 409, "conflict"},
        {"unknown route", verb::get, "/api/v1/nothing", "", 404, "not_found"},
        {"wrong method", verb::delete_, "/api/v1/programs/shop", "", 405, "method_not_allowed"},
    };
    const auto before = test::table_counts(server.storage_url());
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.what) {
            test::Client fresh(server.port());  // 413 closes the connection
            auto res = fresh.request(
                c.method, c.target, c.body,
                {{"Authorization", "Bearer " + key}, {"Content-Type", "application/json"}});
            BOOST_TEST(res.result_int() == c.status);
            auto body = json::parse(res.body());
            BOOST_TEST(body.at("error").at("code").as_string() == c.code);
            BOOST_TEST(!body.at("error").at("message").as_string().empty());
        }
    }
    BOOST_TEST((test::table_counts(server.storage_url()) == before));
    // The server is still up and well.
    BOOST_TEST(client.get("/healthz").result_int() == 200);
}

BOOST_AUTO_TEST_CASE(wrong_content_type_is_refused) {
    test::ServerProcess server;
    test::Client client(server.port());
    auto res = client.request(
        verb::post, "/api/v1/merchants", R"({"name":"M"})",
        {{"Authorization", "Bearer " + server.admin_key()}, {"Content-Type", "text/plain"}});
    BOOST_TEST(res.result_int() == 415);
}

BOOST_AUTO_TEST_SUITE_END()
