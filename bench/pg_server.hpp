#pragma once
// A throwaway PostgreSQL 15 cluster for the benchmarks: Debian's initdb and pg_ctl in a
// folder of the benchmark's, listening on a free loopback port; run as the `postgres`
// user when the benchmark runs as root (PostgreSQL refuses root). Stopped (fast mode) and
// deleted with the object.
//
// Why not tests/support/pg_cluster: that one turns fsync and full-page writes off (tests
// need no durability), which would flatter PostgreSQL against SQLite. Here durability is a
// production one: fsync and full_page_writes on, and synchronous_commit off by default,
// the counterpart of the server's SQLite settings (WAL, synchronous=NORMAL: a commit does
// not wait for the disk; a crash of the machine may lose the last commits, never corrupts).
// `synchronous_commit = true` makes every commit wait for its WAL flush. pg_stat_statements
// is preloaded, to tell what the server's statements cost.
//
// Owned by the benchmark's main thread; not thread-safe except cpu_seconds(), which only
// reads /proc.
#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace cardsmith::bench {

struct PgServerOptions {
    std::filesystem::path dir;  // created; holds data/, run/ and the logs
    bool synchronous_commit = false;
    std::string shared_buffers = "512MB";
    int max_connections = 200;
    std::vector<std::string> settings;  // more "name=value" (-c), for experiments
};

class PgServer {
public:
    explicit PgServer(PgServerOptions options);  // initdb + start; throws on failure
    ~PgServer();
    PgServer(const PgServer&) = delete;
    PgServer& operator=(const PgServer&) = delete;

    // CREATE DATABASE `name` (dropped first if it exists), with pg_stat_statements in a
    // schema of its own (bench_stats); its postgresql:// URL.
    [[nodiscard]] std::string create_database(const std::string& name);
    void drop_database(const std::string& name);

    // pg_stat_statements (preloaded): forget what was counted so far; then what database
    // `name` ran since: statements and execution time per `units` `unit` (per transaction,
    // per device...), and the `top` statements by time.
    void reset_statements(const std::string& name) const;
    [[nodiscard]] std::string statement_profile(const std::string& name, double units,
                                                const std::string& unit, int top) const;
    // "outbox: 12 live rows, 250000 dead, vacuumed 0 times since the database was made".
    [[nodiscard]] std::string table_health(const std::string& name, const std::string& table) const;
    // Runs `sql` in database `name` (an experiment's tuning after the migrations).
    void run_sql(const std::string& name, const std::string& sql) const { exec(sql, name); }

    // The postmaster's CPU seconds plus those of its children, living (backends, walwriter,
    // checkpointer...) and exited (cutime/cstime): PostgreSQL's whole share of the CPU.
    [[nodiscard]] double cpu_seconds() const;
    // "PostgreSQL 15.x ...; fsync on, synchronous_commit off, shared_buffers 512MB".
    [[nodiscard]] std::string describe() const;

private:
    void exec(const std::string& sql, const std::string& database = "postgres") const;
    [[nodiscard]] std::string extra_settings() const;

    PgServerOptions options_;
    int port_ = 0;
    bool started_ = false;
    pid_t postmaster_ = -1;
    std::string version_;
};

}  // namespace cardsmith::bench
