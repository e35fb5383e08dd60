#include <mutex>

#include "storage/postgres/migrations.hpp"
#include "storage/postgres/pg_connection.hpp"
#include "storage/sql/sql_store.hpp"
#include "storage/sqlite/migrations.hpp"
#include "storage/sqlite/sqlite_handle.hpp"
#include "storage/store.hpp"

namespace cardsmith::storage {

std::unique_ptr<Store> open_store(const std::string& url, unsigned connections,
                                  int busy_timeout_ms) {
    if (url.rfind("sqlite:", 0) == 0) {
        std::string path = url.substr(7);
        if (path.empty()) {
            throw StorageError("storage.url: sqlite: needs a file path");
        }
        // One writer at a time in this process (SqliteConnection::begin).
        auto write_lock = std::make_shared<std::mutex>();
        std::vector<std::unique_ptr<sql::Connection>> pool;
        for (unsigned i = 0; i < std::max(1u, connections); ++i) {
            pool.push_back(
                std::make_unique<sqlite::SqliteConnection>(path, busy_timeout_ms, write_lock));
        }
        return std::make_unique<sql::SqlStore>(std::move(pool), sqlite::migrations());
    }
    if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
        std::vector<std::unique_ptr<sql::Connection>> pool;
        for (unsigned i = 0; i < std::max(1u, connections); ++i) {
            pool.push_back(std::make_unique<postgres::PgConnection>(url));
        }
        return std::make_unique<sql::SqlStore>(std::move(pool), postgres::migrations());
    }
    throw StorageError("storage.url: use sqlite:PATH or postgresql://...");
}

}  // namespace cardsmith::storage
