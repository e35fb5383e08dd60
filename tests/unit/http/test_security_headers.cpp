// add_security_headers: what every response leaves the server with (the session calls it
// just before writing).
#include <boost/test/unit_test.hpp>
#include <string>

#include "http/response.hpp"
#include "http/security_headers.hpp"

namespace cardsmith::http_server {
namespace {

Response with_type(const char* content_type) {
    return bytes_response(http::status::ok, content_type, "x");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(security_headers)

BOOST_AUTO_TEST_CASE(json_gets_nosniff_and_no_referrer_but_no_csp) {
    Response res = json_response(http::status::ok, {{"status", "ok"}});
    add_security_headers(res, false);
    BOOST_TEST(res["X-Content-Type-Options"] == "nosniff");
    BOOST_TEST(res["Referrer-Policy"] == "no-referrer");
    BOOST_TEST((res.find("Content-Security-Policy") == res.end()));
    BOOST_TEST((res.find(http::field::strict_transport_security) == res.end()));
}

BOOST_AUTO_TEST_CASE(a_document_without_a_policy_gets_the_fallback) {
    for (const char* type : {"text/html; charset=utf-8", "TEXT/HTML", "image/svg+xml"}) {
        BOOST_TEST_CONTEXT(type) {
            Response res = with_type(type);
            add_security_headers(res, false);
            BOOST_TEST(res["Content-Security-Policy"] == kFallbackContentSecurityPolicy);
        }
    }
    Response png = with_type("image/png");
    add_security_headers(png, false);
    BOOST_TEST((png.find("Content-Security-Policy") == png.end()));
}

BOOST_AUTO_TEST_CASE(the_handlers_own_choices_are_kept) {
    Response res = with_type("text/html; charset=utf-8");
    res.set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-abc'");
    res.set("Referrer-Policy", "strict-origin");
    add_security_headers(res, false);
    BOOST_TEST(res["Content-Security-Policy"] == "default-src 'none'; style-src 'nonce-abc'");
    BOOST_TEST(res["Referrer-Policy"] == "strict-origin");
    BOOST_TEST(res["X-Content-Type-Options"] == "nosniff");
}

BOOST_AUTO_TEST_CASE(hsts_only_over_tls) {
    Response plain = with_type("text/plain");
    add_security_headers(plain, false);
    BOOST_TEST((plain.find(http::field::strict_transport_security) == plain.end()));
    Response tls = with_type("text/plain");
    add_security_headers(tls, true);
    BOOST_TEST(tls[http::field::strict_transport_security] == "max-age=31536000");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace cardsmith::http_server
