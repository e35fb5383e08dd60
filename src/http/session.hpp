#pragma once
// Private to the http module: one accepted connection.
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "common/net.hpp"
#include "http/router.hpp"
#include "http/server_state.hpp"
#include "http/types.hpp"

namespace cardsmith::http_server::detail {

// What ServerState lists for stop(): a session of either stream type.
class SessionBase {
public:
    virtual ~SessionBase() = default;
    // Spawns the session coroutine; its end is reported to ServerState::session_ended.
    virtual void start() = 0;
    // Graceful stop: an idle connection closes now; a busy one answers with Connection: close.
    virtual void post_stop() = 0;
    // Grace expired: close the socket and cancel what the handler awaits.
    virtual void post_force_close() = 0;
};

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// One connection's HTTP/1.1 loop: wait for a request (idle deadline), read its header (read
// deadline, header limit), route it, read the body under the route's limit, run the handler,
// write the response (write deadline), log one access line and record metrics; repeat while
// keep-alive holds. Over TLS (`Stream` = TlsStream) the handshake comes first, under the
// read deadline, and the connection ends with a close_notify; everything else is the same
// code for both streams (instantiated for PlainStream and TlsStream in session.cpp). Owned
// by its coroutine (the spawn's completion handler holds the shared_ptr) and listed weakly
// in ServerState for stop(). Runs only on its own strand; post_stop()/post_force_close() may
// be called from any thread and post onto that strand.
template <typename Stream>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
public:
    static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

    // `tls`: the context for a TlsStream (kept alive by the session), null for PlainStream.
    Session(std::shared_ptr<ServerState> state, tcp::socket socket, std::uint64_t id,
            std::shared_ptr<net::ssl::context> tls);

    void start() override;
    void post_stop() override;
    void post_force_close() override;

private:
    // What the access log and the metrics record about one request.
    struct Exchange {
        std::chrono::steady_clock::time_point start;
        std::string id;
        std::string method = "-";  // as sent, for the log
        http::verb verb = http::verb::unknown;
        std::string route = "unmatched";
        std::string path = "-";
        unsigned status = 0;  // 0: no response was sent
        std::size_t bytes = 0;
    };
    using Parser = http::request_parser<http::string_body>;

    net::awaitable<void> run();
    // TLS only: the handshake under the read deadline; false (and a metric) on failure.
    [[nodiscard]] net::awaitable<bool> handshake();
    [[nodiscard]] net::awaitable<bool> wait_for_request();
    [[nodiscard]] net::awaitable<bool> serve_one();
    [[nodiscard]] net::awaitable<bool> read_body(Exchange& ex, Parser& parser,
                                                 const Router::Match& match);
    [[nodiscard]] net::awaitable<bool> reject_read(Exchange& ex, error_code ec, unsigned version);
    [[nodiscard]] net::awaitable<Response> dispatch(Exchange& ex, Request& req,
                                                    Router::Match& match);
    [[nodiscard]] net::awaitable<bool> send(Exchange& ex, Response res, bool keep_alive, bool head);
    void record(const Exchange& ex) const;
    // After an error answer: stop sending, then read and discard what the client still
    // sends (bounded in time and bytes), so its unread request body does not make the
    // kernel reset the connection before the client has read our answer.
    [[nodiscard]] net::awaitable<void> linger();
    // TLS: sends close_notify (briefly waiting for the peer's) before closing the socket.
    [[nodiscard]] net::awaitable<void> close();
    [[nodiscard]] beast::tcp_stream& tcp() { return beast::get_lowest_layer(stream_); }

    std::shared_ptr<ServerState> state_;
    net::any_io_executor executor_;           // the connection's strand
    std::shared_ptr<net::ssl::context> tls_;  // outlives stream_, which refers to it
    Stream stream_;
    beast::flat_buffer buffer_;
    net::cancellation_signal cancel_;
    std::uint64_t id_;
    tcp::endpoint remote_;
    bool idle_ = false;            // waiting for the next request; stop() may close it at once
    bool running_ = false;         // the coroutine has not finished; cancel_ may be emitted
    bool handshake_done_ = false;  // TLS: the connection is secured (close sends close_notify)
};

}  // namespace cardsmith::http_server::detail
