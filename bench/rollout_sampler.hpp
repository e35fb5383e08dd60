#pragma once
// rollout_bench's observer: while a rollout runs, one thread samples the server's VmRSS
// (/proc/<pid>/status), the SQLite database and WAL file sizes and the fake APNs' count
// of 200 answers every 100 ms; a second thread counts the outbox rows (SELECT COUNT(*) on
// its own read-only connection: WAL readers do not block the server's writers) every
// second, so the slower query never delays the memory samples. Owned by the benchmark's
// main thread; start() and stop() from that thread only; the results are read after stop().
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <thread>
#include <vector>

#include "fake_apns.hpp"

namespace cardsmith::bench {

struct Sample {
    double t = 0;  // seconds since the sampler's origin (the PATCH)
    long rss_kb = 0;
    std::uintmax_t db_bytes = 0, wal_bytes = 0;
    std::size_t answered = 0;      // the fake's 200 answers so far
    std::int64_t outbox = -1;      // last counted outbox rows (-1: not counted yet)
    std::int64_t cards_done = -1;  // last cardsDone the main thread saw
};

struct Peak {
    double value = 0;
    double t = 0;
    void see(double v, double at) {
        if (v > value) {
            value = v;
            t = at;
        }
    }
};

class RolloutSampler {
public:
    RolloutSampler(pid_t server, std::filesystem::path db, const testing::FakeApns& fake);
    ~RolloutSampler();
    RolloutSampler(const RolloutSampler&) = delete;
    RolloutSampler& operator=(const RolloutSampler&) = delete;

    void start(std::chrono::steady_clock::time_point origin);
    void stop();

    std::atomic<std::int64_t> cards_done{-1};  // written by the main thread

    [[nodiscard]] std::int64_t outbox_rows() const { return outbox_.load(); }
    [[nodiscard]] const std::vector<Sample>& samples() const { return samples_; }
    [[nodiscard]] Sample last() const;  // a fresh sample, from any thread

    // After stop():
    Peak rss_kb, db_bytes, wal_bytes, total_bytes, outbox;
    double count_ms_max = 0;  // slowest COUNT(*) of the outbox
    double count_ms_sum = 0;
    std::size_t counts = 0;
    double outbox_empty_at = -1;  // first count of 0 after the outbox held rows

private:
    void sample_loop();
    void count_loop();

    pid_t server_;
    std::filesystem::path db_, wal_;
    const testing::FakeApns& fake_;
    std::chrono::steady_clock::time_point origin_;
    std::atomic<bool> stop_{false};
    std::atomic<std::int64_t> outbox_{-1};
    std::thread sampler_, counter_;
    std::vector<Sample> samples_;  // written by sampler_ until stop()
};

}  // namespace cardsmith::bench
