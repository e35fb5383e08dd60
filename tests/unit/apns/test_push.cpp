// apns::classify, parse_error_body and token_prefix (apple-wallet.md §3.3).
#include <boost/test/unit_test.hpp>

#include "apns/push.hpp"
#include "apns_print.hpp"

using namespace cardsmith::apns;

namespace {

PushResult result(unsigned status, std::string reason = {}) {
    PushResult r;
    r.status = status;
    r.reason = std::move(reason);
    return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(apns_push)

BOOST_AUTO_TEST_CASE(classify_follows_the_table) {
    BOOST_TEST(classify(result(200)) == Action::done);
    BOOST_TEST(classify(result(400, "BadDeviceToken")) == Action::drop_token);
    BOOST_TEST(classify(result(400, "DeviceTokenNotForTopic")) == Action::drop_token);
    BOOST_TEST(classify(result(400, "TopicDisallowed")) == Action::stop_identity);
    BOOST_TEST(classify(result(400, "BadTopic")) == Action::stop_identity);
    BOOST_TEST(classify(result(400, "MissingTopic")) == Action::stop_identity);
    BOOST_TEST(classify(result(400, "IdleTimeout")) == Action::retry_later);
    BOOST_TEST(classify(result(400, "PayloadEmpty")) == Action::our_bug);
    BOOST_TEST(classify(result(400, "BadMessageId")) == Action::our_bug);
    BOOST_TEST(classify(result(403, "BadCertificate")) == Action::stop_identity);
    BOOST_TEST(classify(result(403, "BadCertificateEnvironment")) == Action::stop_identity);
    BOOST_TEST(classify(result(403, "Forbidden")) == Action::stop_identity);
    BOOST_TEST(classify(result(404, "BadPath")) == Action::our_bug);
    BOOST_TEST(classify(result(405, "MethodNotAllowed")) == Action::our_bug);
    BOOST_TEST(classify(result(410, "Unregistered")) == Action::drop_token);
    BOOST_TEST(classify(result(410, "ExpiredToken")) == Action::drop_token);
    BOOST_TEST(classify(result(413, "PayloadTooLarge")) == Action::our_bug);
    BOOST_TEST(classify(result(429, "TooManyRequests")) == Action::retry_later);
    BOOST_TEST(classify(result(500, "InternalServerError")) == Action::retry_later);
    BOOST_TEST(classify(result(503, "ServiceUnavailable")) == Action::retry_later);
    BOOST_TEST(classify(result(0, "timeout")) == Action::retry_later);
    BOOST_TEST(to_string(Action::drop_token) == "drop_token");
}

BOOST_AUTO_TEST_CASE(parse_error_body_reads_reason_and_timestamp) {
    PushResult r = result(410);
    BOOST_TEST(parse_error_body(R"({"reason":"Unregistered","timestamp":1700000000123})", r));
    BOOST_TEST(r.reason == "Unregistered");
    BOOST_REQUIRE(r.timestamp_ms.has_value());
    BOOST_TEST(*r.timestamp_ms == 1700000000123);

    PushResult plain = result(400);
    BOOST_TEST(parse_error_body(R"({"reason":"BadDeviceToken"})", plain));
    BOOST_TEST(plain.reason == "BadDeviceToken");
    BOOST_TEST(!plain.timestamp_ms.has_value());
}

BOOST_AUTO_TEST_CASE(parse_error_body_leaves_garbage_alone) {
    PushResult r = result(500, "kept");
    BOOST_TEST(!parse_error_body("", r));
    BOOST_TEST(!parse_error_body("<html>oops</html>", r));
    BOOST_TEST(!parse_error_body("[1,2]", r));
    BOOST_TEST(r.reason == "kept");
    BOOST_TEST(parse_error_body(R"({"reason":42})", r));  // JSON, but no string reason
    BOOST_TEST(r.reason == "kept");
}

// Found by fuzz_apns_response: a timestamp beyond int64 (as a double or an unsigned) was
// converted anyway (undefined for the double, a negative time for the unsigned).
BOOST_AUTO_TEST_CASE(parse_error_body_ignores_a_timestamp_out_of_range) {
    for (const char* body : {R"({"reason":"Unregistered","timestamp":9.3e18})",
                             R"({"reason":"Unregistered","timestamp":-1e300})",
                             R"({"reason":"Unregistered","timestamp":18446744073709551615})"}) {
        PushResult r = result(410);
        BOOST_TEST(parse_error_body(body, r));
        BOOST_TEST(r.reason == "Unregistered");
        BOOST_TEST(!r.timestamp_ms.has_value(), body);
    }
    PushResult fraction = result(410);
    BOOST_TEST(parse_error_body(R"({"timestamp":1700000000123.0})", fraction));
    BOOST_REQUIRE(fraction.timestamp_ms.has_value());
    BOOST_TEST(*fraction.timestamp_ms == 1700000000123);
}

BOOST_AUTO_TEST_CASE(token_prefix_never_shows_the_whole_token) {
    BOOST_TEST(token_prefix("0123456789abcdef0123") == "01234567...");
    BOOST_TEST(token_prefix("abcd") == "ab...");
    BOOST_TEST(token_prefix("") == "...");
}

BOOST_AUTO_TEST_SUITE_END()
