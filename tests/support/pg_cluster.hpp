#pragma once
// A throwaway PostgreSQL server for the tests (STYLE.md: tests talk to a real
// PostgreSQL): the first use starts one cluster per test process with Debian's initdb and
// pg_ctl in a temporary directory, listening on a free loopback port (no fsync: nothing
// here must survive a power cut), and stops it at exit. Run as root, the server runs as
// the `postgres` user (PostgreSQL refuses root). CARDSMITH_TEST_PG=<postgresql:// URL>
// uses that server instead.
//
// Each test gets its own schema (fresh_database_url): the real migrations make its tables.
#include <string>

namespace cardsmith::test {

// True when a PostgreSQL server is available (Debian's postgresql package installed, or
// CARDSMITH_TEST_PG set); a test without it says so and passes nothing off as run.
[[nodiscard]] bool postgres_available();

// A libpq URL whose connections use a new, empty schema of the shared test server.
[[nodiscard]] std::string fresh_database_url();

}  // namespace cardsmith::test
