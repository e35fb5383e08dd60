#pragma once
// The PostgreSQL side of storage/sql/connection.hpp, over libpq. The store's SQL uses
// SQLite's positional parameters (?1, ?2...); a statement is rewritten to $1, $2... once,
// when it is first prepared on a connection (PQprepare, cached by the SQL's address like
// SQLite's), and run with PQexecPrepared. Values travel as text, blobs as binary; the
// server infers parameter types from the statement. Failures throw StorageError with the
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
    PgStatement(PgConnection& conn, std::string name, int params);

    void bind_int(int index, std::int64_t value) override;
    void bind_text(int index, std::string_view text) override;
    void bind_blob(int index, std::string_view bytes) override;
    void bind_null(int index) override;
    bool step() override;
    [[nodiscard]] std::int64_t int64(int col) const override;
    [[nodiscard]] std::string text(int col) const override;
    [[nodiscard]] std::string blob(int col) const override;
    void reset() noexcept override;

private:
    void set(int index, std::optional<std::string> value, bool binary);

    PgConnection& conn_;
    std::string name_;
    std::vector<std::optional<std::string>> values_;
    std::vector<int> formats_;
    PgResult result_;
    int row_ = -1;  // -1: not run yet
};

class PgConnection final : public sql::Connection {
public:
    // `conninfo`: a postgresql:// URL or key=value pairs (libpq's syntax).
    explicit PgConnection(const std::string& conninfo);
    ~PgConnection() override;

    void exec(const char* sql) override;
    [[nodiscard]] std::int64_t last_insert_id() override;
    [[nodiscard]] int changes() override { return changes_; }
    void begin() override;
    void commit() override;
    void rollback() noexcept override;

    // Runs a prepared statement; checks the answer (throws on error).
    PgResult run(const std::string& name, const std::vector<std::optional<std::string>>& values,
                 const std::vector<int>& formats);
    [[nodiscard]] bool in_transaction() const { return in_transaction_; }

private:
    sql::StatementImpl* prepare_impl(const char* sql) override;
    PgResult check(PGresult* r, std::string_view what);

    PGconn* conn_ = nullptr;
    std::unordered_map<const char*, std::unique_ptr<PgStatement>> cache_;
    int changes_ = 0;
    bool in_transaction_ = false;
};

}  // namespace cardsmith::storage::postgres
