#pragma once
// The SQL backends' common face (SQLite, PostgreSQL): a connection with a cache of
// prepared statements, a statement with typed bind/column helpers, and a transaction
// guard. The store code is written once against these; each backend implements
// StatementImpl and Connection. A Connection is used by one thread at a time (the store's
// pool hands them out). Failures throw StorageError; a UNIQUE violation throws
// UniqueViolation.
//
// Why our own thin layer rather than a library (SOCI, sqlpp11): neither is a Debian 12
// package we may use, and the store needs only this much: positional parameters,
// int64/text/blob values, statements cached by the address of their SQL constant.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cardsmith::storage::sql {

class UniqueViolation : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A row refers to one that does not exist (or a referenced row is gone).
class ForeignKeyViolation : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A backend's prepared statement; owned by its connection's cache.
class StatementImpl {
public:
    virtual ~StatementImpl() = default;
    virtual void bind_int(int index, std::int64_t value) = 0;
    virtual void bind_text(int index, std::string_view text) = 0;
    virtual void bind_blob(int index, std::string_view bytes) = 0;
    virtual void bind_null(int index) = 0;
    virtual bool step() = 0;  // true: a row is available
    [[nodiscard]] virtual std::int64_t int64(int col) const = 0;
    [[nodiscard]] virtual std::string text(int col) const = 0;  // NULL → ""
    [[nodiscard]] virtual std::string blob(int col) const = 0;
    [[nodiscard]] virtual int columns() const = 0;
    [[nodiscard]] virtual bool is_null(int col) const = 0;
    virtual void reset() noexcept = 0;  // ready for the next use, bindings cleared
};

// One use of a cached statement: reset when it goes out of scope.
class Statement {
public:
    explicit Statement(StatementImpl* impl) : impl_(impl) {}
    ~Statement() { impl_->reset(); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& bind(int index, std::int64_t value) {
        impl_->bind_int(index, value);
        return *this;
    }
    Statement& bind(int index, std::string_view text) {
        impl_->bind_text(index, text);
        return *this;
    }
    Statement& bind_blob(int index, std::string_view bytes) {
        impl_->bind_blob(index, bytes);
        return *this;
    }
    Statement& bind_null(int index) {
        impl_->bind_null(index);
        return *this;
    }
    Statement& bind_optional(int index, const std::string& text) {  // empty → NULL
        return text.empty() ? bind_null(index) : bind(index, text);
    }

    // True when a row is available; false when done. Throws on error.
    bool step() { return impl_->step(); }
    void run() {
        while (step()) {
        }
    }

    [[nodiscard]] std::int64_t int64(int col) const { return impl_->int64(col); }
    [[nodiscard]] std::string text(int col) const { return impl_->text(col); }
    [[nodiscard]] std::string blob(int col) const { return impl_->blob(col); }
    [[nodiscard]] int columns() const { return impl_->columns(); }
    [[nodiscard]] bool is_null(int col) const { return impl_->is_null(col); }

private:
    StatementImpl* impl_;
};

enum class Dialect { sqlite, postgres };

class Connection {
public:
    virtual ~Connection() = default;
    Connection() = default;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Where the SQL must differ: SQLite runs one writer at a time, so reading a row and
    // then writing it in one transaction is safe there; PostgreSQL needs the row locked
    // (SELECT ... FOR UPDATE) and offers SKIP LOCKED for queues.
    [[nodiscard]] virtual Dialect dialect() const = 0;
    virtual void exec(const char* sql) = 0;
    // Cached by the SQL's address: pass string constants, never a built std::string.
    [[nodiscard]] Statement prepare(const char* sql) { return Statement(prepare_impl(sql)); }
    [[nodiscard]] virtual std::int64_t last_insert_id() = 0;
    // Rows changed by the last INSERT, UPDATE or DELETE run to completion.
    [[nodiscard]] virtual int changes() = 0;

    // A write transaction (Transaction below); rollback() must not throw.
    virtual void begin() = 0;
    virtual void commit() = 0;
    virtual void rollback() noexcept = 0;

protected:
    virtual StatementImpl* prepare_impl(const char* sql) = 0;
};

// PostgreSQL: locks the row `sql` selects (... FOR UPDATE) for the rest of the
// transaction, so instances sharing the database take turns on it (one step of a rollout
// or campaign runs once). SQLite has one writer at a time already: nothing to do.
inline void lock_row(Connection& c, const char* sql, std::int64_t id) {
    if (c.dialect() == Dialect::postgres) {
        c.prepare(sql).bind(1, id).run();
    }
}

// begin() now, commit() by commit(), rollback() when destroyed without it.
class Transaction {
public:
    explicit Transaction(Connection& c) : conn_(c) { conn_.begin(); }
    ~Transaction() {
        if (!done_) {
            conn_.rollback();
        }
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit() {
        conn_.commit();
        done_ = true;
    }

private:
    Connection& conn_;
    bool done_ = false;
};

}  // namespace cardsmith::storage::sql
