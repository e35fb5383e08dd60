#pragma once
// instances_bench's servers: 1..n `cardsmith serve` child processes on one storage URL
// (SQLite file or PostgreSQL database), each on its own loopback port (free when the set
// is made, kept across restarts) with its own config and log, sharing the admin key, the server key
// file, the dev certificates and the fake APNs. `cardsmith migrate` runs once before any instance
// starts (concurrent first-start migrations on one PostgreSQL database are not serialized yet).
// Owned by the benchmark's main thread; not thread-safe.
//
// Also the benchmark's own way into the database: connect_db() opens a connection of the
// server's SQL layer (storage/sql) on the same URL, so one piece of code reads and checks
// either backend.
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bench_process.hpp"
#include "common/net.hpp"
#include "storage/sql/connection.hpp"

namespace cardsmith::bench {

struct InstanceSetOptions {
    std::string binary;           // cardsmith
    std::filesystem::path dir;    // configs, port files, logs, the server key
    std::filesystem::path certs;  // a `cardsmith dev-certs` folder
    std::string templates_dir;
    std::string storage_url;  // sqlite:PATH or postgresql://...
    std::string admin_key;
    unsigned instances = 1;
    unsigned threads = 2;          // server.threads = server.cpu_threads
    unsigned storage_threads = 0;  // 0: the server's default
    std::uint16_t apns_port = 0;
    unsigned apns_connections = 2;
};

class InstanceSet {
public:
    explicit InstanceSet(InstanceSetOptions options);  // writes the configs
    ~InstanceSet();
    InstanceSet(const InstanceSet&) = delete;
    InstanceSet& operator=(const InstanceSet&) = delete;

    void migrate();  // `cardsmith migrate` with instance 0's config; throws on failure
    // Starts instances [running, count) one after the other (the first start makes the
    // server key; the others read it).
    void start(unsigned count);
    void stop();  // SIGTERM, every running instance; throws unless each exited 0
    // Stops the last running instance (SIGTERM, graceful) and starts it again, as a rolling
    // restart or a crashed instance's supervisor would; throws unless it exited 0, started
    // again and was still running 3 s later.
    void restart_last();

    [[nodiscard]] unsigned running() const { return static_cast<unsigned>(servers_.size()); }
    [[nodiscard]] std::vector<tcp::endpoint> endpoints() const;
    [[nodiscard]] std::uint16_t port(unsigned i) const { return servers_.at(i)->port(); }
    [[nodiscard]] pid_t pid(unsigned i) const { return servers_.at(i)->pid(); }
    [[nodiscard]] double cpu_seconds() const;  // of the running instances, summed
    // Pushes instance i reported delivered (cardsmith_pushes_total, outcome "delivered").
    [[nodiscard]] double delivered_pushes(unsigned i) const;
    // " error " lines of every instance's log: how many, and the first.
    [[nodiscard]] std::string error_lines() const;
    [[nodiscard]] const InstanceSetOptions& options() const { return options_; }
    // Each instance's storage.threads (the server's default 2 when not set).
    [[nodiscard]] unsigned storage_threads() const {
        return options_.storage_threads > 0 ? options_.storage_threads : 2;
    }

private:
    [[nodiscard]] std::filesystem::path config(unsigned i) const;
    [[nodiscard]] std::filesystem::path log(unsigned i) const;

    InstanceSetOptions options_;
    std::vector<std::unique_ptr<ServerProcess>> servers_;
};

// A connection of the server's SQL layer on `storage_url` (statements are cached by the
// address of their SQL: pass string constants).
[[nodiscard]] std::unique_ptr<storage::sql::Connection> connect_db(const std::string& storage_url);

// The first column of the first row of a one-off query (its own connection, so a built
// string cannot collide in the statement cache); 0 when no row.
[[nodiscard]] std::int64_t query_number(const std::string& storage_url, const std::string& sql);

// "pending 3, dead 1" or "empty": the outbox's rows by state.
[[nodiscard]] std::string outbox_states(const std::string& storage_url);

}  // namespace cardsmith::bench
