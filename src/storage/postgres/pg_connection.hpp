#pragma once
// The PostgreSQL side of storage/sql/connection.hpp, over libpq. The store's SQL uses
// SQLite's positional parameters (?1, ?2...); a statement is rewritten to $1, $2... and
// prepared on a connection when it first runs (PQprepare, cached by the SQL's address
// like SQLite's), then run with PQexecPrepared. Values travel as text, blobs as binary.
// Integers are declared bigint and blobs bytea at that first run (so `?3 * 1000` and a
// bigint column agree); text and NULL are left for the server to infer from the
// statement, as a quoted literal would be. Failures throw StorageError with the
// server's message; SQLSTATE 23505 throws UniqueViolation.
#include <libpq-fe.h>

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "storage/sql/connection.hpp"

namespace cardsmith::storage::postgres {

// ?N → $N outside quoted strings and identifiers; the number of parameters in `*count`.
[[nodiscard]] std::string to_pg_parameters(std::string_view sql, int* count);

struct PgResultFree {
    void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, PgResultFree>;

class PgConnection;

class PgStatement final : public sql::StatementImpl {
public:
    PgStatement(PgConnection& conn, std::string name, std::string sql, int params);

    void bind_int(int index, std::int64_t value) override;
    void bind_text(int index, std::string_view text) override;
    void bind_blob(int index, std::string_view bytes) override;
    void bind_null(int index) override;
    bool step() override;
    [[nodiscard]] std::int64_t int64(int col) const override;
    [[nodiscard]] std::string text(int col) const override;
    [[nodiscard]] std::string blob(int col) const override;
    [[nodiscard]] int columns() const override;
    [[nodiscard]] bool is_null(int col) const override;
    void reset() noexcept override;
    // The server forgot it (the connection was re-established): prepare again.
    void forget_prepared() noexcept { prepared_ = false; }

private:
    void set(int index, std::optional<std::string> value, bool binary, unsigned type);

    PgConnection& conn_;
    std::string name_;
    std::string sql_;  // in PostgreSQL's form; prepared at the first run
    bool prepared_ = false;
    std::vector<std::optional<std::string>> values_;
    std::vector<int> formats_;
    std::vector<unsigned> types_;  // Oids: 20 bigint, 17 bytea, 0 inferred
    PgResult result_;
    int row_ = -1;  // -1: not run yet
};

class PgConnection final : public sql::Connection {
public:
    // `conninfo`: a postgresql:// URL or key=value pairs (libpq's syntax).
    explicit PgConnection(const std::string& conninfo);
    ~PgConnection() override;

    [[nodiscard]] sql::Dialect dialect() const override { return sql::Dialect::postgres; }
    void exec(const char* sql) override;
    [[nodiscard]] std::int64_t last_insert_id() override;
    [[nodiscard]] int changes() override { return changes_; }
    void begin() override;
    void commit() override;
    void rollback() noexcept override;

    // Prepares a statement under `name` with these parameter types.
    void prepare_named(const std::string& name, const std::string& sql,
                       const std::vector<unsigned>& types);
    // Runs a prepared statement; checks the answer (throws on error).
    PgResult run(const std::string& name, const std::vector<std::optional<std::string>>& values,
                 const std::vector<int>& formats);
    [[nodiscard]] bool in_transaction() const { return in_transaction_; }
    // A connection the server or the network dropped is opened again before its next
    // use outside a transaction (the call that met the failure has thrown); its
    // statements are prepared again.
    void ensure_open();

private:
    sql::StatementImpl* prepare_impl(const char* sql) override;
    PgResult check(PGresult* r, std::string_view what);

    PGconn* conn_ = nullptr;
    std::unordered_map<const char*, std::unique_ptr<PgStatement>> cache_;
    int changes_ = 0;
    bool in_transaction_ = false;
};

}  // namespace cardsmith::storage::postgres
