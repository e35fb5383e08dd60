#pragma once
// Private to the http module: the state a Server shares with its listener and sessions.
#include <atomic>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "common/net.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"
#include "http/server.hpp"

namespace cardsmith::http_server::detail {

class SessionBase;

// Shared (shared_ptr) by the Server, the listener coroutine and every session, so the Server
// object may go away while coroutines wind down. The router and metrics are owned by `app`
// and must outlive the io_context's run. Thread safety: the acceptor, the grace timer and
// the drain fields run only on `strand`; `sessions` is guarded by `mutex`; the counters and
// `stopping` are atomics readable anywhere.
struct ServerState : std::enable_shared_from_this<ServerState> {
    ServerState(net::io_context& io, ServerOptions opts, const Router& r, Metrics& m)
        : ioc(io),
          options(opts),
          router(r),
          metrics(m),
          strand(net::make_strand(io)),
          acceptor(strand),
          grace_timer(strand),
          tls(opts.tls) {}

    // Any thread: a session is over (its coroutine has finished).
    void session_ended(std::uint64_t id);
    // Strand: the body of Server::stop().
    void begin_stop(std::chrono::milliseconds grace, std::function<void()> on_drained);
    // Strand: runs the drain callbacks once, when no session is left or the grace expired.
    void finish_drain();
    // Sessions currently alive (any thread).
    [[nodiscard]] std::vector<std::shared_ptr<SessionBase>> live_sessions();

    net::io_context& ioc;
    const ServerOptions options;
    const Router& router;
    Metrics& metrics;
    net::strand<net::io_context::executor_type> strand;
    tcp::acceptor acceptor;
    net::steady_timer grace_timer;
    tcp::endpoint local_endpoint;  // written by start() before the listener runs

    std::atomic<bool> stopping{false};   // set by stop(); responses then carry close
    std::atomic<std::size_t> active{0};  // sessions alive

    std::mutex mutex;
    std::uint64_t next_session_id = 0;                                       // under mutex
    std::unordered_map<std::uint64_t, std::weak_ptr<SessionBase>> sessions;  // under mutex
    // Under mutex: the TLS context new connections get (options.tls, then what set_tls()
    // gave); null: plain HTTP. Sessions keep the one they started with.
    std::shared_ptr<net::ssl::context> tls;

    bool stop_started = false;                           // strand
    bool drained = false;                                // strand
    std::vector<std::function<void()>> drain_callbacks;  // strand
};

}  // namespace cardsmith::http_server::detail
