#include "storage/sqlite/sqlite_handle.hpp"

#include <limits>

#include "common/check.hpp"
#include "storage/store.hpp"

namespace cardsmith::storage::sqlite {
namespace {
[[noreturn]] void raise(sqlite3* db, int rc, std::string_view what) {
    std::string msg(what);
    msg += ": ";
    msg += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        throw UniqueViolation(msg);
    }
    throw StorageError(msg);
}

int to_int(std::size_t n) {
    if (n > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
        throw StorageError("value too large for SQLite");
    }
    return static_cast<int>(n);
}
}  // namespace

void SqliteStatement::reset() noexcept {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

void SqliteStatement::bind_int(int i, std::int64_t v) {
    if (int rc = sqlite3_bind_int64(stmt_, i, v); rc != SQLITE_OK) {
        raise(sqlite3_db_handle(stmt_), rc, "bind");
    }
}

void SqliteStatement::bind_text(int i, std::string_view t) {
    if (int rc = sqlite3_bind_text(stmt_, i, t.data(), to_int(t.size()), SQLITE_TRANSIENT);
        rc != SQLITE_OK) {
        raise(sqlite3_db_handle(stmt_), rc, "bind");
    }
}

void SqliteStatement::bind_blob(int i, std::string_view b) {
    if (int rc = sqlite3_bind_blob(stmt_, i, b.data(), to_int(b.size()), SQLITE_TRANSIENT);
        rc != SQLITE_OK) {
        raise(sqlite3_db_handle(stmt_), rc, "bind");
    }
}

void SqliteStatement::bind_null(int i) {
    if (int rc = sqlite3_bind_null(stmt_, i); rc != SQLITE_OK) {
        raise(sqlite3_db_handle(stmt_), rc, "bind");
    }
}

bool SqliteStatement::step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) {
        return true;
    }
    if (rc == SQLITE_DONE) {
        return false;
    }
    raise(sqlite3_db_handle(stmt_), sqlite3_extended_errcode(sqlite3_db_handle(stmt_)), "step");
}

std::int64_t SqliteStatement::int64(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string SqliteStatement::text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    int n = sqlite3_column_bytes(stmt_, col);
    return p == nullptr
               ? std::string()
               : std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
}

std::string SqliteStatement::blob(int col) const {
    const void* p = sqlite3_column_blob(stmt_, col);
    int n = sqlite3_column_bytes(stmt_, col);
    return p == nullptr ? std::string()
                        : std::string(static_cast<const char*>(p), static_cast<std::size_t>(n));
}

SqliteConnection::SqliteConnection(const std::string& path, int busy_timeout_ms,
                                   std::shared_ptr<std::mutex> write_lock)
    : write_lock_(std::move(write_lock)) {
    int rc =
        sqlite3_open_v2(path.c_str(), &db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = path + ": " + (db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc));
        sqlite3_close_v2(db_);
        db_ = nullptr;
        throw StorageError(msg);
    }
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, busy_timeout_ms);
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=NORMAL");
    exec("PRAGMA foreign_keys=ON");
}

SqliteConnection::~SqliteConnection() {
    cache_.clear();  // statements are finalized before the connection closes
    sqlite3_close_v2(db_);
}

void SqliteConnection::exec(const char* sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        throw StorageError(std::string("exec: ") + msg);
    }
}

sql::StatementImpl* SqliteConnection::prepare_impl(const char* sql) {
    auto it = cache_.find(sql);
    if (it == cache_.end()) {
        sqlite3_stmt* stmt = nullptr;
        int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
        if (rc != SQLITE_OK) {
            raise(db_, rc, "prepare");
        }
        it = cache_.emplace(sql, std::make_unique<SqliteStatement>(stmt)).first;
    }
    return it->second.get();
}

std::int64_t SqliteConnection::last_insert_id() { return sqlite3_last_insert_rowid(db_); }

int SqliteConnection::changes() { return sqlite3_changes(db_); }

void SqliteConnection::begin() {
    if (write_lock_ != nullptr) {
        writer_ = std::unique_lock(*write_lock_);
    }
    try {
        exec("BEGIN IMMEDIATE");
    } catch (...) {
        if (writer_.owns_lock()) {
            writer_.unlock();
        }
        throw;
    }
}

void SqliteConnection::commit() {
    exec("COMMIT");
    if (writer_.owns_lock()) {
        writer_.unlock();
    }
}

void SqliteConnection::rollback() noexcept {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    if (writer_.owns_lock()) {
        writer_.unlock();
    }
}

}  // namespace cardsmith::storage::sqlite
