#pragma once
// A Beast HTTP client connection for the server tests, on its own io_context. Every
// operation runs the io_context for at most kClientDeadline, so no test waits unbounded.
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <string>
#include <thread>
#include <utility>

#include "common/net.hpp"

namespace cardsmith::http_server::test {

using Reply = http::response<http::string_body>;
using ClientRequest = http::request<http::string_body>;
constexpr std::chrono::seconds kClientDeadline{5};
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

inline ClientRequest make_request(http::verb method, std::string target, std::string body = {},
                                  std::string content_type = "application/json") {
    ClientRequest req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    if (!body.empty()) {
        req.set(http::field::content_type, content_type);
        req.body() = std::move(body);
    }
    req.prepare_payload();
    return req;
}

inline double ms_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
        .count();
}

// Polls `cond` for up to two seconds.
template <typename F>
bool eventually(F cond) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (!cond()) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

class Client {
public:
    explicit Client(tcp::endpoint server) : server_(server) {}

    [[nodiscard]] error_code connect() {
        return run<error_code>([this]() -> net::awaitable<error_code> {
            auto [ec] = co_await stream_.async_connect(server_, use_tuple);
            co_return ec;
        });
    }
    [[nodiscard]] error_code send(ClientRequest req) {
        return run<error_code>([this, &req]() -> net::awaitable<error_code> {
            auto [ec, n] = co_await http::async_write(stream_, req, use_tuple);
            co_return ec;
        });
    }
    [[nodiscard]] error_code send_raw(const std::string& data) {
        return run<error_code>([this, &data]() -> net::awaitable<error_code> {
            auto [ec, n] = co_await net::async_write(stream_, net::buffer(data), use_tuple);
            co_return ec;
        });
    }
    // `head`: the response to a HEAD request (a Content-Length but no body).
    [[nodiscard]] std::pair<error_code, Reply> read(bool head = false) {
        return run<std::pair<error_code, Reply>>([this, head]() { return async_read(head); });
    }
    // Writes while reading, as a client must when the server may answer before the body
    // is sent; returns the read's outcome.
    [[nodiscard]] std::pair<error_code, Reply> send_while_reading(ClientRequest req) {
        using namespace net::experimental::awaitable_operators;
        return run<std::pair<error_code, Reply>>(
            [this, &req]() -> net::awaitable<std::pair<error_code, Reply>> {
                auto write = [this, &req]() -> net::awaitable<error_code> {
                    auto [ec, n] = co_await http::async_write(stream_, req, use_tuple);
                    co_return ec;
                };
                auto [write_ec, reply] = co_await (write() && async_read(false));
                (void)write_ec;  // the server may close before the body is written
                co_return reply;
            });
    }
    // Reads until the server closes; returns the error that ended the reads (eof, reset).
    [[nodiscard]] error_code read_until_closed() {
        return run<error_code>([this]() -> net::awaitable<error_code> {
            for (;;) {
                auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(4096), use_tuple);
                if (ec) {
                    co_return ec;
                }
                buffer_.commit(n);
            }
        });
    }

private:
    net::awaitable<std::pair<error_code, Reply>> async_read(bool head) {
        http::response_parser<http::string_body> parser;
        parser.skip(head);
        auto [ec, n] = co_await http::async_read(stream_, buffer_, parser, use_tuple);
        co_return std::pair<error_code, Reply>{ec, parser.release()};
    }

    template <typename T>
    T run(const std::function<net::awaitable<T>()>& op) {
        ioc_.restart();
        stream_.expires_after(kClientDeadline);
        auto result = net::co_spawn(ioc_, op(), net::use_future);
        ioc_.run_for(kClientDeadline + std::chrono::seconds(1));
        BOOST_REQUIRE(result.wait_for(std::chrono::seconds(0)) == std::future_status::ready);
        return result.get();
    }

    tcp::endpoint server_;
    net::io_context ioc_;
    beast::tcp_stream stream_{ioc_};
    beast::flat_buffer buffer_;
};

}  // namespace cardsmith::http_server::test
