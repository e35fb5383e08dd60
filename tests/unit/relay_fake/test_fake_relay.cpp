// Self-test of the fake Android push relays (tests/support/fake_relay.hpp) with a plain
// synchronous Beast client: every route's happy path and checks, batch limits, scripted
// failures, recording, keep-alive, concurrency and shutdown.
#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "fake_relay.hpp"

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using cardsmith::test::FakeRelay;
using cardsmith::test::FakeRelayOptions;
using cardsmith::test::RelayCall;
using Headers = std::map<std::string, std::string>;
using HttpReply = http::response<http::string_body>;

constexpr char kKey[] = "walletunion-test-key";
constexpr char kPassType[] = "pass.dev.cardsmith.loyalty";

// One keep-alive connection with a 5 s receive timeout, so that a broken fake fails the
// test instead of hanging it.
class Connection {
public:
    explicit Connection(std::uint16_t port) : socket_(ioc_) {
        socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
        const timeval tv{5, 0};
        ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }

    static http::request<http::string_body> make(http::verb method, const std::string& target,
                                                 const std::string& body, const Headers& headers,
                                                 bool json_type = true) {
        http::request<http::string_body> req{method, target, 11};
        req.set(http::field::host, "127.0.0.1");
        if (json_type) {
            req.set(http::field::content_type, "application/json");
        }
        for (const auto& [name, value] : headers) {
            req.set(name, value);
        }
        req.body() = body;
        req.keep_alive(true);
        req.prepare_payload();
        return req;
    }

    void send(const http::request<http::string_body>& req) { http::write(socket_, req); }

    HttpReply receive() {
        HttpReply res;
        http::response_parser<http::string_body> parser;
        parser.body_limit(64 * 1024 * 1024);
        http::read(socket_, buffer_, parser);
        return parser.release();
    }

    HttpReply request(http::verb method, const std::string& target, const std::string& body,
                      const Headers& headers = {}, bool json_type = true) {
        send(make(method, target, body, headers, json_type));
        return receive();
    }

    HttpReply post(const std::string& target, const std::string& body,
                   const Headers& headers = {}) {
        return request(http::verb::post, target, body, headers);
    }

    // True once the server has closed the connection (EOF or reset) within the timeout.
    bool closed_by_peer() {
        beast::error_code ec;
        char byte = 0;
        socket_.read_some(net::buffer(&byte, 1), ec);
        return ec == net::error::eof || ec == net::error::connection_reset;
    }

    tcp::socket& socket() { return socket_; }

private:
    net::io_context ioc_;
    tcp::socket socket_;
    beast::flat_buffer buffer_;
};

HttpReply post(const FakeRelay& fake, const std::string& target, const std::string& body,
               const Headers& headers = {}) {
    Connection c(fake.port());
    return c.post(target, body, headers);
}

std::vector<std::string> tokens(const std::string& prefix, std::size_t n) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < n; ++i) {
        // FCM and HMS tokens are long opaque strings (android-wallets.md §1).
        out.push_back(prefix + std::to_string(i) + ":" + std::string(150, 'x'));
    }
    return out;
}

json::array array_of(const std::vector<std::string>& v) {
    json::array a;
    for (const auto& s : v) {
        a.emplace_back(json::string_view(s.data(), s.size()));
    }
    return a;
}

std::string wu_body(const std::vector<std::string>& push_tokens, std::optional<bool> hms = {}) {
    json::object o;
    o["passTypeIdentifier"] = kPassType;
    o["pushTokens"] = array_of(push_tokens);
    if (hms) {
        o["hms"] = *hms;
    }
    return json::serialize(o);
}

json::value body_of(const HttpReply& r) { return json::parse(r.body()); }

std::vector<std::string> strings(const json::value& v) {
    std::vector<std::string> out;
    for (const auto& e : v.as_array()) {
        out.emplace_back(e.as_string().c_str());
    }
    return out;
}

const Headers kWu = {{"Authorization", kKey}};

}  // namespace

BOOST_AUTO_TEST_SUITE(fake_relay)

BOOST_AUTO_TEST_CASE(walletunion_happy_path_is_recorded) {
    FakeRelay fake;
    BOOST_TEST(fake.base_url() == "http://127.0.0.1:" + std::to_string(fake.port()));
    BOOST_TEST(fake.url("walletunion") == fake.base_url() + "/walletunion");
    const auto push = tokens("fcm", 3);
    const auto r = post(fake, "/walletunion/send", wu_body(push, false), kWu);
    BOOST_TEST(r.result_int() == 200U);
    const auto b = body_of(r);
    BOOST_TEST(b.at("status").as_string() == "OK");
    BOOST_TEST(b.at("unknown_push_tokens").as_array().empty());
    BOOST_TEST(b.at("expired_push_tokens").as_array().empty());
    BOOST_TEST(fake.wait_for_tokens({push.begin(), push.end()}, 1s));

    const auto calls = fake.calls();
    BOOST_TEST_REQUIRE(calls.size() == 1U);
    const RelayCall& c = calls[0];
    BOOST_TEST(c.route == "walletunion");
    BOOST_TEST(c.path == "/walletunion/send");
    BOOST_TEST(c.method == "POST");
    BOOST_TEST(c.headers.at("authorization") == kKey);
    BOOST_TEST(c.headers.at("content-type") == "application/json");
    BOOST_TEST(c.tokens == push);
    BOOST_TEST(c.delivered == push);
    BOOST_TEST((c.hms == std::optional<bool>(false)));
    BOOST_TEST(c.pass_type_id == kPassType);
    BOOST_TEST(c.status == 200);
    BOOST_TEST(c.body == wu_body(push, false));
    BOOST_TEST(c.reply_body == r.body());
    BOOST_TEST(c.connection == 1U);
    BOOST_TEST(fake.deliveries(push[0]) == 1U);
    BOOST_TEST(fake.count() == 1U);
    BOOST_TEST(fake.calls("walletunion").size() == 1U);
    BOOST_TEST(fake.calls("pass2u").empty());

    // hms may be left out for FCM tokens.
    const auto r2 = post(fake, "/walletunion/send", wu_body(push), kWu);
    BOOST_TEST(r2.result_int() == 200U);
    BOOST_TEST(!fake.calls().back().hms.has_value());
    BOOST_TEST(fake.deliveries(push[0]) == 2U);

    fake.clear();
    BOOST_TEST(fake.calls().empty());
    BOOST_TEST(fake.count() == 0U);
    BOOST_TEST(fake.deliveries(push[0]) == 0U);
}

BOOST_AUTO_TEST_CASE(walletunion_checks_the_key) {
    FakeRelay fake;
    const auto push = tokens("fcm", 1);
    BOOST_TEST(post(fake, "/walletunion/send", wu_body(push)).result_int() == 401U);
    BOOST_TEST(
        post(fake, "/walletunion/send", wu_body(push), {{"Authorization", "wrong"}}).result_int() ==
        401U);
    BOOST_TEST(post(fake, "/walletunion/send", wu_body(push),
                    {{"Authorization", std::string("Bearer ") + kKey}})
                   .result_int() == 401U);
    BOOST_TEST(!fake.wait_for_tokens({push[0]}, 50ms));
    BOOST_TEST(fake.calls().size() == 3U);
    BOOST_TEST(fake.calls()[0].status == 401);

    FakeRelayOptions o;
    o.walletunion_key = "other-key";
    FakeRelay keyed(o);
    BOOST_TEST(post(keyed, "/walletunion/send", wu_body(push), {{"Authorization", "other-key"}})
                   .result_int() == 200U);
}

BOOST_AUTO_TEST_CASE(walletunion_batch_limits) {
    FakeRelay fake;
    const auto fcm50 = tokens("fcm", 50);
    const auto fcm51 = tokens("fcm", 51);
    BOOST_TEST(post(fake, "/walletunion/send", wu_body(fcm50, false), kWu).result_int() == 200U);
    const auto r = post(fake, "/walletunion/send", wu_body(fcm51, false), kWu);
    BOOST_TEST(r.result_int() == 413U);
    BOOST_TEST(r.reason() == "Too many FCM pushTokens, max=50");
    BOOST_TEST(body_of(r).at("reason").as_string() == "Too many FCM pushTokens, max=50");
    BOOST_TEST(body_of(r).at("status").as_string() == "ERROR");
    // The rejected batch is recorded with its tokens but nothing is delivered.
    BOOST_TEST(fake.calls().back().tokens.size() == 51U);
    BOOST_TEST(fake.calls().back().delivered.empty());
    BOOST_TEST(fake.deliveries(fcm51[50]) == 0U);

    const auto hms1000 = tokens("hms", 1000);
    const auto hms1001 = tokens("hms", 1001);
    for (const auto& t : hms1001) {
        fake.seed_hms_token(t);
    }
    BOOST_TEST(post(fake, "/walletunion/send", wu_body(hms1000, true), kWu).result_int() == 200U);
    const auto h = post(fake, "/walletunion/send", wu_body(hms1001, true), kWu);
    BOOST_TEST(h.result_int() == 413U);
    BOOST_TEST(h.reason() == "Too many HMS pushTokens, max=1000");
    BOOST_TEST(body_of(h).at("reason").as_string() == "Too many HMS pushTokens, max=1000");
    BOOST_TEST(fake.wait_for_tokens({hms1000.begin(), hms1000.end()}, 1s));
    BOOST_TEST(!fake.wait_for_tokens({hms1001.back()}, 50ms));
}

BOOST_AUTO_TEST_CASE(walletunion_family_mismatch_and_shape) {
    FakeRelay fake;
    fake.seed_hms_token("hms-token");
    // HMS token without hms:true, FCM token with hms:true, and a mix.
    for (const auto& body :
         {wu_body({"hms-token"}), wu_body({"hms-token"}, false), wu_body({"fcm-token"}, true),
          wu_body({"fcm-token", "hms-token"}, true), wu_body({"fcm-token", "hms-token"}, false)}) {
        const auto r = post(fake, "/walletunion/send", body, kWu);
        BOOST_TEST(r.result_int() == 400U);
        BOOST_TEST(body_of(r).at("status").as_string() == "ERROR");
    }
    BOOST_TEST(post(fake, "/walletunion/send", wu_body({"hms-token"}, true), kWu).result_int() ==
               200U);
    BOOST_TEST((fake.calls().back().hms == std::optional<bool>(true)));

    // Shape: hms not a boolean, no pass type, pushTokens missing, empty or not strings.
    const std::vector<std::string> bad = {
        R"({"passTypeIdentifier":"p","pushTokens":["a"],"hms":"true"})",
        R"({"pushTokens":["a"]})",
        R"({"passTypeIdentifier":"p"})",
        R"({"passTypeIdentifier":"p","pushTokens":[]})",
        R"({"passTypeIdentifier":"p","pushTokens":"a"})",
        R"({"passTypeIdentifier":"p","pushTokens":[1]})",
        R"([])",
        R"({"passTypeIdentifier":"p","pushTokens":["a"])",
    };
    for (const auto& body : bad) {
        BOOST_TEST(post(fake, "/walletunion/send", body, kWu).result_int() == 400U, body);
    }
    BOOST_TEST(fake.calls().back().status == 400);
}

BOOST_AUTO_TEST_CASE(walletunion_expired_and_unknown_tokens) {
    FakeRelay fake;
    fake.expire_token("expired");
    fake.unknown_token("unknown");
    fake.expire_token("both");
    fake.unknown_token("both");
    const auto r = post(fake, "/walletunion/send",
                        wu_body({"good", "expired", "unknown", "both", "expired"}), kWu);
    BOOST_TEST(r.result_int() == 200U);
    const auto b = body_of(r);
    BOOST_TEST(b.at("status").as_string() == "ERROR");
    BOOST_TEST(
        (strings(b.at("expired_push_tokens")) == std::vector<std::string>{"expired", "both"}));
    BOOST_TEST(
        (strings(b.at("unknown_push_tokens")) == std::vector<std::string>{"unknown", "both"}));
    BOOST_TEST((fake.calls().back().delivered == std::vector<std::string>{"good"}));
    BOOST_TEST(fake.wait_for_tokens({"good"}, 1s));
    BOOST_TEST(fake.deliveries("expired") == 0U);
    BOOST_TEST(!fake.wait_for_tokens({"good", "unknown"}, 50ms));

    FakeRelayOptions o;
    o.error_status = 400;
    FakeRelay strict(o);
    strict.expire_token("expired");
    const auto s = post(strict, "/walletunion/send", wu_body({"expired"}), kWu);
    BOOST_TEST(s.result_int() == 400U);
    BOOST_TEST(
        (strings(body_of(s).at("expired_push_tokens")) == std::vector<std::string>{"expired"}));

    fake.reset_script();
    BOOST_TEST(body_of(post(fake, "/walletunion/send", wu_body({"expired"}), kWu))
                   .at("status")
                   .as_string() == "OK");
}

BOOST_AUTO_TEST_CASE(scripted_failures) {
    FakeRelay fake;
    fake.unknown_token("unknown");
    fake.expire_token("expired");
    fake.fail_next(2, FakeRelay::FailMode::rate_limited, "walletunion");
    FakeRelay::Failure date;
    date.mode = FakeRelay::FailMode::rate_limited;
    date.retry_after = "Wed, 21 Oct 2015 07:28:00 GMT";
    date.rate_remaining = 7;
    fake.fail_next(1, date);
    fake.fail_next(1, FakeRelay::FailMode::server_error);
    fake.fail_next(1, FakeRelay::FailMode::fcm_failed);

    const auto body = wu_body({"a", "unknown", "expired"});
    for (int i = 0; i < 2; ++i) {
        const auto r = post(fake, "/walletunion/send", body, kWu);
        BOOST_TEST(r.result_int() == 429U);
        BOOST_TEST(r[http::field::retry_after] == "30");
        BOOST_TEST(r["X-Rate-Limit-Limit"] == "3000");
        BOOST_TEST(r["X-Rate-Limit-Remaining"] == "0");
        BOOST_TEST(body_of(r).at("status").as_string() == "ERROR");
    }
    const auto d = post(fake, "/walletunion/send", body, kWu);
    BOOST_TEST(d.result_int() == 429U);
    BOOST_TEST(d[http::field::retry_after] == "Wed, 21 Oct 2015 07:28:00 GMT");
    BOOST_TEST(d["X-Rate-Limit-Remaining"] == "7");

    BOOST_TEST(post(fake, "/walletunion/send", body, kWu).result_int() == 500U);

    // fcm_failed (queued for any route) skips other routes: Wallet Passes gets its answer.
    BOOST_TEST(
        post(fake, "/walletpasses/api/v1/push", R"({"passTypeIdentifier":"p","pushTokens":["wp"]})")
            .result_int() == 200U);
    const auto f = post(fake, "/walletunion/send", body, kWu);
    BOOST_TEST(f.result_int() == 200U);
    const auto fb = body_of(f);
    BOOST_TEST(fb.at("status").as_string() == "FCM_FAILED");
    BOOST_TEST((strings(fb.at("unknown_push_tokens")) == std::vector<std::string>{"unknown"}));
    BOOST_TEST(fb.at("expired_push_tokens").as_array().empty());
    BOOST_TEST(fake.deliveries("a") == 0U);

    // The script is used up: the normal answer again.
    const auto ok = post(fake, "/walletunion/send", body, kWu);
    BOOST_TEST(body_of(ok).at("status").as_string() == "ERROR");
    BOOST_TEST(fake.deliveries("a") == 1U);

    // Requests failing the checks consume no scripted failure.
    fake.fail_next(1, FakeRelay::FailMode::server_error, "walletunion");
    BOOST_TEST(post(fake, "/walletunion/send", body).result_int() == 401U);
    BOOST_TEST(post(fake, "/walletunion/send", body, kWu).result_int() == 500U);

    // A scripted status other than the default.
    FakeRelay::Failure unavailable;
    unavailable.status = 503;
    fake.fail_next(1, unavailable, "pass2u");
    BOOST_TEST(post(fake, "/pass2u/v2/registrations/p/push", R"({"registrationIds":["x"]})",
                    {{"x-api-key", "pass2u-test-key"}, {"Accept", "application/json"}})
                   .result_int() == 503U);
}

BOOST_AUTO_TEST_CASE(drop_connection_and_delay) {
    FakeRelay fake;
    fake.fail_next(1, FakeRelay::FailMode::drop_connection);
    {
        Connection c(fake.port());
        c.send(Connection::make(http::verb::post, "/walletunion/send", wu_body({"t"}), kWu));
        BOOST_TEST(c.closed_by_peer());
    }
    BOOST_TEST_REQUIRE(fake.calls().size() == 1U);
    BOOST_TEST(fake.calls()[0].status == 0);
    BOOST_TEST(fake.deliveries("t") == 0U);

    fake.set_delay(200ms);
    const auto start = Clock::now();
    BOOST_TEST(post(fake, "/walletunion/send", wu_body({"t"}), kWu).result_int() == 200U);
    BOOST_TEST((Clock::now() - start >= 200ms));
    fake.set_delay(0ms);
}

BOOST_AUTO_TEST_CASE(generic_errors) {
    FakeRelay fake;
    BOOST_TEST(post(fake, "/nowhere", "{}").result_int() == 404U);
    BOOST_TEST(fake.calls().back().route.empty());
    BOOST_TEST(post(fake, "/walletunion/send/", wu_body({"t"}), kWu).result_int() == 404U);
    BOOST_TEST(fake.calls().back().route == "walletunion");
    BOOST_TEST(post(fake, "/walletunion", wu_body({"t"}), kWu).result_int() == 404U);
    BOOST_TEST(post(fake, "/passwallet//v1/pushUpdates", "{}").result_int() == 404U);

    Connection c(fake.port());
    const auto get = c.request(http::verb::get, "/walletunion/send", "", kWu);
    BOOST_TEST(get.result_int() == 405U);
    BOOST_TEST(get[http::field::allow] == "POST");
    const auto text = c.request(http::verb::post, "/walletunion/send", wu_body({"t"}), kWu, false);
    BOOST_TEST(text.result_int() == 415U);
    const auto plain = c.post("/walletunion/send", wu_body({"t"}),
                              {{"Authorization", kKey}, {"Content-Type", "text/plain"}});
    BOOST_TEST(plain.result_int() == 415U);
    const auto charset =
        c.post("/walletunion/send", wu_body({"t"}),
               {{"Authorization", kKey}, {"Content-Type", "application/json; charset=utf-8"}});
    BOOST_TEST(charset.result_int() == 200U);
    for (const char* route : {"/walletunion/send", "/walletpasses/api/v1/push",
                              "/passwallet/v1/pushUpdate", "/passworks/v1/pushUpdate"}) {
        BOOST_TEST(c.post(route, "{not json", kWu).result_int() == 400U, route);
    }
    BOOST_TEST(c.post("/pass2u/v2/registrations/p/push", "{not json",
                      {{"x-api-key", "pass2u-test-key"}, {"Accept", "application/json"}})
                   .result_int() == 400U);
}

BOOST_AUTO_TEST_CASE(issuer_keys_are_accepted_and_recorded) {
    FakeRelay fake;
    const auto push = tokens("fcm", 1);
    const Headers issuer = {{"Authorization", "issuer-key"}};
    BOOST_TEST(post(fake, "/walletunion/send", wu_body(push), issuer).result_int() == 401U);
    fake.accept_key("walletunion", "issuer-key");
    BOOST_TEST(post(fake, "/walletunion/send", wu_body(push), issuer).result_int() == 200U);
    BOOST_TEST(post(fake, "/walletunion/send", wu_body(push), kWu).result_int() == 200U);
    const auto calls = fake.calls();
    BOOST_TEST_REQUIRE(calls.size() == 3U);
    BOOST_TEST(calls[0].key == "issuer-key");
    BOOST_TEST(calls[1].key == "issuer-key");
    BOOST_TEST(calls[2].key == kKey);
    // Only on that route; Pass2U's key is its x-api-key.
    const std::string p2u = R"({"registrationIds":["APA91b-1"]})";
    BOOST_TEST(post(fake, "/pass2u/v2/registrations/p/push", p2u,
                    {{"x-api-key", "issuer-key"}, {"Accept", "application/json"}})
                   .result_int() == 401U);
    fake.accept_key("pass2u", "p2u-issuer");
    BOOST_TEST(post(fake, "/pass2u/v2/registrations/p/push", p2u,
                    {{"x-api-key", "p2u-issuer"},
                     {"Accept", "application/json"},
                     {"Authorization", "ignored"}})
                   .result_int() == 200U);
    BOOST_TEST(fake.calls().back().key == "p2u-issuer");
    fake.reset_script();
    BOOST_TEST(post(fake, "/walletunion/send", wu_body(push), issuer).result_int() == 401U);
}

BOOST_AUTO_TEST_CASE(rate_limit_window_answers_429_until_it_ends) {
    FakeRelay fake;
    fake.accept_key("walletunion", "other-key");
    const auto push = tokens("fcm", 1);
    fake.rate_limit("walletunion", 400ms, "", kKey);
    fake.fail_next(1, FakeRelay::FailMode::server_error, "walletunion");
    const auto limited = post(fake, "/walletunion/send", wu_body(push), kWu);
    BOOST_TEST(limited.result_int() == 429U);
    BOOST_TEST(limited[http::field::retry_after] == "1");  // 400 ms left, rounded up
    BOOST_TEST(limited["X-Rate-Limit-Remaining"] == "0");
    BOOST_TEST(limited["X-Rate-Limit-Limit"] == "3000");
    // Another key is not limited (and meets the scripted failure).
    BOOST_TEST(post(fake, "/walletunion/send", wu_body(push), {{"Authorization", "other-key"}})
                   .result_int() == 500U);
    std::this_thread::sleep_for(450ms);
    BOOST_TEST(post(fake, "/walletunion/send", wu_body(push), kWu).result_int() == 200U);
    BOOST_TEST(fake.deliveries(push[0]) == 1U);

    // Any key, an explicit Retry-After (an HTTP-date passes through as given).
    fake.rate_limit("walletpasses", 5s, "Wed, 21 Oct 2037 07:28:00 GMT");
    const std::string body = R"({"passTypeIdentifier":"pass.x","pushTokens":["abc123"]})";
    const auto dated = post(fake, "/walletpasses/api/v1/push", body);
    BOOST_TEST(dated.result_int() == 429U);
    BOOST_TEST(dated[http::field::retry_after] == "Wed, 21 Oct 2037 07:28:00 GMT");
    BOOST_TEST(post(fake, "/walletunion/send", wu_body(push), kWu).result_int() == 200U);
    fake.reset_script();
    BOOST_TEST(post(fake, "/walletpasses/api/v1/push", body).result_int() == 200U);
}

BOOST_AUTO_TEST_CASE(advertised_remaining_rides_on_normal_answers) {
    FakeRelay fake;
    const auto push = tokens("fcm", 1);
    BOOST_TEST(
        post(fake, "/walletunion/send", wu_body(push), kWu)["X-Rate-Limit-Remaining"].empty());
    fake.advertise_remaining("walletunion", 0, 10);
    const auto r = post(fake, "/walletunion/send", wu_body(push), kWu);
    BOOST_TEST(r.result_int() == 200U);
    BOOST_TEST(r["X-Rate-Limit-Remaining"] == "0");
    BOOST_TEST(r["X-Rate-Limit-Limit"] == "10");
    // Not on errors, not on other routes.
    BOOST_TEST(post(fake, "/walletunion/send", wu_body(push))["X-Rate-Limit-Remaining"].empty());
    const std::string body = R"({"passTypeIdentifier":"pass.x","pushTokens":["abc123"]})";
    BOOST_TEST(post(fake, "/walletpasses/api/v1/push", body)["X-Rate-Limit-Remaining"].empty());
    fake.advertise_remaining("walletunion", -1);
    BOOST_TEST(
        post(fake, "/walletunion/send", wu_body(push), kWu)["X-Rate-Limit-Remaining"].empty());
}

BOOST_AUTO_TEST_CASE(walletpasses_route) {
    FakeRelay open_relay;  // no key configured: none required
    const std::string body = R"({"passTypeIdentifier":"pass.x","pushTokens":["abc123"]})";
    const auto r = post(open_relay, "/walletpasses/api/v1/push", body);
    BOOST_TEST(r.result_int() == 200U);
    BOOST_TEST(r.body() == "{}");
    BOOST_TEST(open_relay.calls().back().route == "walletpasses");
    BOOST_TEST(open_relay.calls().back().pass_type_id == "pass.x");
    BOOST_TEST((open_relay.calls().back().tokens == std::vector<std::string>{"abc123"}));
    BOOST_TEST(open_relay.wait_for_tokens({"abc123"}, 1s));
    // A bare string instead of an array: 400 (the real relay says 200 and drops it).
    const auto s = post(open_relay, "/walletpasses/api/v1/push",
                        R"({"passTypeIdentifier":"pass.x","pushTokens":"abc123"})");
    BOOST_TEST(s.result_int() == 400U);
    BOOST_TEST(body_of(s).at("error").as_string().size() > 0U);
    BOOST_TEST((open_relay.calls().back().tokens == std::vector<std::string>{"abc123"}));

    FakeRelayOptions o;
    o.walletpasses_key = "wp-key";
    FakeRelay keyed(o);
    BOOST_TEST(post(keyed, "/walletpasses/api/v1/push", body).result_int() == 401U);
    BOOST_TEST(
        post(keyed, "/walletpasses/api/v1/push", body, {{"Authorization", "nope"}}).result_int() ==
        401U);
    BOOST_TEST(post(keyed, "/walletpasses/api/v1/push", body, {{"Authorization", "wp-key"}})
                   .result_int() == 200U);
    keyed.fail_next(1, FakeRelay::FailMode::rate_limited, "walletpasses");
    keyed.fail_next(1, FakeRelay::FailMode::server_error, "walletpasses");
    const auto limited =
        post(keyed, "/walletpasses/api/v1/push", body, {{"Authorization", "wp-key"}});
    BOOST_TEST(limited.result_int() == 429U);
    BOOST_TEST(limited[http::field::retry_after] == "30");
    BOOST_TEST(post(keyed, "/walletpasses/api/v1/push", body, {{"Authorization", "wp-key"}})
                   .result_int() == 500U);
    BOOST_TEST(keyed.deliveries("abc123") == 1U);
}

BOOST_AUTO_TEST_CASE(pass2u_route) {
    FakeRelay fake;
    const Headers h = {{"x-api-key", "pass2u-test-key"}, {"Accept", "application/json"}};
    const std::string body = R"({"registrationIds":["APA91b-1","APA91b-2"]})";
    const auto r = post(fake, "/pass2u/v2/registrations/pass.com.example.card/push", body, h);
    BOOST_TEST(r.result_int() == 200U);
    BOOST_TEST(r.body() == "{}");
    const auto c = fake.calls().back();
    BOOST_TEST(c.route == "pass2u");
    BOOST_TEST(c.pass_type_id == "pass.com.example.card");
    BOOST_TEST((c.tokens == std::vector<std::string>{"APA91b-1", "APA91b-2"}));
    BOOST_TEST(c.headers.at("x-api-key") == "pass2u-test-key");
    BOOST_TEST(c.headers.at("accept") == "application/json");
    BOOST_TEST(fake.wait_for_tokens({"APA91b-1", "APA91b-2"}, 1s));

    // Percent-encoded pass type ID in the path.
    BOOST_TEST(post(fake, "/pass2u/v2/registrations/pass.a%2Db/push", body, h).result_int() ==
               200U);
    BOOST_TEST(fake.calls().back().pass_type_id == "pass.a-b");
    // Empty pass type ID; a slash in it.
    BOOST_TEST(post(fake, "/pass2u/v2/registrations//push", body, h).result_int() == 400U);
    BOOST_TEST(post(fake, "/pass2u/v2/registrations/a/b/push", body, h).result_int() == 404U);
    // Key and Accept.
    BOOST_TEST(post(fake, "/pass2u/v2/registrations/p/push", body, {{"Accept", "application/json"}})
                   .result_int() == 401U);
    BOOST_TEST(post(fake, "/pass2u/v2/registrations/p/push", body,
                    {{"x-api-key", "wrong"}, {"Accept", "application/json"}})
                   .result_int() == 401U);
    BOOST_TEST(
        post(fake, "/pass2u/v2/registrations/p/push", body, {{"x-api-key", "pass2u-test-key"}})
            .result_int() == 406U);
    // Body: the field is registrationIds, ≤ 1000 of them.
    BOOST_TEST(
        post(fake, "/pass2u/v2/registrations/p/push", R"({"pushTokens":["a"]})", h).result_int() ==
        400U);
    json::object big;
    big["registrationIds"] = array_of(tokens("APA91b", 1000));
    BOOST_TEST(
        post(fake, "/pass2u/v2/registrations/p/push", json::serialize(big), h).result_int() ==
        200U);
    big["registrationIds"] = array_of(tokens("APA91b", 1001));
    const auto too_many = post(fake, "/pass2u/v2/registrations/p/push", json::serialize(big), h);
    BOOST_TEST(too_many.result_int() == 413U);
    BOOST_TEST(body_of(too_many).at("error").as_string() == "Too many registrationIds, max=1000");
}

BOOST_AUTO_TEST_CASE(passwallet_routes) {
    FakeRelay fake;
    const auto one =
        post(fake, "/passwallet/v1/pushUpdate", R"({"passTypeID":"pass.x","pushToken":"ab12"})");
    BOOST_TEST(one.result_int() == 200U);
    BOOST_TEST(body_of(one).at("status").as_string() == "OK");
    BOOST_TEST(fake.calls().back().route == "passwallet");
    BOOST_TEST(fake.calls().back().pass_type_id == "pass.x");
    BOOST_TEST((fake.calls().back().tokens == std::vector<std::string>{"ab12"}));

    const auto many = post(fake, "/passwallet/v1/pushUpdates",
                           R"({"passTypeID":"pass.x","pushTokens":["cd34","ef56"]})");
    BOOST_TEST(many.result_int() == 200U);
    BOOST_TEST(fake.wait_for_tokens({"ab12", "cd34", "ef56"}, 1s));

    // passTypeIdentifier is the wrong key here; pushToken must be a string.
    const auto wrong_key = post(fake, "/passwallet/v1/pushUpdates",
                                R"({"passTypeIdentifier":"pass.x","pushTokens":["cd34"]})");
    BOOST_TEST(wrong_key.result_int() == 400U);
    BOOST_TEST(body_of(wrong_key).at("status").as_string() == "ERROR");
    BOOST_TEST(body_of(wrong_key).at("message").as_string() == "passTypeID is required");
    BOOST_TEST(post(fake, "/passwallet/v1/pushUpdate", R"({"passTypeID":"pass.x","pushToken":[]})")
                   .result_int() == 400U);

    FakeRelay::Failure f;
    f.mode = FakeRelay::FailMode::bad_request;
    f.message = "unknown pass type";
    fake.fail_next(1, f, "passwallet");
    const auto scripted =
        post(fake, "/passwallet/v1/pushUpdate", R"({"passTypeID":"pass.x","pushToken":"zz99"})");
    BOOST_TEST(scripted.result_int() == 400U);
    BOOST_TEST(body_of(scripted).at("message").as_string() == "unknown pass type");
    BOOST_TEST(fake.deliveries("zz99") == 0U);
}

BOOST_AUTO_TEST_CASE(passworks_route) {
    FakeRelay fake;
    fake.expire_token("dead");
    fake.unknown_token("bogus");
    const auto r = post(fake, "/passworks/v1/pushUpdate",
                        R"({"passTypeIdentifier":"pass.x","pushTokens":["live","dead","bogus"]})");
    BOOST_TEST(r.result_int() == 200U);
    const auto b = body_of(r);
    BOOST_TEST(b.at("success").to_number<int>() == 1);
    BOOST_TEST(b.at("failure").to_number<int>() == 2);
    BOOST_TEST(b.at("canonical_ids").to_number<int>() == 0);
    BOOST_TEST(b.at("multicast_id").to_number<std::int64_t>() > 0);
    const auto& results = b.at("results").as_array();
    BOOST_TEST_REQUIRE(results.size() == 3U);
    BOOST_TEST(results[0].as_object().contains("message_id"));
    BOOST_TEST(results[1].at("error").as_string() == "NotRegistered");
    BOOST_TEST(results[2].at("error").as_string() == "InvalidRegistration");
    BOOST_TEST((fake.calls().back().delivered == std::vector<std::string>{"live"}));

    FakeRelayOptions o;
    o.passworks_key = "pw-key";
    FakeRelay keyed(o);
    const std::string body = R"({"passTypeIdentifier":"pass.x","pushTokens":["live"]})";
    BOOST_TEST(post(keyed, "/passworks/v1/pushUpdate", body).result_int() == 401U);
    BOOST_TEST(
        post(keyed, "/passworks/v1/pushUpdate", body, {{"Authorization", "pw-key"}}).result_int() ==
        200U);
}

BOOST_AUTO_TEST_CASE(keep_alive_and_pipelining) {
    FakeRelay fake;
    Connection c(fake.port());
    BOOST_TEST(c.post("/walletunion/send", wu_body({"k1"}), kWu).result_int() == 200U);
    BOOST_TEST(c.post("/passwallet/v1/pushUpdate", R"({"passTypeID":"p","pushToken":"k2"})")
                   .result_int() == 200U);
    // Two requests written back to back, then both answers read.
    c.send(Connection::make(http::verb::post, "/walletunion/send", wu_body({"k3"}), kWu));
    c.send(Connection::make(http::verb::post, "/walletunion/send", wu_body({"k4"}), kWu));
    BOOST_TEST(c.receive().result_int() == 200U);
    BOOST_TEST(c.receive().result_int() == 200U);
    BOOST_TEST(fake.connections_accepted() == 1U);
    BOOST_TEST(fake.connections_open() == 1U);
    const auto calls = fake.calls();
    BOOST_TEST_REQUIRE(calls.size() == 4U);
    for (const auto& call : calls) {
        BOOST_TEST(call.connection == 1U);
    }
    BOOST_TEST(calls[2].tokens[0] == "k3");
    BOOST_TEST(calls[3].tokens[0] == "k4");

    // Connection: close is honoured.
    auto req = Connection::make(http::verb::post, "/walletunion/send", wu_body({"k5"}), kWu);
    req.keep_alive(false);
    c.send(req);
    const auto last = c.receive();
    BOOST_TEST(last.result_int() == 200U);
    BOOST_TEST(!last.keep_alive());
    BOOST_TEST(c.closed_by_peer());
}

BOOST_AUTO_TEST_CASE(drop_connections_closes_idle_keep_alive) {
    FakeRelay fake;
    Connection c(fake.port());
    BOOST_TEST(c.post("/walletunion/send", wu_body({"a"}), kWu).result_int() == 200U);
    fake.drop_connections();
    BOOST_TEST(c.closed_by_peer());
    const auto deadline = Clock::now() + 2s;
    while (fake.connections_open() != 0U && Clock::now() < deadline) {
        std::this_thread::sleep_for(5ms);
    }
    BOOST_TEST(fake.connections_open() == 0U);
    // New connections still work.
    BOOST_TEST(post(fake, "/walletunion/send", wu_body({"b"}), kWu).result_int() == 200U);
    BOOST_TEST(fake.connections_accepted() == 2U);
}

BOOST_AUTO_TEST_CASE(concurrent_connections) {
    FakeRelayOptions o;
    o.threads = 2;
    FakeRelay fake(o);
    fake.set_delay(1ms);
    constexpr int kClients = 8;
    constexpr int kRequests = 20;
    std::atomic<int> ok{0};
    std::vector<std::thread> clients;
    std::set<std::string> all;
    for (int i = 0; i < kClients; ++i) {
        for (int j = 0; j < kRequests; ++j) {
            all.insert("c" + std::to_string(i) + "-" + std::to_string(j));
        }
    }
    for (int i = 0; i < kClients; ++i) {
        clients.emplace_back([&fake, &ok, i] {
            try {
                Connection c(fake.port());
                for (int j = 0; j < kRequests; ++j) {
                    const std::string t = "c" + std::to_string(i) + "-" + std::to_string(j);
                    if (c.post("/walletunion/send", wu_body({t}), kWu).result_int() == 200U) {
                        ++ok;
                    }
                }
            } catch (const std::exception&) {
            }
        });
    }
    for (auto& t : clients) {
        t.join();
    }
    BOOST_TEST(ok.load() == kClients * kRequests);
    BOOST_TEST(fake.wait_for_tokens(all, 5s));
    BOOST_TEST(fake.calls().size() == static_cast<std::size_t>(kClients * kRequests));
    BOOST_TEST(fake.connections_accepted() == static_cast<std::size_t>(kClients));
}

BOOST_AUTO_TEST_CASE(wait_for_tokens_sees_later_calls) {
    FakeRelay fake;
    std::thread later([&fake] {
        std::this_thread::sleep_for(100ms);
        post(fake, "/walletunion/send", wu_body({"late"}), kWu);
    });
    BOOST_TEST(fake.wait_for_tokens({"late"}, 5s));
    BOOST_TEST(fake.wait_for_calls(1, 1s));
    later.join();
}

BOOST_AUTO_TEST_CASE(destructor_with_clients_connected) {
    auto fake = std::make_unique<FakeRelay>();
    Connection idle(fake->port());
    Connection busy(fake->port());
    BOOST_TEST(idle.post("/walletunion/send", wu_body({"a"}), kWu).result_int() == 200U);
    fake->set_delay(10s);
    busy.send(Connection::make(http::verb::post, "/walletunion/send", wu_body({"b"}), kWu));
    BOOST_TEST(fake->wait_for_calls(2, 2s));
    const auto start = Clock::now();
    fake.reset();
    BOOST_TEST((Clock::now() - start < 3s));
    BOOST_TEST(idle.closed_by_peer());
    BOOST_TEST(busy.closed_by_peer());
}

BOOST_AUTO_TEST_CASE(record_off_keeps_counters) {
    FakeRelayOptions o;
    o.record = false;
    FakeRelay fake(o);
    BOOST_TEST(post(fake, "/walletunion/send", wu_body({"a"}), kWu).result_int() == 200U);
    BOOST_TEST(fake.calls().empty());
    BOOST_TEST(fake.count() == 1U);
    BOOST_TEST(fake.wait_for_tokens({"a"}, 1s));
}

BOOST_AUTO_TEST_SUITE_END()
