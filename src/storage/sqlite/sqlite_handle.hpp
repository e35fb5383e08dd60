#pragma once
// Thin RAII over sqlite3: a connection with a cache of prepared statements, a statement
// with typed bind/column helpers, and a transaction guard. A Connection is used by one
// thread at a time (SqlitePool hands them out). Every return code is checked; failures
// throw StorageError with SQLite's message.
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace cardsmith::storage::sqlite {

class Statement {
public:
    explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
    ~Statement();  // resets and clears bindings: the statement stays cached
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& bind(int index, std::int64_t value);
    Statement& bind(int index, std::string_view text);
    Statement& bind_blob(int index, std::string_view bytes);
    Statement& bind_null(int index);
    Statement& bind_optional(int index, const std::string& text);  // empty → NULL

    // True when a row is available; false when done. Throws on error; a UNIQUE violation
    // throws UniqueViolation.
    bool step();
    void run() {
        while (step()) {
        }
    }

    [[nodiscard]] std::int64_t int64(int col) const;
    [[nodiscard]] std::string text(int col) const;  // NULL → ""
    [[nodiscard]] std::string blob(int col) const;

private:
    sqlite3_stmt* stmt_;
};

class UniqueViolation : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class Connection {
public:
    Connection(const std::string& path, int busy_timeout_ms);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    void exec(const char* sql);
    [[nodiscard]] Statement prepare(const char* sql);  // cached by the SQL's address
    [[nodiscard]] std::int64_t last_insert_id() const;
    [[nodiscard]] sqlite3* raw() const { return db_; }

    // Write transactions of this process take `lock` first. SQLite allows one writer at a
    // time anyway; queueing writers on a mutex instead of SQLite's busy handler (which
    // sleeps and retries) keeps commits back to back and tail latency low.
    void set_write_lock(std::mutex* lock) { write_lock_ = lock; }
    [[nodiscard]] std::mutex* write_lock() const { return write_lock_; }

private:
    sqlite3* db_ = nullptr;
    std::mutex* write_lock_ = nullptr;
    std::unordered_map<const char*, sqlite3_stmt*> cache_;
};

// BEGIN IMMEDIATE (take the write lock up front, so two writers never deadlock on an
// upgrade), COMMIT by commit(), ROLLBACK when destroyed without it.
class Transaction {
public:
    explicit Transaction(Connection& c);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit();

private:
    Connection& conn_;
    std::unique_lock<std::mutex> writer_;
    bool done_ = false;
};

}  // namespace cardsmith::storage::sqlite
