#pragma once
// One push on its way: the request, its deadline and retry counts, the response being
// received, and the caller's completion handler. Owned by one place at a time (the pool's
// queue, then a connection's stream table); touched only by its current owner. After
// complete() the handler is gone but the op may live on until nghttp2 closes its stream.
#include <boost/asio/any_completion_handler.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <utility>

#include "apns/push.hpp"
#include "common/net.hpp"

namespace cardsmith::apns::detail {

struct PushOp {
    using Clock = std::chrono::steady_clock;
    using Handler = net::any_completion_handler<void(PushResult)>;

    PushOp(Push p, Clock::time_point due)
        : push(std::move(p)),
          path("/3/device/" + push.device_token),
          content_length(std::to_string(push.payload.size())),
          expiration(push.expiration ? std::to_string(*push.expiration) : std::string()),
          deadline(due) {}

    Push push;
    std::string path;            // :path
    std::string content_length;  // content-length
    std::string expiration;      // apns-expiration, empty when unset
    Clock::time_point deadline;
    unsigned transport_retries = 0;  // resent after the connection or stream was lost
    unsigned refusals = 0;           // resent after REFUSED_STREAM or GOAWAY

    // The current stream.
    std::size_t body_sent = 0;
    unsigned status = 0;
    std::string apns_id;
    std::string body;
    bool response_done = false;

    void reset_stream() {
        body_sent = 0;
        status = 0;
        apns_id.clear();
        body.clear();
        response_done = false;
    }

    // `executor` (the handler's associated executor) is made to track outstanding work, so
    // the caller's io_context keeps running while the push is pending.
    void set_handler(Handler h, const net::any_io_executor& executor) {
        handler_.emplace(std::move(h));
        executor_ = net::prefer(executor, net::execution::outstanding_work.tracked);
    }
    [[nodiscard]] bool completed() const { return !handler_.has_value(); }

    // Resumes the caller on its own executor, never inline.
    void complete(PushResult result) {
        if (!handler_) {
            return;
        }
        auto executor = std::exchange(executor_, net::any_io_executor());
        Handler handler(std::move(*handler_));
        handler_.reset();
        net::post(executor, [h = std::move(handler), r = std::move(result)]() mutable {
            std::move(h)(std::move(r));
        });
    }

private:
    // In an optional because Boost 1.81's any_completion_handler move *assignment* wraps
    // the handler in itself (infinite recursion); only its move constructor is used.
    std::optional<Handler> handler_;
    net::any_io_executor executor_;
};

}  // namespace cardsmith::apns::detail
