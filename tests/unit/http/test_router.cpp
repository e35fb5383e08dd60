#include <boost/test/unit_test.hpp>

#include "http/response.hpp"
#include "http/router.hpp"

namespace cardsmith::http_server {
namespace {

Handler ok_handler() {
    return [](RequestContext&) -> net::awaitable<Response> {
        co_return bytes_response(http::status::ok, "text/plain", "ok");
    };
}

Router make_router() {
    Router router;
    router.add(http::verb::get, "/healthz", ok_handler());
    router.add(http::verb::get, "/api/v1/cards/{cardNumber}", ok_handler());
    router.add(http::verb::post, "/api/v1/cards/{cardNumber}/transactions", ok_handler(),
               RouteOptions{4096});
    router.add(http::verb::get, "/api/v1/programs/{slug}/images/{name}", ok_handler());
    router.add(http::verb::put, "/api/v1/programs/{slug}/images/{name}", ok_handler());
    router.add(http::verb::get, "/", ok_handler());
    return router;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(router)

BOOST_AUTO_TEST_CASE(a_capability_route_keeps_its_path_out_of_the_log) {
    Router router = make_router();
    RouteOptions capability;
    capability.log_path = false;
    router.add(http::verb::get, "/c/{serial}", ok_handler(), capability);
    BOOST_TEST(!router.match(http::verb::get, "/c/abcdefabcdefabcdef").log_path);
    BOOST_TEST(router.match(http::verb::get, "/healthz").log_path);
    BOOST_TEST(router.match(http::verb::get, "/nowhere").log_path);
}

BOOST_AUTO_TEST_CASE(literal_and_capture_match) {
    const Router router = make_router();
    auto m = router.match(http::verb::get, "/healthz");
    BOOST_TEST(m.handler != nullptr);
    BOOST_TEST(m.route == "/healthz");
    BOOST_TEST(m.params.empty());

    m = router.match(http::verb::get, "/api/v1/cards/4111111111111111");
    BOOST_REQUIRE(m.handler != nullptr);
    BOOST_TEST(m.route == "/api/v1/cards/{cardNumber}");
    BOOST_TEST(m.params.at("cardNumber") == "4111111111111111");

    m = router.match(http::verb::put, "/api/v1/programs/coffee/images/logo@2x");
    BOOST_REQUIRE(m.handler != nullptr);
    BOOST_TEST(m.params.at("slug") == "coffee");
    BOOST_TEST(m.params.at("name") == "logo@2x");

    m = router.match(http::verb::get, "/");
    BOOST_TEST(m.handler != nullptr);
    BOOST_TEST(m.route == "/");
}

BOOST_AUTO_TEST_CASE(captures_are_percent_decoded) {
    const Router router = make_router();
    auto m = router.match(http::verb::get, "/api/v1/cards/a%20b%2Fc");
    BOOST_REQUIRE(m.handler != nullptr);
    BOOST_TEST(m.params.at("cardNumber") == "a b/c");
    m = router.match(http::verb::get, "/api/v1/cards/bad%zz");
    BOOST_TEST(m.handler == nullptr);
    BOOST_TEST(m.status == http::status::not_found);
}

BOOST_AUTO_TEST_CASE(body_limit_comes_from_the_route) {
    const Router router = make_router();
    BOOST_TEST(router.match(http::verb::post, "/api/v1/cards/1/transactions").body_limit == 4096u);
    BOOST_TEST(router.match(http::verb::get, "/healthz").body_limit == 0u);
}

BOOST_AUTO_TEST_CASE(unmatched_is_404) {
    const Router router = make_router();
    for (const char* path : {"/nope", "/api/v1/cards", "/api/v1/cards/", "/healthz/",
                             "/api/v1/cards/1/2", "healthz", ""}) {
        auto m = router.match(http::verb::get, path);
        BOOST_TEST(m.handler == nullptr, path);
        BOOST_TEST(m.status == http::status::not_found, path);
        BOOST_TEST(m.route == "unmatched");
    }
}

BOOST_AUTO_TEST_CASE(wrong_method_is_405_with_allow) {
    const Router router = make_router();
    auto m = router.match(http::verb::delete_, "/api/v1/programs/x/images/icon");
    BOOST_TEST(m.handler == nullptr);
    BOOST_TEST(m.status == http::status::method_not_allowed);
    BOOST_TEST(m.allow == "GET, HEAD, PUT");
    m = router.match(http::verb::post, "/healthz");
    BOOST_TEST(m.status == http::status::method_not_allowed);
}

BOOST_AUTO_TEST_CASE(repeated_slashes_collapse_and_query_is_ignored) {
    const Router router = make_router();
    auto m = router.match(http::verb::get, "//api/v1//cards///42");
    BOOST_REQUIRE(m.handler != nullptr);
    BOOST_TEST(m.params.at("cardNumber") == "42");
    BOOST_TEST(router.match(http::verb::get, "//healthz").handler != nullptr);
    BOOST_TEST(router.match(http::verb::get, "/healthz?verbose=1").handler != nullptr);
}

BOOST_AUTO_TEST_CASE(head_falls_back_to_get) {
    Router router = make_router();
    auto m = router.match(http::verb::head, "/healthz");
    BOOST_TEST(m.handler != nullptr);
    BOOST_TEST(m.route == "/healthz");
    router.add(http::verb::head, "/healthz", ok_handler());
    const auto get = router.match(http::verb::get, "/healthz");
    m = router.match(http::verb::head, "/healthz");
    BOOST_TEST(m.handler != nullptr);
    BOOST_TEST(m.handler != get.handler);  // the HEAD route, though registered after GET
}

BOOST_AUTO_TEST_CASE(first_registered_wins) {
    Router router;
    router.add(http::verb::get, "/cards/{id}", ok_handler());
    router.add(http::verb::get, "/cards/stats", ok_handler());
    auto m = router.match(http::verb::get, "/cards/stats");
    BOOST_TEST(m.route == "/cards/{id}");
    BOOST_TEST(m.params.at("id") == "stats");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace cardsmith::http_server
