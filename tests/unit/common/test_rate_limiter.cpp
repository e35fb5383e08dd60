#include <atomic>
#include <boost/test/unit_test.hpp>
#include <string>
#include <thread>
#include <vector>

#include "common/rate_limiter.hpp"

using cardsmith::RateLimiter;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(rate_limiter)

BOOST_AUTO_TEST_CASE(a_burst_then_the_rate_with_retry_after_until_the_next_token) {
    RateLimiter limiter(2.0, 5.0);  // 2/s, bursts of 5
    const auto t0 = RateLimiter::Clock::time_point{} + 1000s;
    for (int i = 0; i < 5; ++i) {
        BOOST_TEST(limiter.take("10.0.0.1", t0).allowed);
    }
    auto refused = limiter.take("10.0.0.1", t0);
    BOOST_TEST(!refused.allowed);
    BOOST_TEST(refused.retry_after.count() == 500);    // one token at 2/s
    BOOST_TEST(limiter.take("10.0.0.2", t0).allowed);  // another key has its own bucket
    BOOST_TEST(!limiter.take("10.0.0.1", t0 + 499ms).allowed);
    BOOST_TEST(limiter.take("10.0.0.1", t0 + 500ms).allowed);
    BOOST_TEST(!limiter.take("10.0.0.1", t0 + 500ms).allowed);
    // After a long pause the bucket is full again, never fuller than the burst.
    for (int i = 0; i < 5; ++i) {
        BOOST_TEST(limiter.take("10.0.0.1", t0 + 3600s).allowed);
    }
    BOOST_TEST(!limiter.take("10.0.0.1", t0 + 3600s).allowed);
}

BOOST_AUTO_TEST_CASE(a_refused_request_takes_nothing_and_peek_takes_nothing) {
    RateLimiter limiter(1.0, 1.0);
    const auto t0 = RateLimiter::Clock::time_point{} + 10s;
    BOOST_TEST(limiter.peek("k", t0).allowed);
    BOOST_TEST(limiter.peek("k", t0).allowed);
    BOOST_TEST(limiter.take("k", t0).allowed);
    BOOST_TEST(!limiter.peek("k", t0).allowed);
    for (int i = 0; i < 10; ++i) {
        BOOST_TEST(!limiter.take("k", t0 + 100ms).allowed);  // hammering does not push it back
    }
    BOOST_TEST(limiter.take("k", t0 + 1s).allowed);
}

BOOST_AUTO_TEST_CASE(memory_stays_bounded_under_a_flood_of_keys) {
    RateLimiter limiter(1.0, 10.0, 1600);  // 100 keys per shard
    const auto t0 = RateLimiter::Clock::time_point{} + 10s;
    for (int i = 0; i < 100'000; ++i) {
        (void)limiter.take("addr-" + std::to_string(i), t0 + std::chrono::milliseconds(i));
    }
    BOOST_TEST(limiter.size() <= 1600u);
    BOOST_TEST(limiter.size() > 0u);
    // A key that is still limited survives a sweep of keys that have refilled.
    RateLimiter small(0.001, 1.0, 16 * 16);
    BOOST_TEST(small.take("abuser", t0).allowed);
    BOOST_TEST(!small.take("abuser", t0).allowed);
    for (int i = 0; i < 16 * 16 * 4; ++i) {
        auto key = "idle-" + std::to_string(i);
        (void)small.take(key, t0 - 3600s);  // long ago: full again by t0
    }
    (void)small.take("newcomer", t0);
    BOOST_TEST(!small.take("abuser", t0).allowed);
}

BOOST_AUTO_TEST_CASE(threads_never_get_more_than_the_burst) {
    RateLimiter limiter(0.001, 1000.0);
    std::vector<std::thread> threads;
    std::atomic<int> allowed{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 1000; ++i) {
                if (limiter.take("shared").allowed) {
                    ++allowed;
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    BOOST_TEST(allowed.load() == 1000);
}

BOOST_AUTO_TEST_SUITE_END()
