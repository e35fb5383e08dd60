#include "storage/sqlite/sqlite_handle.hpp"

#include <cstdint>
#include <limits>
#include <utility>

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
    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
        throw ForeignKeyViolation(msg);
    }
    throw StorageError(msg);
}

// GREATEST / LEAST of integers, NULLs ignored (as PostgreSQL does); NULL when all are.
void extreme(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
    const bool greatest = reinterpret_cast<std::intptr_t>(sqlite3_user_data(ctx)) != 0;
    bool any = false;
    sqlite3_int64 best = 0;
    for (int i = 0; i < argc; ++i) {
        if (sqlite3_value_type(argv[i]) == SQLITE_NULL) {
            continue;
        }
        const sqlite3_int64 v = sqlite3_value_int64(argv[i]);
        if (!any || (greatest ? v > best : v < best)) {
            best = v;
            any = true;
        }
    }
    if (any) {
        sqlite3_result_int64(ctx, best);
    } else {
        sqlite3_result_null(ctx);
    }
}

// PostgreSQL's string_agg(text, separator) (SQLite 3.40 has only group_concat).
void string_agg_step(sqlite3_context* ctx, int /*argc*/, sqlite3_value** argv) {
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
        return;
    }
    auto** acc = static_cast<std::string**>(sqlite3_aggregate_context(ctx, sizeof(std::string*)));
    if (acc == nullptr) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
    const auto* sep = reinterpret_cast<const char*>(sqlite3_value_text(argv[1]));
    if (*acc == nullptr) {
        *acc = new std::string();
    } else if (sep != nullptr) {
        (*acc)->append(sep);
    }
    (*acc)->append(text != nullptr ? text : "");
}

void string_agg_final(sqlite3_context* ctx) {
    auto** acc = static_cast<std::string**>(sqlite3_aggregate_context(ctx, 0));
    if (acc == nullptr || *acc == nullptr) {
        sqlite3_result_null(ctx);
        return;
    }
    sqlite3_result_text(ctx, (*acc)->data(), static_cast<int>((*acc)->size()), SQLITE_TRANSIENT);
    delete *acc;
    *acc = nullptr;
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

int SqliteStatement::columns() const { return sqlite3_column_count(stmt_); }

bool SqliteStatement::is_null(int col) const {
    return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
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
    // PostgreSQL's GREATEST and LEAST, so the store's SQL is the same on both (SQLite's
    // own two-argument MAX and MIN do not exist there).
    for (auto [name, greatest] : {std::pair{"GREATEST", true}, std::pair{"LEAST", false}}) {
        const int created = sqlite3_create_function(
            db_, name, -1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
            reinterpret_cast<void*>(static_cast<std::intptr_t>(greatest ? 1 : 0)), &extreme,
            nullptr, nullptr);
        if (created != SQLITE_OK) {
            raise(db_, created, "create function");
        }
    }
    if (const int created = sqlite3_create_function(db_, "string_agg", 2, SQLITE_UTF8, nullptr,
                                                    nullptr, &string_agg_step, &string_agg_final);
        created != SQLITE_OK) {
        raise(db_, created, "create function");
    }
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
