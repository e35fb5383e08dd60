#pragma once
// instances_bench's phases (instances_tx.cpp, instances_rollout.cpp) and what they share:
// the running servers, the fake APNs, the database, the merchant, and a CPU account of
// every party (the servers, this process, PostgreSQL, everything else) over a phase.
// Everything runs on the benchmark's main thread (the store ceiling adds worker threads of
// its own for its duration).
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/net.hpp"
#include "fake_apns.hpp"
#include "instance_set.hpp"
#include "pg_server.hpp"

namespace cardsmith::bench {

inline constexpr const char* kPassType = "pass.dev.cardsmith";  // the server's default identity
inline constexpr const char* kTillSlug = "till";                // the transactions' program
inline constexpr const char* kBulkSlug = "bulk";                // the rollout's program

struct BenchSetup {
    InstanceSet& servers;
    testing::FakeApns& fake;
    const PgServer* pg;  // nullptr on SQLite
    std::string pg_database;
    std::string storage_url;
    std::string merchant_key;  // the merchant's API key
    std::int64_t merchant_id = 0;
    std::filesystem::path certs;
    net::io_context& ioc;
};

// CPU seconds of each party at one moment.
struct CpuMark {
    std::chrono::steady_clock::time_point at;
    double servers = 0, self = 0, pg = 0, machine = 0;
};

// Cores used by each party between two marks (other = the machine minus the rest).
struct CpuShare {
    double wall = 0, servers = 0, self = 0, pg = 0, other = 0;
};

// splitmix64's finalizer: request i's card is scramble(i) % cards (spread, repeatable).
[[nodiscard]] inline std::uint64_t scramble(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

[[nodiscard]] CpuMark cpu_mark(const BenchSetup& b);
[[nodiscard]] CpuShare cpu_share(const CpuMark& from, const CpuMark& to);
[[nodiscard]] std::string describe(const CpuShare& s);  // "servers 1.21 cores, bench 0.40, ..."

// Waits until the outbox holds no pending or sending row (dead rows stay); false on timeout.
[[nodiscard]] bool wait_outbox_drained(const std::string& storage_url,
                                       std::chrono::seconds timeout);

// --- transactions (instances_tx.cpp) -------------------------------------------------------

struct TxOptions {
    std::size_t cards = 10'000;  // on program kTillSlug, one device each, made through the API
    std::size_t hot_cards = 4;   // the contended case: every request on one of these
    unsigned clients = 16;
    double seconds = 10;
    std::size_t race_pairs = 400;  // same Idempotency-Key sent to two instances at once
    std::size_t replays = 200;     // applied keys sent again to another instance
};

struct TxRun {
    double rate = 0;                   // applied transactions (or answers) per second
    double p50 = 0, p99 = 0, max = 0;  // ms
    std::size_t applied = 0, errors = 0;
    std::vector<std::size_t> by_instance;
    CpuShare cpu;
};

// Rate (applied / elapsed) and latency percentiles of one run.
[[nodiscard]] TxRun summarize(std::vector<double> ms, std::size_t applied, std::size_t errors,
                              double elapsed, const CpuShare& cpu);

struct TxResult {
    TxRun http_ceiling;   // GET /healthz, same clients and instances
    TxRun store_uniform;  // Store::apply_transaction in this process, no HTTP
    TxRun store_hot;
    TxRun uniform, hot;  // POST .../transactions through the servers
    bool verified = false;
    std::string verification;  // what was checked, or what failed
};

[[nodiscard]] TxResult run_transactions(BenchSetup& b, const TxOptions& options);

// --- rollout (instances_rollout.cpp) -------------------------------------------------------

struct RolloutOptions {
    std::size_t cards = 100'000;  // seeded on program kBulkSlug (one device each)
    double timeout = 1800;        // seconds after the PATCH
    // Experiments (off by default): restart the last instance once this share of the
    // devices has been answered (0: never); post transactions to the rollout's own cards
    // from this many clients while it runs (0: none).
    double restart_at = 0;
    unsigned tx_clients = 0;
};

struct RolloutResult {
    double ceiling = 0;    // apns::Client pushes/s to the same fake
    double last_push = 0;  // s after the PATCH
    double done_at = 0;    // rollout finished_at, s after the PATCH
    double rate = 0;       // distinct devices / last_push
    std::size_t devices = 0, pushed = 0, answers = 0;
    std::vector<double> by_instance;  // pushes delivered per instance (metrics)
    double get_p50 = 0, get_p99 = 0;  // GET /api/v1/rollouts/{id} meanwhile, ms
    std::size_t outbox_peak = 0;
    CpuShare cpu;
    bool verified = false;
    std::string verification;
    TxRun during;  // the transactions posted meanwhile (tx_clients > 0)
};

[[nodiscard]] RolloutResult run_rollout(BenchSetup& b, const RolloutOptions& options);

}  // namespace cardsmith::bench
