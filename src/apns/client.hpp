#pragma once
// The APNs client for one identity (apple-wallet.md §3): a pool of persistent HTTP/2
// connections over TLS with the identity's certificate, sending pushes and reporting each
// outcome. Knows nothing of passes.
//
// Ownership: the caller owns the Client; it must outlive the initiation of each
// async_push (as with any Asio I/O object) and be destroyed before its io_context. Its
// internals live on (shared) until their last async operation ends.
// Thread safety: every member function may be called from any thread, concurrently.
//
// Behaviour:
//  - Connections (options.connections) open on the first push and are kept up: idle ones
//    are PINGed after ping_interval, reconnects back off exponentially with jitter.
//  - Each connection opens as many streams as the server's SETTINGS_MAX_CONCURRENT_STREAMS
//    allows (also after it lowers it); new pushes go to the connection with the most free
//    stream slots; the rest wait in a FIFO queue.
//  - Queue: up to max_queued pushes are "queued", up to max_waiting more are "waiting"
//    (same FIFO; the caller simply completes later); beyond both, async_push completes at
//    once with status 0 "queue full".
//  - Every push completes exactly once, never inline, on the handler's associated
//    executor: 200; APNs' error status with reason and timestamp; or status 0 with a
//    transport reason: "timeout" (request_timeout passed: queued, or sent and then
//    RST_STREAM'ed), "connect failed: ..." (timed out while no connection could be made),
//    "connection lost: ..." / "stream reset by server" / "refused by server" (out of
//    resends), "queue full", "shutdown".
//  - Streams refused (REFUSED_STREAM, above a GOAWAY's last stream id) are resent up to
//    max_refusals times; streams lost with their connection up to max_resends times (APNs
//    may have processed them: at-least-once, a duplicate pass push is harmless).
//  - Deadlines are checked on a tick of request_timeout / 8 (5..250 ms), so a timeout
//    completes up to one tick late.
//  - Per-operation cancellation is not supported.
#include <memory>
#include <utility>

#include "apns/client_options.hpp"
#include "apns/push.hpp"
#include "apns/push_op.hpp"
#include "common/net.hpp"

namespace cardsmith::apns {

namespace detail {
class Pool;
}

class Client {
public:
    // Builds the TLS context; throws crypto::CryptoError for unusable credentials or CA file.
    Client(net::any_io_executor executor, ClientOptions options, Credentials credentials);
    // Aborts: queued and open pushes complete with status 0 "shutdown"; connections close.
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // Sends one push; completes exactly once with its PushResult. Never throws for network
    // errors.
    template <net::completion_token_for<void(PushResult)> Token>
    auto async_push(Push push, Token&& token) {
        return net::async_initiate<Token, void(PushResult)>(Initiation{this}, token,
                                                            std::move(push));
    }

    // Graceful: queued pushes complete with status 0 "shutdown", open streams finish (or
    // time out), then each connection sends GOAWAY and closes. Later pushes complete with
    // "shutdown".
    void shutdown();

    // A consistent-enough snapshot of the counters.
    [[nodiscard]] ClientStats stats() const;

private:
    struct Initiation {
        Client* self;
        template <typename Handler>
        void operator()(Handler&& handler, Push push) const {
            const net::any_io_executor executor =
                net::get_associated_executor(handler, self->executor_);
            self->submit(std::move(push), detail::PushOp::Handler(std::forward<Handler>(handler)),
                         executor);
        }
    };
    void submit(Push push, detail::PushOp::Handler handler, const net::any_io_executor& executor);

    net::any_io_executor executor_;
    std::shared_ptr<detail::Pool> pool_;
};

}  // namespace cardsmith::apns
