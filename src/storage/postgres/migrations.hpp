#pragma once
// PostgreSQL's schema migrations: the same versions as SQLite's, in PostgreSQL's dialect
// (storage/sql/migration.hpp).
#include <span>
#include <string>
#include <string_view>

#include "storage/sql/migration.hpp"

namespace cardsmith::storage::postgres {

using sql::Migration;

[[nodiscard]] std::span<const Migration> migrations();

// SQLite DDL as PostgreSQL's: INTEGER PRIMARY KEY (SQLite's rowid) becomes a BIGINT
// identity, INTEGER a BIGINT (times are in milliseconds), BLOB a BYTEA; WITHOUT ROWID
// goes, and SQLite's random functions become PostgreSQL's. Exposed for the test.
[[nodiscard]] std::string to_postgres_ddl(std::string_view sqlite_sql);

}  // namespace cardsmith::storage::postgres
