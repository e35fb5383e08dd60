#pragma once
// One TCP + TLS + HTTP/2 connection to APNs, from the (back-off) delay and the connect
// through its streams to the close (apple-wallet.md §3.2-§3.4). A dead connection is
// never revived: the Pool starts a fresh one in its slot.
//
// Ownership: a shared_ptr held by the Pool's table while it is listed, and by each of its
// pending async operations (shared_from_this), so it outlives every handler. It owns the
// PushOps of its open streams. Thread safety: everything runs on its strand; start(),
// wake() and close() may be called from any thread and only post onto the strand. The
// nghttp2 session is touched only there, and never sent from inside its own callbacks:
// callbacks record what happened, the pump (after mem_recv) acts on it.
//
// I/O: one read and at most one write outstanding. After each read the bytes are fed to
// nghttp2_session_mem_recv, new pushes are pulled from the Pool up to the server's
// SETTINGS_MAX_CONCURRENT_STREAMS, and everything nghttp2_session_mem_send yields goes
// out in one async_write.
#include <array>
#include <boost/asio/ssl/stream.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "apns/nghttp2_ptr.hpp"
#include "apns/pool.hpp"
#include "common/net.hpp"

namespace cardsmith::apns::detail {

class Connection : public std::enable_shared_from_this<Connection> {
public:
    using Clock = PushOp::Clock;

    Connection(std::shared_ptr<Pool> pool, unsigned slot, std::uint64_t id);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // The nghttp2 callbacks (shared by every connection of a Pool).
    [[nodiscard]] static H2CallbacksPtr make_callbacks();

    void start(Clock::duration delay);  // connect after `delay`
    void wake();                        // the Pool has pushes for us
    void close(bool abort);             // abort = false: finish open streams first

    [[nodiscard]] unsigned slot() const { return slot_; }
    [[nodiscard]] std::uint64_t id() const { return id_; }

private:
    enum class State { idle, connecting, awaiting_settings, up, closed };
    struct Callbacks;  // the nghttp2 callbacks, in connection_h2.cpp
    friend struct Callbacks;

    // Connect phase (connection.cpp).
    void do_resolve();
    void do_connect(const tcp::resolver::results_type& endpoints);
    void do_handshake();
    [[nodiscard]] bool start_session();
    void arm_connect_timer();
    // Pump.
    void do_read();
    void on_read(error_code ec, std::size_t n);
    void after_input();
    void pump();
    void flush();
    void on_write(error_code ec);
    void arm_tick();
    void on_tick();
    void become_up();
    void start_draining();
    void maybe_finish_draining();
    void teardown(std::string reason);
    // Streams (connection_h2.cpp).
    [[nodiscard]] bool submit(OpPtr& op);
    void expire_streams(Clock::time_point now);
    void stream_closed(std::int32_t stream_id, std::uint32_t error_code);
    void hand_back_resends();
    [[nodiscard]] std::size_t free_slots() const;

    const std::shared_ptr<Pool> pool_;
    const ClientOptions& options_;  // the Pool's, which we keep alive
    const unsigned slot_;
    const std::uint64_t id_;
    const std::string authority_;
    const Clock::duration tick_;
    net::strand<net::any_io_executor> strand_;
    tcp::resolver resolver_;
    net::ssl::stream<tcp::socket> stream_;
    net::steady_timer timer_;
    std::uint64_t timer_generation_ = 0;  // a stale timer wait sees a different number

    State state_ = State::idle;
    H2SessionPtr session_;
    bool callbacks_muted_ = false;  // while the session is being deleted
    bool writing_ = false;
    bool reading_ = false;
    bool draining_ = false;         // no new streams; close when the last one ends
    bool goaway_received_ = false;  // set by the callback, acted on by after_input()
    bool goaway_sent_ = false;
    bool settings_received_ = false;
    bool ping_outstanding_ = false;
    bool connect_timed_out_ = false;
    std::string goaway_note_;  // error code and debug data, for the log and reasons
    Clock::time_point up_at_{};
    Clock::time_point last_read_{};
    Clock::time_point ping_sent_at_{};

    std::unordered_map<std::int32_t, OpPtr> streams_;
    OpList batch_;    // pulled from the Pool, reused
    OpList refused_;  // collected by callbacks during mem_recv
    OpList reset_;
    std::array<std::uint8_t, 16 * 1024> read_buffer_{};
    std::vector<std::uint8_t> write_buffer_;
};

}  // namespace cardsmith::apns::detail
