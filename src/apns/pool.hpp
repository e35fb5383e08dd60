#pragma once
// The shared state behind one apns::Client (apple-wallet.md §3.4): the queue of pushes
// waiting for a stream, the connections (one per slot, plus those draining after a
// GOAWAY), reconnect back-off per slot, and the counters.
//
// Owned by the Client and by every Connection and timer wait (shared_from_this); the
// Client's destructor shuts it down and drops the connections, so no cycle outlives it.
// Thread safety: every public member function may be called from any thread; the queue,
// the connection table and the counters are guarded by one mutex, which is a leaf lock
// (nothing is called under it except net::post). The sweep timer runs on the pool's own
// strand. Connections call the "connection side" functions from their own strands.
#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "apns/client_options.hpp"
#include "apns/nghttp2_ptr.hpp"
#include "apns/push_op.hpp"
#include "common/net.hpp"

namespace cardsmith::apns::detail {

class Connection;

// How often queued and open pushes are checked against their deadlines (and idle
// connections for PING): an eighth of request_timeout, within [5 ms, 250 ms].
[[nodiscard]] inline std::chrono::steady_clock::duration tick_for(const ClientOptions& options) {
    using std::chrono::milliseconds;
    return std::clamp<std::chrono::steady_clock::duration>(options.request_timeout / 8,
                                                           milliseconds(5), milliseconds(250));
}

using OpPtr = std::unique_ptr<PushOp>;
using OpList = std::vector<OpPtr>;

class Pool : public std::enable_shared_from_this<Pool> {
public:
    using Clock = PushOp::Clock;

    // Builds the TLS context and the nghttp2 callbacks; throws crypto::CryptoError.
    Pool(net::any_io_executor executor, ClientOptions options, Credentials credentials);
    ~Pool();
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    [[nodiscard]] const ClientOptions& options() const { return options_; }
    [[nodiscard]] const net::any_io_executor& executor() const { return executor_; }
    [[nodiscard]] net::ssl::context& tls() { return tls_; }
    [[nodiscard]] const nghttp2_session_callbacks* h2_callbacks() const { return callbacks_.get(); }
    [[nodiscard]] const nghttp2_option* h2_option() const { return h2_option_.get(); }

    // --- caller side (any thread) ---
    void submit(Push push, PushOp::Handler handler, const net::any_io_executor& handler_executor);
    // Queued pushes complete with status 0 "shutdown"; connections finish their open
    // streams (abort = false) or close at once, failing them with "shutdown" (abort = true).
    void shutdown(bool abort);
    [[nodiscard]] ClientStats stats() const;

    // Records the outcome in the counters and completes the op (posts its handler).
    void finish(PushOp& op, PushResult result);
    void finish_timeout(PushOp& op, std::string reason = "timeout");

    // --- connection side (each connection's strand) ---
    // Moves up to `free` queued pushes into `out` (expired ones complete as timeouts) and
    // records the connection's free slots and open streams. Clears its pending wake-up.
    void take(const Connection& c, std::size_t free, std::size_t in_flight, OpList& out);
    void on_up(const Connection& c);
    // GOAWAY received: start its replacement (at once, unless it lived under a second).
    void on_draining(const Connection& c, Clock::duration lifetime);
    void on_closed(const Connection& c, bool was_up, Clock::duration lifetime,
                   const std::string& reason, OpList lost);
    enum class Resend {
        refused,  // REFUSED_STREAM / above GOAWAY's last stream id: surely not processed
        lost,     // connection or stream lost mid-request: maybe processed
    };
    // Puts the ops back at the front of the queue, or completes those out of retries or
    // time with status 0 (`reason` for the lost ones).
    void resend(OpList& ops, Resend why, std::string_view reason);

private:
    struct Entry {
        std::shared_ptr<Connection> conn;
        unsigned slot = 0;
        bool up = false;
        bool draining = false;
        bool wake_pending = false;
        std::size_t free = 0;
        std::size_t in_flight = 0;
    };
    struct Slot {
        unsigned failures = 0;  // consecutive failed attempts, for the back-off
    };

    Entry* find_locked(const Connection& c);
    void start_locked();
    void connect_slot_locked(unsigned slot, Clock::duration delay);
    void wake_locked();
    [[nodiscard]] Clock::duration backoff_locked(unsigned failures) const;
    [[nodiscard]] std::string expiry_reason_locked() const;
    void arm_sweep();
    void sweep();

    const ClientOptions options_;
    const net::any_io_executor executor_;
    net::ssl::context tls_;
    H2CallbacksPtr callbacks_;
    H2OptionPtr h2_option_;
    net::strand<net::any_io_executor> strand_;  // the sweep timer's
    net::steady_timer sweep_timer_;
    const Clock::duration tick_;

    mutable std::mutex mutex_;
    bool started_ = false;
    bool shut_ = false;
    std::deque<OpPtr> queue_;
    std::vector<Entry> entries_;
    std::vector<Slot> slots_;
    std::vector<std::weak_ptr<Connection>> closing_;  // at shutdown, for a later abort
    std::uint64_t next_connection_id_ = 1;
    std::string last_connect_error_;
    unsigned connections_up_ = 0;
    std::uint64_t connects_ = 0;
    std::uint64_t connect_failures_ = 0;
    std::uint64_t sent_ = 0;
    std::uint64_t retried_ = 0;
    std::uint64_t refused_ = 0;

    // Updated without the mutex by whoever completes an op.
    std::atomic<std::uint64_t> timed_out_{0};
    std::array<std::atomic<std::uint64_t>, 600> by_status_{};
};

}  // namespace cardsmith::apns::detail
