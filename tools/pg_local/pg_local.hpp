#pragma once
// Helpers for a throwaway local PostgreSQL 15 cluster made with Debian's initdb and pg_ctl:
// where the binaries are, running a shell command, running one as the `postgres` user when
// we are root (PostgreSQL refuses root), and a free loopback port to listen on. Used by
// the tests' cluster (tests/support/pg_cluster.hpp) and the benchmarks'
// (bench/pg_server.hpp); not part of the server. Stateless; thread-safe.
#include <string>

namespace cardsmith::pg_local {

// The path of a PostgreSQL tool ("initdb", "pg_ctl") in Debian's postgresql-15 package.
[[nodiscard]] std::string bin(const char* tool);

// Runs `command` with /bin/sh; its exit status, -1 when it did not exit normally.
[[nodiscard]] int run(const std::string& command);

// `command` prefixed to run as `postgres` when this process is root, else unchanged.
[[nodiscard]] std::string as_server_user(const std::string& command);

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0 and released).
// Throws std::runtime_error when none could be had.
[[nodiscard]] int free_port();

}  // namespace cardsmith::pg_local
