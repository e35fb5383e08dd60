#include "common/rate_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

namespace cardsmith {
namespace {
constexpr std::size_t kShards = 16;
}  // namespace

RateLimiter::RateLimiter(double rate, double burst, std::size_t max_keys)
    : rate_(rate > 0 ? rate : 1.0),
      burst_(std::max(burst, 1.0)),
      per_shard_(std::max<std::size_t>(max_keys / kShards, 16)),
      shards_(std::make_unique<Shard[]>(kShards)) {}

RateLimiter::Shard& RateLimiter::shard_for(std::string_view key) const {
    return shards_[std::hash<std::string_view>{}(key) % kShards];
}

double RateLimiter::refill(const Bucket& b, Clock::time_point now) const {
    const double seconds = std::chrono::duration<double>(now - b.at).count();
    return std::min(burst_, b.tokens + std::max(seconds, 0.0) * rate_);
}

RateLimiter::Decision RateLimiter::decide(double tokens, double cost) const {
    if (tokens >= cost) {
        return {};
    }
    // Rounded up, so a client that waits exactly Retry-After finds its token.
    const double wait_ms = std::ceil((cost - tokens) / rate_ * 1000.0);
    return {false, std::chrono::milliseconds(static_cast<std::int64_t>(wait_ms))};
}

RateLimiter::Decision RateLimiter::take(std::string_view key, Clock::time_point now, double cost) {
    Shard& shard = shard_for(key);
    std::lock_guard lock(shard.mutex);
    auto it = shard.buckets.find(std::string(key));
    if (it == shard.buckets.end()) {
        if (shard.buckets.size() >= per_shard_) {
            make_room(shard, now);
        }
        it = shard.buckets.emplace(std::string(key), Bucket{burst_, now}).first;
    }
    Bucket& b = it->second;
    b.tokens = refill(b, now);
    b.at = now;
    Decision d = decide(b.tokens, cost);
    if (d.allowed) {
        b.tokens -= cost;
    }
    return d;
}

RateLimiter::Decision RateLimiter::peek(std::string_view key, Clock::time_point now,
                                        double cost) const {
    Shard& shard = shard_for(key);
    std::lock_guard lock(shard.mutex);
    auto it = shard.buckets.find(std::string(key));
    if (it == shard.buckets.end()) {
        return decide(burst_, cost);
    }
    return decide(refill(it->second, now), cost);
}

void RateLimiter::make_room(Shard& shard, Clock::time_point now) {
    // Full buckets first: forgetting them changes nothing.
    std::erase_if(shard.buckets, [&](const auto& kv) { return refill(kv.second, now) >= burst_; });
    if (shard.buckets.size() < per_shard_) {
        return;
    }
    // Still full of active keys (a flood from many addresses): drop the longest-unused half.
    std::vector<Clock::time_point> ages;
    ages.reserve(shard.buckets.size());
    for (const auto& kv : shard.buckets) {
        ages.push_back(kv.second.at);
    }
    auto middle = ages.begin() + static_cast<std::ptrdiff_t>(ages.size() / 2);
    std::nth_element(ages.begin(), middle, ages.end());
    const Clock::time_point cut = *middle;
    std::erase_if(shard.buckets, [&](const auto& kv) { return kv.second.at <= cut; });
}

std::size_t RateLimiter::size() const {
    std::size_t n = 0;
    for (std::size_t i = 0; i < kShards; ++i) {
        std::lock_guard lock(shards_[i].mutex);
        n += shards_[i].buckets.size();
    }
    return n;
}

}  // namespace cardsmith
