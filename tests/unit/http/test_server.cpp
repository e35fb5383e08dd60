#include <atomic>
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "http/response.hpp"
#include "http/server.hpp"
#include "test_client.hpp"
#include "test_server_harness.hpp"

namespace cardsmith::http_server {
namespace {

using namespace std::chrono_literals;
using test::Client;
using test::eventually;
using test::make_request;
using test::ms_since;

ServerOptions test_options() {
    ServerOptions options;
    options.header_limit = 8 * 1024;
    options.body_limit = 64 * 1024;
    options.read_timeout = 5s;
    options.idle_timeout = 1s;
    options.write_timeout = 5s;
    return options;
}

std::string error_code_of(const test::Reply& reply) {
    return std::string(boost::json::parse(reply.body()).at("error").at("code").as_string());
}

// The shared harness with the routes these tests need.
class ServerFixture : public test::ServerHarness {
public:
    explicit ServerFixture(ServerOptions options = test_options())
        : ServerHarness(std::chrono::seconds(2)) {
        add_routes();
        start(std::move(options));
    }
    // The /slow handler uses the members below: stop it before they go.
    ~ServerFixture() { shutdown(); }

    // Ready when the /slow handler has started.
    std::shared_future<void> slow_started() { return slow_started_future_; }
    void set_slow_delay(std::chrono::milliseconds d) { slow_delay_ = d; }

private:
    void add_routes();

    std::promise<void> slow_started_;
    std::shared_future<void> slow_started_future_ = slow_started_.get_future().share();
    std::atomic<bool> slow_seen_{false};
    std::chrono::milliseconds slow_delay_{300};
};

void ServerFixture::add_routes() {
    router().add(http::verb::get, "/hello", [](RequestContext&) -> net::awaitable<Response> {
        co_return bytes_response(http::status::ok, "text/plain", "hello");
    });
    router().add(http::verb::get, "/items/{id}",
                 [](RequestContext& ctx) -> net::awaitable<Response> {
                     boost::json::object body;
                     body["id"] = ctx.param("id");
                     body["q"] = ctx.query.count("q") ? ctx.query.at("q") : "";
                     body["requestId"] = ctx.request_id;
                     co_return json_response(http::status::ok, body);
                 });
    router().add(http::verb::post, "/echo", [](RequestContext& ctx) -> net::awaitable<Response> {
        co_return json_response(http::status::ok, boost::json::parse(ctx.request.body()));
    });
    router().add(
        http::verb::post, "/upload",
        [](RequestContext& ctx) -> net::awaitable<Response> {
            co_return json_response(http::status::ok, {{"size", ctx.request.body().size()}});
        },
        RouteOptions{1024 * 1024});
    router().add(http::verb::get, "/boom", [](RequestContext&) -> net::awaitable<Response> {
        throw std::runtime_error("handler exploded");
        co_return bytes_response(http::status::ok, "text/plain", "unreachable");
    });
    router().add(http::verb::get, "/slow", [this](RequestContext&) -> net::awaitable<Response> {
        if (!slow_seen_.exchange(true)) {
            slow_started_.set_value();
        }
        net::steady_timer timer(co_await net::this_coro::executor, slow_delay_);
        co_await timer.async_wait(net::use_awaitable);
        co_return bytes_response(http::status::ok, "text/plain", "slow done");
    });
}

}  // namespace

BOOST_AUTO_TEST_SUITE(server)

BOOST_AUTO_TEST_CASE(get_returns_body_and_headers) {
    ServerFixture fx;
    Client client(fx.endpoint());
    BOOST_REQUIRE(!client.connect());
    BOOST_REQUIRE(!client.send(make_request(http::verb::get, "/hello")));
    auto [ec, reply] = client.read();
    BOOST_REQUIRE(!ec);
    BOOST_TEST(reply.result_int() == 200u);
    BOOST_TEST(reply.body() == "hello");
    BOOST_TEST(reply[http::field::server] == "cardsmith");
    BOOST_TEST(reply["X-Request-Id"].size() == 16u);
    BOOST_TEST(reply.keep_alive());
    // Metrics are recorded once the write completes, which may be just after the client read.
    BOOST_TEST(eventually([&] {
        return fx.metrics().render().find("route=\"/hello\",method=\"GET\",status=\"200\"} 1") !=
               std::string::npos;
    }));
}

BOOST_AUTO_TEST_CASE(keep_alive_serves_two_requests_on_one_connection) {
    ServerFixture fx;
    Client client(fx.endpoint());
    BOOST_REQUIRE(!client.connect());
    BOOST_REQUIRE(!client.send(make_request(http::verb::get, "/hello")));
    auto [ec1, first] = client.read();
    BOOST_REQUIRE(!ec1);
    BOOST_REQUIRE(!client.send(make_request(http::verb::get, "//items/a%20b?q=x%26y&q=last")));
    auto [ec2, second] = client.read();
    BOOST_REQUIRE(!ec2);
    BOOST_TEST(second.result_int() == 200u);
    const auto body = boost::json::parse(second.body());
    BOOST_TEST(body.at("id").as_string() == "a b");
    BOOST_TEST(body.at("q").as_string() == "last");
    BOOST_TEST(body.at("requestId").as_string() == second["X-Request-Id"]);
    BOOST_TEST(fx.server().active_connections() == 1u);
}

BOOST_AUTO_TEST_CASE(post_json_is_echoed) {
    ServerFixture fx;
    Client client(fx.endpoint());
    BOOST_REQUIRE(!client.connect());
    BOOST_REQUIRE(!client.send(make_request(http::verb::post, "/echo", R"({"points":42})")));
    auto [ec, reply] = client.read();
    BOOST_REQUIRE(!ec);
    BOOST_TEST(reply.result_int() == 200u);
    BOOST_TEST(boost::json::parse(reply.body()).at("points").as_int64() == 42);
    BOOST_TEST(reply[http::field::content_type] == "application/json");
}

BOOST_AUTO_TEST_CASE(head_has_length_but_no_body) {
    ServerFixture fx;
    Client client(fx.endpoint());
    BOOST_REQUIRE(!client.connect());
    BOOST_REQUIRE(!client.send(make_request(http::verb::head, "/hello")));
    auto [ec, reply] = client.read(true);
    BOOST_REQUIRE(!ec);
    BOOST_TEST(reply.result_int() == 200u);
    BOOST_TEST(reply[http::field::content_length] == "5");
    // No stray body bytes: the next response on the connection parses cleanly.
    BOOST_REQUIRE(!client.send(make_request(http::verb::get, "/hello")));
    auto [ec2, next] = client.read();
    BOOST_REQUIRE(!ec2);
    BOOST_TEST(next.body() == "hello");
}

BOOST_AUTO_TEST_CASE(unknown_path_is_404_and_wrong_method_405) {
    ServerFixture fx;
    Client client(fx.endpoint());
    BOOST_REQUIRE(!client.connect());
    BOOST_REQUIRE(!client.send(make_request(http::verb::get, "/nope?token=secret")));
    auto [ec1, missing] = client.read();
    BOOST_REQUIRE(!ec1);
    BOOST_TEST(missing.result_int() == 404u);
    BOOST_TEST(error_code_of(missing) == "not_found");
    BOOST_REQUIRE(!client.send(make_request(http::verb::delete_, "/hello")));
    auto [ec2, wrong] = client.read();
    BOOST_REQUIRE(!ec2);
    BOOST_TEST(wrong.result_int() == 405u);
    BOOST_TEST(error_code_of(wrong) == "method_not_allowed");
    BOOST_TEST(wrong[http::field::allow] == "GET, HEAD");
}

BOOST_AUTO_TEST_CASE(body_over_route_limit_gets_413) {
    ServerFixture fx;
    Client client(fx.endpoint());
    BOOST_REQUIRE(!client.connect());
    auto req = make_request(http::verb::post, "/upload", std::string(2 * 1024 * 1024, 'x'),
                            "application/octet-stream");
    auto [ec, reply] = client.send_while_reading(std::move(req));
    BOOST_REQUIRE(!ec);
    BOOST_TEST(reply.result_int() == 413u);
    BOOST_TEST(error_code_of(reply) == "payload_too_large");
    BOOST_TEST(!reply.keep_alive());
}

BOOST_AUTO_TEST_CASE(chunked_body_over_limit_gets_413) {
    ServerFixture fx;
    Client client(fx.endpoint());
    BOOST_REQUIRE(!client.connect());
    auto req = make_request(http::verb::post, "/echo", std::string(200 * 1024, 'x'));
    req.chunked(true);
    auto [ec, reply] = client.send_while_reading(std::move(req));
    BOOST_REQUIRE(!ec);
    BOOST_TEST(reply.result_int() == 413u);
    BOOST_TEST(error_code_of(reply) == "payload_too_large");
}

BOOST_AUTO_TEST_CASE(route_limit_allows_more_than_default) {
    ServerFixture fx;
    Client client(fx.endpoint());
    BOOST_REQUIRE(!client.connect());
    BOOST_REQUIRE(!client.send(
        make_request(http::verb::post, "/upload", std::string(512 * 1024, 'x'), "text/plain")));
    auto [ec, reply] = client.read();
    BOOST_REQUIRE(!ec);
    BOOST_TEST(reply.result_int() == 200u);
    BOOST_TEST(boost::json::parse(reply.body()).at("size").as_int64() == 512 * 1024);
}

BOOST_AUTO_TEST_CASE(expect_100_continue) {
    ServerFixture fx;
    Client client(fx.endpoint());
    BOOST_REQUIRE(!client.connect());
    BOOST_REQUIRE(
        !client.send_raw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n"
                         "Expect: 100-continue\r\n\r\n"));
    auto [ec1, interim] = client.read();
    BOOST_REQUIRE(!ec1);
    BOOST_TEST(interim.result_int() == 100u);
    BOOST_REQUIRE(!client.send_raw("[1,2,3]"));
    auto [ec2, reply] = client.read();
    BOOST_REQUIRE(!ec2);
    BOOST_TEST(reply.result_int() == 200u);
    BOOST_TEST(reply.body() == "[1,2,3]");

    Client big(fx.endpoint());
    BOOST_REQUIRE(!big.connect());
    BOOST_REQUIRE(
        !big.send_raw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 999999\r\n"
                      "Expect: 100-continue\r\n\r\n"));
    auto [ec3, refused] = big.read();
    BOOST_REQUIRE(!ec3);
    BOOST_TEST(refused.result_int() == 413u);
}

BOOST_AUTO_TEST_CASE(huge_header_gets_431) {
    ServerFixture fx;
    Client client(fx.endpoint());
    BOOST_REQUIRE(!client.connect());
    auto req = make_request(http::verb::get, "/hello");
    req.set("X-Big", std::string(32 * 1024, 'h'));
    BOOST_REQUIRE(!client.send(std::move(req)));
    auto [ec, reply] = client.read();
    BOOST_REQUIRE(!ec);
    BOOST_TEST(reply.result_int() == 431u);
    BOOST_TEST(error_code_of(reply) == "header_too_large");
}

BOOST_AUTO_TEST_CASE(malformed_request_gets_400) {
    ServerFixture fx;
    Client client(fx.endpoint());
    BOOST_REQUIRE(!client.connect());
    BOOST_REQUIRE(!client.send_raw("this is not http\r\n\r\n"));
    auto [ec, reply] = client.read();
    BOOST_REQUIRE(!ec);
    BOOST_TEST(reply.result_int() == 400u);
    BOOST_TEST(error_code_of(reply) == "bad_request");
    BOOST_TEST(!reply.keep_alive());
}

BOOST_AUTO_TEST_CASE(throwing_handler_gets_500) {
    ServerFixture fx;
    Client client(fx.endpoint());
    BOOST_REQUIRE(!client.connect());
    BOOST_REQUIRE(!client.send(make_request(http::verb::get, "/boom")));
    auto [ec, reply] = client.read();
    BOOST_REQUIRE(!ec);
    BOOST_TEST(reply.result_int() == 500u);
    BOOST_TEST(error_code_of(reply) == "internal_error");
    BOOST_TEST(reply.body().find("exploded") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(idle_connection_times_out) {
    ServerFixture fx;
    Client client(fx.endpoint());
    BOOST_REQUIRE(!client.connect());
    const auto start = std::chrono::steady_clock::now();
    const error_code ec = client.read_until_closed();
    const double elapsed = ms_since(start);
    BOOST_TEST((ec == net::error::eof || ec == net::error::connection_reset), ec.message());
    BOOST_TEST(elapsed >= 900.0);
    BOOST_TEST(elapsed < 3000.0);
    BOOST_TEST(eventually([&] { return fx.server().active_connections() == 0; }));
}

BOOST_AUTO_TEST_CASE(max_connections_closes_extra_connections) {
    ServerOptions options = test_options();
    options.max_connections = 1;
    ServerFixture fx(options);
    Client first(fx.endpoint());
    BOOST_REQUIRE(!first.connect());
    BOOST_REQUIRE(!first.send(make_request(http::verb::get, "/hello")));
    BOOST_REQUIRE(!first.read().first);
    Client second(fx.endpoint());
    BOOST_REQUIRE(!second.connect());
    const auto start = std::chrono::steady_clock::now();
    const error_code ec = second.read_until_closed();
    BOOST_TEST((ec == net::error::eof || ec == net::error::connection_reset), ec.message());
    BOOST_TEST(ms_since(start) < 500.0);
}

BOOST_AUTO_TEST_CASE(graceful_stop_finishes_in_flight_request) {
    ServerFixture fx;
    Client idle(fx.endpoint());
    BOOST_REQUIRE(!idle.connect());
    Client busy(fx.endpoint());
    BOOST_REQUIRE(!busy.connect());
    BOOST_REQUIRE(!busy.send(make_request(http::verb::get, "/slow")));
    BOOST_REQUIRE(fx.slow_started().wait_for(2s) == std::future_status::ready);

    auto drained = fx.stop(2s);
    const auto start = std::chrono::steady_clock::now();
    const error_code idle_ec = idle.read_until_closed();  // closed by stop, not the idle timeout
    BOOST_TEST((idle_ec == net::error::eof || idle_ec == net::error::connection_reset));
    BOOST_TEST(ms_since(start) < 700.0);

    auto [ec, reply] = busy.read();
    BOOST_REQUIRE(!ec);
    BOOST_TEST(reply.result_int() == 200u);
    BOOST_TEST(reply.body() == "slow done");
    BOOST_TEST(!reply.keep_alive());
    BOOST_REQUIRE(drained.wait_for(2s) == std::future_status::ready);
    BOOST_TEST(fx.server().active_connections() == 0u);

    Client late(fx.endpoint());
    BOOST_TEST(late.connect() == net::error::connection_refused);
}

BOOST_AUTO_TEST_CASE(stop_after_grace_force_closes) {
    ServerFixture fx;
    fx.set_slow_delay(10s);
    Client busy(fx.endpoint());
    BOOST_REQUIRE(!busy.connect());
    BOOST_REQUIRE(!busy.send(make_request(http::verb::get, "/slow")));
    BOOST_REQUIRE(fx.slow_started().wait_for(2s) == std::future_status::ready);
    const auto start = std::chrono::steady_clock::now();
    auto drained = fx.stop(100ms);
    BOOST_REQUIRE(drained.wait_for(2s) == std::future_status::ready);
    BOOST_TEST(ms_since(start) < 1000.0);
    BOOST_TEST(busy.read().first);  // no response: the connection was closed
    BOOST_TEST(eventually([&] { return fx.server().active_connections() == 0; }));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace cardsmith::http_server
