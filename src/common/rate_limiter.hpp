#pragma once
// Token buckets by key (a client address, an API key's digest): `rate` tokens a second up
// to `burst`; a request takes one. Thread-safe and sharded so that request threads rarely
// wait on one another. Memory is bounded: each shard holds at most max_keys / shards
// buckets; when a shard is full, the buckets that have refilled completely (they would
// allow exactly what a new bucket allows) are dropped first, then the longest-unused half
// — so an attacker with many addresses can at worst reset other addresses' buckets, never
// grow the process.
//
// Written here rather than taken from a library: Boost has none, and what is needed is
// ~100 lines. Limits are per process: with several instances behind a load balancer each
// allows the configured rate (docs/security.md).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace cardsmith {

class RateLimiter {
public:
    using Clock = std::chrono::steady_clock;

    // rate: tokens per second (> 0); burst: bucket size (>= 1).
    RateLimiter(double rate, double burst, std::size_t max_keys = 100'000);

    struct Decision {
        bool allowed = true;
        std::chrono::milliseconds retry_after{0};  // when refused: until one token is back
    };

    // Takes `cost` tokens from the key's bucket when it holds them.
    Decision take(std::string_view key, Clock::time_point now, double cost = 1.0);
    Decision take(std::string_view key, double cost = 1.0) { return take(key, Clock::now(), cost); }
    // Whether the bucket holds `cost` tokens, without taking them.
    [[nodiscard]] Decision peek(std::string_view key, Clock::time_point now,
                                double cost = 1.0) const;

    [[nodiscard]] std::size_t size() const;  // buckets held (tests, metrics)

private:
    struct Bucket {
        double tokens = 0;
        Clock::time_point at;  // when `tokens` was computed
    };
    struct Shard {
        mutable std::mutex mutex;
        std::unordered_map<std::string, Bucket> buckets;
    };

    [[nodiscard]] double refill(const Bucket& b, Clock::time_point now) const;
    [[nodiscard]] Decision decide(double tokens, double cost) const;
    void make_room(Shard& shard, Clock::time_point now);
    Shard& shard_for(std::string_view key) const;

    double rate_;
    double burst_;
    std::size_t per_shard_;
    std::unique_ptr<Shard[]> shards_;
};

}  // namespace cardsmith
