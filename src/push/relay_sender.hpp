#pragma once
// The dispatcher's Sender for an Android wallet app's push relay (android-wallets.md §1-4,
// §8.4-8.6): Wallet Union (FCM and HMS builds), Wallet Passes, Pass2U and PassWallet.
// Pushes for one relay, pass type id, route and API key are gathered for a few milliseconds
// into requests of at most `batch` tokens; the relay's answer is mapped back per token onto
// APNs' vocabulary (apns::classify): delivered 200; expired or unknown tokens 410 (the
// registration is dropped); failures 5xx/transport (retried with backoff); a refused or
// missing API key 403 (the route pauses); anything else 400 (dead, logged). A 413 splits
// the request in half and lowers the batch size for the route.
//
// Keys (§8.6): vendors issue a key per issuer, so a request carries the key of the
// identity whose pass type id it pushes, else the configured one (RelayKeys). Keys are
// never logged.
//
// Rate limits (§8.4): a 429 pauses the *lane* (the relay endpoint and key; shared by every
// sender through RelayThrottle, so other relays and keys go on) for its Retry-After
// (delta-seconds or an HTTP-date, capped at max_pause; without one, rate_limit_backoff
// doubling with each 429 in a row). An answer saying X-Rate-Limit-Remaining: 0 pauses the
// lane for slow_down (or its Retry-After) before the limit is hit. Pushes for a paused
// lane make no request: they wait here, claimed but spending no attempt, and go when the
// lane opens. A pause longer than max_hold (keep it under the outbox lease), or more
// waiting pushes than the throttle's budget (they count as in flight for the dispatcher),
// completes the surplus as "not sent" (status 0): the dispatcher retries those with
// backoff and never gives them up for their attempts.
//
// Thread-safe: send() may be called from any thread; state lives on a strand.
#include <atomic>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/net.hpp"
#include "push/dispatcher.hpp"

namespace cardsmith::push {

// The relays that take an API key, by the name config and the API use for them.
inline constexpr std::string_view kRelayKeyNames[] = {"walletunion", "walletpasses", "pass2u"};

// The API key family of a wallet kind: "walletunion" for both Wallet Union builds,
// "walletpasses", "pass2u"; "" for kinds without a key (passwallet).
[[nodiscard]] std::string_view relay_of(std::string_view kind);

// Relay API keys by pass type id: the keys merchants' identities hold for themselves,
// over the configured defaults. Owned by `app` (filled at start and whenever an identity's
// keys are saved), shared with every RelaySender. Thread-safe.
class RelayKeys {
public:
    using Keys = std::map<std::string, std::string, std::less<>>;  // relay → key

    void set_default(std::string_view relay, std::string key);
    // Replaces the own keys of the identity signing `topic` (empty: it has none).
    void set(const std::string& topic, Keys keys);
    // `relay`'s key for pushes of `topic`: the identity's own, else the default ("" when
    // there is neither).
    [[nodiscard]] std::string key(std::string_view relay, std::string_view topic) const;
    // Moves on every change: senders keep a looked-up key until it does.
    [[nodiscard]] std::uint64_t generation() const { return generation_.load(); }

    // Reads the stored form, a JSON object of relay name → key; nullopt if it is not one.
    [[nodiscard]] static std::optional<Keys> parse(std::string_view json);

private:
    mutable std::shared_mutex mutex_;
    Keys defaults_;
    std::map<std::string, Keys, std::less<>> by_topic_;
    std::atomic<std::uint64_t> generation_{1};
};

// Rate-limit pauses of relay lanes, and the budget of pushes senders may keep waiting for
// them. Shared by every RelaySender (a 429 on one pass type id holds back the others using
// the same endpoint and key). Thread-safe.
class RelayThrottle {
public:
    using Clock = std::chrono::steady_clock;
    explicit RelayThrottle(std::size_t max_held = 2000) : max_held_(max_held) {}

    // When `lane` opens again (a past time point: it is open).
    [[nodiscard]] Clock::time_point paused_until(const std::string& lane) const;
    // Pauses `lane` until `until` (a later pause already set stands).
    void pause(const std::string& lane, Clock::time_point until);
    // A 429 on `lane`: how many in a row, this one included.
    int strike(const std::string& lane);
    // Any other answer on `lane`.
    void clear_strikes(const std::string& lane);

    // Reserves room for up to `n` waiting pushes; returns how many were granted.
    [[nodiscard]] std::size_t reserve(std::size_t n);
    void release(std::size_t n);

private:
    struct Lane {
        Clock::time_point until{};
        int strikes = 0;
    };
    mutable std::mutex mutex_;
    std::map<std::string, Lane, std::less<>> lanes_;  // few: relays × keys, PassWallet hosts
    std::size_t max_held_;
    std::size_t held_ = 0;
};

struct RelayOptions {
    std::string kind;  // walletunion_fcm, walletunion_hms, walletpasses, pass2u, passwallet
    // Wallet Union and Wallet Passes: the endpoint; Pass2U: the base before
    // "/{passTypeIdentifier}/push"; PassWallet: unused (each registration names its own).
    std::string url;
    std::string api_key;                      // without `keys`; never logged
    std::shared_ptr<const RelayKeys> keys;    // when set: the key comes from here
    std::shared_ptr<RelayThrottle> throttle;  // shared pauses (null: the sender's own)
    std::size_t batch = 100;
    std::chrono::milliseconds linger{5};  // how long a lone push waits for company
    std::chrono::milliseconds timeout{10'000};
    std::chrono::milliseconds max_pause{std::chrono::hours(1)};             // cap on Retry-After
    std::chrono::milliseconds rate_limit_backoff{std::chrono::seconds(5)};  // 429 without one
    std::chrono::milliseconds slow_down{std::chrono::seconds(1)};  // X-Rate-Limit-Remaining: 0
    std::chrono::milliseconds max_hold{std::chrono::minutes(1)};   // longer: not sent (status 0)
};

// The relays' default batch sizes (android-wallets.md §8.4).
[[nodiscard]] std::size_t default_relay_batch(std::string_view kind);

class RelaySender final : public Sender, public std::enable_shared_from_this<RelaySender> {
public:
    // `tls` (for https relays) must outlive the sender.
    RelaySender(net::any_io_executor executor, net::ssl::context& tls, RelayOptions options,
                std::string topic);

    void send(Delivery delivery, Completion done) override;

    struct Stats {
        std::uint64_t requests = 0, tokens = 0, splits = 0;
        std::uint64_t rate_limited = 0;  // answers that paused a lane (429, Remaining: 0)
        std::uint64_t not_sent = 0;      // pushes completed unsent (pause too long, budget)
    };
    [[nodiscard]] Stats stats() const;

private:
    using Clock = RelayThrottle::Clock;
    struct Waiting {
        std::string token;
        Completion done;
        Clock::time_point received;  // holding it for a paused lane is bounded from here
    };
    using GroupKey = std::pair<std::string, std::string>;  // route, API key
    struct Group {
        std::vector<Waiting> items;
        std::size_t held = 0;  // of items, reserved from the throttle's budget
    };
    struct Batch {
        std::string route;
        std::string key;
        std::vector<Waiting> items;
    };
    struct Answer;

    void add(Delivery delivery, Completion done);
    void flush(const GroupKey& group);
    void flush_all();
    void arm_timer();
    void arm_resume(Clock::time_point at);
    void not_sent(std::vector<Waiting>& items, const std::string& why);
    void requeue(Batch& batch);
    void after_answer(const Batch& batch, const Answer& answer);
    [[nodiscard]] const std::string& current_key();
    [[nodiscard]] bool key_required() const;
    [[nodiscard]] std::string lane(const std::string& route, const std::string& key) const;
    // Static: the coroutine frame keeps the sender alive through `self`.
    static net::awaitable<void> post(std::shared_ptr<RelaySender> self,
                                     std::shared_ptr<Batch> batch);
    [[nodiscard]] std::string request_url(const std::string& route) const;
    [[nodiscard]] std::string request_body(const std::vector<Waiting>& items) const;
    void count(std::uint64_t Stats::*field, std::uint64_t n);

    net::strand<net::any_io_executor> strand_;
    net::ssl::context& tls_;
    RelayOptions options_;
    std::string topic_;
    net::steady_timer timer_;
    bool timer_armed_ = false;
    net::steady_timer resume_timer_;  // the earliest paused lane with waiting pushes opens
    bool resume_armed_ = false;
    Clock::time_point resume_at_{};
    std::map<GroupKey, Group> pending_;
    std::size_t batch_;  // lowered after a 413
    std::string key_;    // current_key()'s cache, valid for key_generation_
    std::uint64_t key_generation_ = 0;
    Stats stats_;
    mutable std::mutex stats_mutex_;
};

}  // namespace cardsmith::push
