#pragma once
// A closed-loop HTTP/1.1 load for the benchmarks: `clients` keep-alive connections, client
// c talking to endpoints[c % endpoints.size()] (a load balancer's round robin, connections
// kept), each sending its next request as soon as the answer came, until `count` requests
// were started or `seconds` passed. Requests are numbered in the order they are made (0,
// 1, 2...): `make(i)` builds request i, `check(i, answer)` looks at its answer. Runs on the
// caller's io_context (one thread: everything here is touched by that thread only, except
// `stop`, an atomic another thread may set).
//
// Header-only. GCC 12: no temporaries with non-trivial members inside co_await
// expressions, no lambda coroutines.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/net.hpp"

namespace cardsmith::bench {

using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

// One keep-alive connection; reconnects (and sends again, once) when the server closed it
// before answering. A reconnect is counted: a non-idempotent request may then have been
// applied twice, which the callers' checks would see.
//
// `buffer_reserve`: Beast reads max(512, free capacity) bytes at a time, so a connection
// fetching large answers (a 270 KB pass) wants room up front, or it takes ~500 recvmsg
// calls per answer and the load generator becomes the bottleneck.
class HttpConnection {
public:
    HttpConnection(net::any_io_executor ex, tcp::endpoint ep,
                   std::size_t buffer_reserve = 16 * 1024)
        : stream_(std::move(ex)), ep_(ep) {
        buffer_.reserve(buffer_reserve);
    }

    net::awaitable<error_code> async_exchange(HttpRequest& req, HttpResponse& res) {
        error_code ec;
        for (int attempt = 0; attempt < 2; ++attempt) {
            ec = {};
            if (!connected_) {
                stream_.expires_after(std::chrono::seconds(10));
                co_await stream_.async_connect(ep_, net::redirect_error(net::use_awaitable, ec));
                connected_ = !ec;
                if (!ec) {
                    error_code ignored;
                    stream_.socket().set_option(tcp::no_delay(true), ignored);
                }
            }
            if (!ec) {
                stream_.expires_after(std::chrono::seconds(60));
                co_await http::async_write(stream_, req,
                                           net::redirect_error(net::use_awaitable, ec));
            }
            if (!ec) {
                res = {};
                co_await http::async_read(stream_, buffer_, res,
                                          net::redirect_error(net::use_awaitable, ec));
            }
            if (!ec) {
                if (!res.keep_alive()) {
                    close();
                }
                co_return ec;
            }
            close();
            ++reconnects;
        }
        co_return ec;
    }

    std::size_t reconnects = 0;

private:
    void close() {
        error_code ignored;
        stream_.socket().close(ignored);
        buffer_.clear();
        connected_ = false;
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    tcp::endpoint ep_;
    bool connected_ = false;
};

inline HttpRequest make_http_request(http::verb verb, const std::string& target,
                                     const std::string& authorization,
                                     const std::string& body = {}) {
    HttpRequest req{verb, target, 11};
    req.set(http::field::host, "127.0.0.1");
    if (!authorization.empty()) {
        req.set(http::field::authorization, authorization);
    }
    if (!body.empty()) {
        req.set(http::field::content_type, "application/json");
        req.body() = body;
    }
    req.prepare_payload();
    return req;
}

struct HttpLoad {
    std::vector<tcp::endpoint> endpoints;
    unsigned clients = 1;
    std::size_t count = std::numeric_limits<std::size_t>::max();
    double seconds = 0;  // 0: until `count`
    std::function<HttpRequest(std::size_t i, unsigned instance)> make;
    // False: a failure (the first one is kept). Not called on a transport error.
    std::function<bool(std::size_t i, const HttpResponse& answer)> check;
    // Called instead of check when no answer came (connection failed twice).
    std::function<void(std::size_t i)> lost;
    // Set from another thread: no new request starts (those in flight finish).
    const std::atomic<bool>* stop = nullptr;

    // Filled by the run:
    std::size_t started = 0;
    std::size_t answered = 0;
    std::size_t failures = 0;
    std::size_t transport_errors = 0;
    std::size_t reconnects = 0;
    std::string first_failure;
    std::vector<double> latency_ms;        // of every answered request
    std::vector<std::size_t> by_instance;  // answered requests per endpoint
    double elapsed = 0;
};

namespace detail {

inline net::awaitable<void> load_client(HttpLoad& load, unsigned client,
                                        std::chrono::steady_clock::time_point deadline) {
    using Clock = std::chrono::steady_clock;
    const auto ex = co_await net::this_coro::executor;
    const unsigned instance = client % static_cast<unsigned>(load.endpoints.size());
    HttpConnection conn(ex, load.endpoints[instance]);
    net::steady_timer pause(ex);
    HttpResponse res;
    while (load.started < load.count && Clock::now() < deadline &&
           (load.stop == nullptr || !load.stop->load())) {
        const std::size_t i = load.started++;
        HttpRequest req = load.make(i, instance);
        const auto sent = Clock::now();
        const error_code ec = co_await conn.async_exchange(req, res);
        if (ec) {
            ++load.transport_errors;
            if (load.first_failure.empty()) {
                load.first_failure = "request " + std::to_string(i) + ": " + ec.message();
            }
            if (load.lost) {
                load.lost(i);
            }
            // The instance is down (restarting): try again a little later, not in a loop.
            pause.expires_after(std::chrono::milliseconds(50));
            error_code ignored;
            co_await pause.async_wait(net::redirect_error(net::use_awaitable, ignored));
            continue;
        }
        load.latency_ms.push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
        ++load.answered;
        ++load.by_instance[instance];
        if (load.check && !load.check(i, res)) {
            if (load.failures++ == 0 && load.first_failure.empty()) {
                load.first_failure =
                    "request " + std::to_string(i) + " " + std::string(req.target()) + ": " +
                    std::to_string(res.result_int()) + " " + res.body().substr(0, 200);
            }
        }
    }
    load.reconnects += conn.reconnects;
}

}  // namespace detail

// Runs `load` to its end on `ioc` (from this thread).
inline void run_http_load(net::io_context& ioc, HttpLoad& load) {
    using Clock = std::chrono::steady_clock;
    if (load.endpoints.empty() || load.clients == 0) {
        throw std::invalid_argument("http load: no endpoints or clients");
    }
    load.by_instance.assign(load.endpoints.size(), 0);
    load.latency_ms.reserve(load.seconds > 0 ? static_cast<std::size_t>(load.seconds * 20000)
                                             : std::min<std::size_t>(load.count, 1'000'000));
    const auto start = Clock::now();
    const auto deadline = load.seconds > 0
                              ? start + std::chrono::duration_cast<Clock::duration>(
                                            std::chrono::duration<double>(load.seconds))
                              : Clock::time_point::max();
    for (unsigned c = 0; c < load.clients; ++c) {
        net::co_spawn(ioc, detail::load_client(load, c, deadline), [](std::exception_ptr e) {
            if (e) {
                std::rethrow_exception(e);
            }
        });
    }
    ioc.restart();
    ioc.run();
    load.elapsed = std::chrono::duration<double>(Clock::now() - start).count();
}

// p in [0, 1] (nearest rank); 0 for none.
inline double percentile(std::vector<double> v, double p) {
    if (v.empty()) {
        return 0;
    }
    std::sort(v.begin(), v.end());
    const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size())));
    return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

}  // namespace cardsmith::bench
