#pragma once
// The push dispatcher: drains the durable outbox (storage) into the push channels.
//
// Rows are claimed in batches with a lease, sent concurrently (up to `max_in_flight`),
// and their outcomes written back in batches: delivered → done; token gone → the
// registration is dropped; 429/5xx/transport → retried with exponential backoff and
// jitter; after `max_attempts` → dead; a certificate problem (403) pauses every push of
// that identity, marks it unhealthy for /readyz and defers its rows without spending
// their attempts. A process killed mid-way leaves its claims as 'sending': its next
// start (same instance name) releases them, or their lease runs out and any instance
// sharing the database claims them again, so every push is sent at least once. Coalescing happens
// in the outbox itself (one pending row per device token), so a burst of changes on a card costs
// few pushes.
//
// Threads: all state lives on one strand; send() callbacks may come from any thread.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "apns/push.hpp"
#include "common/net.hpp"
#include "http/metrics.hpp"
#include "storage/database.hpp"

namespace cardsmith::push {

// One push to one device: the APNs request, and for relays the outbox row's kind and route.
struct Delivery {
    apns::Push push;
    std::string kind;   // "apns" or a relay's wallet kind ("walletunion_fcm"...)
    std::string route;  // PassWallet: the registration's push service URL
};

// Where a push goes: APNs (one client per identity) or an Android wallet's relay. Results
// speak APNs' language (apns::classify): relays map theirs onto it (a dead token is 410,
// a refused API key 403, a throttle 429).
class Sender {
public:
    using Completion = std::function<void(apns::PushResult)>;
    virtual ~Sender() = default;
    // Completes exactly once, on any thread.
    virtual void send(Delivery delivery, Completion done) = 0;
};

// The sender for an outbox kind ("apns", "walletunion_fcm"...) and topic (pass type id),
// or nullptr when there is none (no identity signs for the topic, relay not configured).
using SenderFor =
    std::function<std::shared_ptr<Sender>(const std::string& kind, const std::string& topic)>;

struct DispatcherOptions {
    int batch = 1000;                  // rows claimed per round trip
    std::size_t max_in_flight = 8000;  // pushes sent and not yet answered
    std::chrono::milliseconds lease{std::chrono::minutes(2)};
    std::chrono::milliseconds poll{std::chrono::seconds(1)};  // due retries, other instances
    int max_attempts = 12;  // answers from APNs asking to retry (429, 5xx)
    // Pushes that never reached APNs (unreachable, timeouts) are retried until this old:
    // an outage costs no attempts.
    std::chrono::milliseconds max_age{std::chrono::hours(24)};
    std::chrono::milliseconds retry_base{std::chrono::seconds(1)};
    std::chrono::milliseconds retry_max{std::chrono::minutes(10)};
    std::chrono::milliseconds identity_pause{std::chrono::minutes(5)};
    std::chrono::milliseconds settle_delay{std::chrono::milliseconds(10)};  // batch writes
    std::size_t settle_batch = 1000;
    // This instance's name on its outbox claims (server.instance): at start it takes back at
    // once the claims it left when it stopped; other instances' claims wait for their lease.
    std::string instance = "cardsmith";
};

struct IdentityHealth {
    std::string topic;
    bool healthy = true;
    std::string reason;  // APNs reason of the last certificate problem
};

class Dispatcher : public std::enable_shared_from_this<Dispatcher> {
public:
    Dispatcher(net::any_io_executor executor, storage::Database& db, http_server::Metrics& metrics,
               SenderFor senders, DispatcherOptions options);
    ~Dispatcher();

    void start();
    // Stops claiming; answers still arriving are written back. `done` runs (on the
    // dispatcher's strand) when nothing is in flight or after `grace`.
    void stop(std::chrono::milliseconds grace, std::function<void()> done);
    // Something was queued: claim now instead of at the next poll. Thread-safe, cheap.
    void wake();

    // The topic's identity changed (renewed certificate): its next push asks SenderFor
    // again and its health starts afresh. Thread-safe.
    void forget(const std::string& topic);

    [[nodiscard]] std::vector<IdentityHealth> health() const;  // thread-safe
    [[nodiscard]] bool healthy() const;

    // The delay before retry number `attempt` (1-based): doubling from retry_base up to
    // retry_max, then a random part of it (full jitter above half the delay).
    [[nodiscard]] static std::chrono::milliseconds backoff(const DispatcherOptions& o, int attempt);

private:
    struct Route {
        std::shared_ptr<Sender> sender;
        bool healthy = true;
        std::string reason;
        std::int64_t paused_until_ms = 0;
        bool probing = false;  // after a pause: one push tests the identity, the rest wait
    };

    net::awaitable<void> run();
    void dispatch(storage::OutboxItem item, std::int64_t now_ms);
    void on_result(const storage::OutboxItem& item, std::int64_t sent_ms,
                   const apns::PushResult& result);
    // Queues what became of a claimed row for the next batch write; drop_token: the
    // row's token is dropped unless it registered again after `unless_after_ms`.
    void settle(const storage::OutboxItem& item, storage::OutboxSettlement::Kind kind,
                std::int64_t not_before_ms, std::string error, std::int64_t unless_after_ms = 0);
    void flush();
    net::awaitable<void> write(std::shared_ptr<std::vector<storage::OutboxSettlement>> batch);
    Route* route(const storage::OutboxItem& item);
    void set_health(const std::string& topic, bool healthy, const std::string& reason);
    void maybe_finish_stop();

    net::strand<net::any_io_executor> strand_;
    storage::Database& db_;
    http_server::Metrics& metrics_;
    SenderFor senders_;
    DispatcherOptions options_;

    net::steady_timer wake_timer_;
    net::steady_timer settle_timer_;
    net::steady_timer stop_timer_;
    bool woken_ = false;
    bool stopping_ = false;
    bool running_ = false;
    bool settle_scheduled_ = false;
    std::size_t in_flight_ = 0;
    std::size_t flushing_ = 0;
    std::vector<storage::OutboxSettlement> pending_;
    std::function<void()> on_stopped_;
    std::int64_t last_counts_ms_ = 0;

    std::map<std::string, Route, std::less<>> routes_;
    mutable std::mutex health_mutex_;
    std::vector<IdentityHealth> health_;  // copy of routes_' state for other threads
};

}  // namespace cardsmith::push
