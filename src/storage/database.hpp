#pragma once
// The database executor: a Store plus the small thread pool its blocking calls run on
// (STYLE.md "Threads and lifetimes"). Owned by `app`; run() may be awaited from any
// coroutine and resumes on the caller's executor. Counts its calls with atomics for
// /metrics (stats(): threads, calls waiting for a thread and running, and their times).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <utility>

#include "common/async_run.hpp"
#include "storage/store.hpp"

namespace cardsmith::storage {

// A snapshot of the pool's counters (each read on its own: consistent enough to plot).
struct PoolStats {
    unsigned threads = 0;
    std::uint64_t queued = 0;  // calls waiting for a free thread
    std::uint64_t busy = 0;    // calls running
    std::uint64_t calls = 0;   // calls finished since start (exceptions included)
    double wait_seconds = 0;   // their total time waiting for a thread
    double busy_seconds = 0;   // their total time running
};

class Database {
public:
    Database(std::unique_ptr<Store> store, unsigned threads)
        : store_(std::move(store)), threads_(threads), pool_(threads) {}
    ~Database() { pool_.join(); }
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    // Runs fn(Store&) on the database pool.
    template <typename F>
    auto run(F fn) {
        return async_run(pool_.get_executor(),
                         [this, ticket = Ticket(counters_), fn = std::move(fn)]() mutable {
                             const Running running(ticket);
                             return fn(*store_);
                         });
    }

    [[nodiscard]] PoolStats stats() const {
        PoolStats s;
        s.threads = threads_;
        s.queued = counters_.queued.load(std::memory_order_relaxed);
        s.busy = counters_.busy.load(std::memory_order_relaxed);
        s.calls = counters_.calls.load(std::memory_order_relaxed);
        s.wait_seconds =
            static_cast<double>(counters_.wait_ns.load(std::memory_order_relaxed)) / 1e9;
        s.busy_seconds =
            static_cast<double>(counters_.busy_ns.load(std::memory_order_relaxed)) / 1e9;
        return s;
    }

    [[nodiscard]] Store& store() { return *store_; }  // for start-up and CLI only
    void stop() { pool_.join(); }

private:
    using Clock = std::chrono::steady_clock;
    struct Counters {
        std::atomic<std::uint64_t> queued{0}, busy{0}, calls{0}, wait_ns{0}, busy_ns{0};
    };
    static std::uint64_t ns_since(Clock::time_point t) {
        return static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t).count());
    }
    // A call's place in the queue, from run() until a thread takes it. Moves with the work;
    // a call whose awaitable is dropped unawaited leaves the queue when it is destroyed.
    class Ticket {
    public:
        explicit Ticket(Counters& c) : counters_(&c), queued_at_(Clock::now()) {
            c.queued.fetch_add(1, std::memory_order_relaxed);
        }
        Ticket(Ticket&& other) noexcept
            : counters_(std::exchange(other.counters_, nullptr)), queued_at_(other.queued_at_) {}
        Ticket& operator=(Ticket&&) = delete;
        ~Ticket() {
            if (counters_ != nullptr) {
                counters_->queued.fetch_sub(1, std::memory_order_relaxed);
            }
        }
        // Leaves the queue (once); returns the counters, or nullptr when it had left already.
        Counters* leave() {
            Counters* c = std::exchange(counters_, nullptr);
            if (c != nullptr) {
                c->queued.fetch_sub(1, std::memory_order_relaxed);
                c->wait_ns.fetch_add(ns_since(queued_at_), std::memory_order_relaxed);
            }
            return c;
        }

    private:
        Counters* counters_;
        Clock::time_point queued_at_;
    };
    // A call running on a pool thread (also when fn throws).
    class Running {
    public:
        explicit Running(Ticket& ticket) : counters_(ticket.leave()), started_(Clock::now()) {
            if (counters_ != nullptr) {
                counters_->busy.fetch_add(1, std::memory_order_relaxed);
            }
        }
        Running(const Running&) = delete;
        Running& operator=(const Running&) = delete;
        ~Running() {
            if (counters_ != nullptr) {
                counters_->busy_ns.fetch_add(ns_since(started_), std::memory_order_relaxed);
                counters_->calls.fetch_add(1, std::memory_order_relaxed);
                counters_->busy.fetch_sub(1, std::memory_order_relaxed);
            }
        }

    private:
        Counters* counters_;
        Clock::time_point started_;
    };

    std::unique_ptr<Store> store_;
    Counters counters_;
    unsigned threads_;
    net::thread_pool pool_;
};

}  // namespace cardsmith::storage
