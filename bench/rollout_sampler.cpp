#include "rollout_sampler.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>

#include "bench_process.hpp"

namespace cardsmith::bench {
namespace {

std::uintmax_t size_of(const std::filesystem::path& p) {
    std::error_code ec;
    const auto n = std::filesystem::file_size(p, ec);
    return ec ? 0 : n;
}

}  // namespace

RolloutSampler::RolloutSampler(pid_t server, std::filesystem::path db,
                               const testing::FakeApns& fake)
    : server_(server), db_(std::move(db)), wal_(db_.string() + "-wal"), fake_(fake) {
    samples_.reserve(36'000);  // an hour at 10 samples/s
}

RolloutSampler::~RolloutSampler() { stop(); }

void RolloutSampler::start(std::chrono::steady_clock::time_point origin) {
    origin_ = origin;
    stop_ = false;
    sampler_ = std::thread([this] { sample_loop(); });
    counter_ = std::thread([this] { count_loop(); });
}

void RolloutSampler::stop() {
    stop_ = true;
    if (sampler_.joinable()) {
        sampler_.join();
    }
    if (counter_.joinable()) {
        counter_.join();
    }
}

Sample RolloutSampler::last() const {
    // Fresh reads rather than samples_.back(): safe from any thread while sampling.
    Sample s;
    s.t = secs(Clock::now() - origin_);
    s.rss_kb = proc_status_kb(server_, "VmRSS");
    s.db_bytes = size_of(db_);
    s.wal_bytes = size_of(wal_);
    s.answered = fake_.count_ok();
    s.outbox = outbox_.load();
    s.cards_done = cards_done.load();
    return s;
}

void RolloutSampler::sample_loop() {
    auto next = Clock::now();
    while (!stop_) {
        Sample s = last();
        rss_kb.see(static_cast<double>(s.rss_kb), s.t);
        db_bytes.see(static_cast<double>(s.db_bytes), s.t);
        wal_bytes.see(static_cast<double>(s.wal_bytes), s.t);
        total_bytes.see(static_cast<double>(s.db_bytes + s.wal_bytes), s.t);
        samples_.push_back(s);
        next += std::chrono::milliseconds(100);
        std::this_thread::sleep_until(next);
    }
}

void RolloutSampler::count_loop() {
    sqlite3* raw = nullptr;
    if (sqlite3_open_v2(db_.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        sqlite3_close_v2(raw);
        return;
    }
    std::unique_ptr<sqlite3, decltype(&sqlite3_close_v2)> db(raw, &sqlite3_close_v2);
    sqlite3_busy_timeout(db.get(), 5000);
    sqlite3_stmt* st_raw = nullptr;
    if (sqlite3_prepare_v2(db.get(), "SELECT COUNT(*) FROM outbox", -1, &st_raw, nullptr) !=
        SQLITE_OK) {
        return;
    }
    std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> st(st_raw, &sqlite3_finalize);
    auto next = Clock::now();
    bool seen_rows = false;
    while (!stop_) {
        const auto t0 = Clock::now();
        if (sqlite3_step(st.get()) == SQLITE_ROW) {
            const std::int64_t n = sqlite3_column_int64(st.get(), 0);
            const double ms = secs(Clock::now() - t0) * 1000.0;
            count_ms_max = std::max(count_ms_max, ms);
            count_ms_sum += ms;
            ++counts;
            outbox_ = n;
            const double at = secs(t0 - origin_);
            outbox.see(static_cast<double>(n), at);
            seen_rows = seen_rows || n > 0;
            if (seen_rows && n == 0 && outbox_empty_at < 0) {
                outbox_empty_at = at;
            }
        }
        sqlite3_reset(st.get());
        next += std::chrono::seconds(1);
        std::this_thread::sleep_until(next);
    }
}

}  // namespace cardsmith::bench
