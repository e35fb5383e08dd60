#pragma once
// The SQLite side of storage/sql/connection.hpp: thin RAII over sqlite3. Every return
// code is checked; failures throw StorageError with SQLite's message.
#include <sqlite3.h>

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "storage/sql/connection.hpp"

namespace cardsmith::storage::sqlite {

// The store code in this directory is written against the backend-neutral layer.
using sql::Connection;
using sql::ForeignKeyViolation;
using sql::Statement;
using sql::Transaction;
using sql::UniqueViolation;

class SqliteStatement final : public sql::StatementImpl {
public:
    explicit SqliteStatement(sqlite3_stmt* stmt) : stmt_(stmt) {}
    ~SqliteStatement() override { sqlite3_finalize(stmt_); }
    SqliteStatement(const SqliteStatement&) = delete;
    SqliteStatement& operator=(const SqliteStatement&) = delete;

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

private:
    sqlite3_stmt* stmt_;
};

class SqliteConnection final : public sql::Connection {
public:
    // Write transactions of this process take `write_lock` (when given) first. SQLite
    // allows one writer at a time anyway; queueing writers on a mutex instead of SQLite's
    // busy handler (which sleeps and retries) keeps commits back to back and tail
    // latency low.
    SqliteConnection(const std::string& path, int busy_timeout_ms,
                     std::shared_ptr<std::mutex> write_lock = nullptr);
    ~SqliteConnection() override;

    [[nodiscard]] sql::Dialect dialect() const override { return sql::Dialect::sqlite; }
    void exec(const char* sql) override;
    [[nodiscard]] std::int64_t last_insert_id() override;
    [[nodiscard]] int changes() override;
    // BEGIN IMMEDIATE: take the write lock up front, so two writers never deadlock on an
    // upgrade.
    void begin() override;
    void commit() override;
    void rollback() noexcept override;

    [[nodiscard]] sqlite3* raw() const { return db_; }

private:
    sql::StatementImpl* prepare_impl(const char* sql) override;

    sqlite3* db_ = nullptr;
    std::shared_ptr<std::mutex> write_lock_;
    std::unique_lock<std::mutex> writer_;
    std::unordered_map<const char*, std::unique_ptr<SqliteStatement>> cache_;
};

}  // namespace cardsmith::storage::sqlite
