#pragma once
// The integration tests' database: SQLite in the server's folder by default, or a fresh
// schema of the throwaway PostgreSQL server when CARDSMITH_TEST_STORAGE=postgres (CTest
// runs the API, marketing and Google suites both ways). Helpers read or write it
// directly, past the server: `db` is the server's storage URL (or a SQLite file path).
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace cardsmith::test {

// The storage.url for a server whose folder holds `sqlite_file`.
[[nodiscard]] std::string test_storage_url(const std::filesystem::path& sqlite_file);
[[nodiscard]] bool testing_postgres();

// Runs SQL on the database (a test's shortcut past time: expiring a code...).
void exec_sql(const std::string& db, const std::string& sql);
// The first column of the first row, as text ("" when none or NULL).
[[nodiscard]] std::string query_text(const std::string& db, const std::string& sql);
// Every row of a query with text parameters (?1, ?2...); NULL reads as "<null>".
[[nodiscard]] std::vector<std::vector<std::string>> query_rows(
    const std::string& db, const std::string& sql, const std::vector<std::string>& params = {});
// The first column of the first row as a number (a COUNT), -1 when there is no row.
[[nodiscard]] long long query_count(const std::string& db, const std::string& sql,
                                    const std::vector<std::string>& params = {});
// Row counts of every table (and the pass update counter), to prove that a rejected
// request wrote nothing.
[[nodiscard]] std::map<std::string, long long> table_counts(const std::string& db);

}  // namespace cardsmith::test
