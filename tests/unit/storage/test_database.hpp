#pragma once
// The database the storage suite runs on. The same test sources build two binaries:
// test_storage on SQLite and test_storage_pg on the throwaway PostgreSQL server
// (CARDSMITH_TEST_POSTGRES=1), each test on a fresh database made by the real migrations.
#include <memory>
#include <string>

#include "pg_cluster.hpp"
#include "storage/postgres/pg_connection.hpp"
#include "storage/sqlite/sqlite_handle.hpp"
#include "storage/store.hpp"
#include "temp_dir.hpp"

#ifndef CARDSMITH_TEST_POSTGRES
#define CARDSMITH_TEST_POSTGRES 0
#endif

namespace cardsmith::test {

class TestDatabase {
public:
    static constexpr bool postgres = CARDSMITH_TEST_POSTGRES != 0;

    explicit TestDatabase(const char* file) {
        if constexpr (postgres) {
            url_ = fresh_database_url();
        } else {
            path_ = (dir_.path() / file).string();
            url_ = "sqlite:" + path_;
        }
    }

    [[nodiscard]] const std::string& url() const { return url_; }
    [[nodiscard]] const TempDir& dir() const { return dir_; }

    [[nodiscard]] std::unique_ptr<storage::Store> open(unsigned connections,
                                                       int busy_timeout_ms) const {
        return storage::open_store(url_, connections, busy_timeout_ms);
    }

    // One integer read through a connection of its own (not the store's), -1 without a row.
    [[nodiscard]] long long scalar(const std::string& sql) const {
        std::unique_ptr<storage::sql::Connection> c;
        if constexpr (postgres) {
            c = std::make_unique<storage::postgres::PgConnection>(url_);
        } else {
            c = std::make_unique<storage::sqlite::SqliteConnection>(path_, 5000);
        }
        // A fresh connection: its statement cache cannot mistake this text for another.
        auto st = c->prepare(sql.c_str());
        return st.step() ? st.int64(0) : -1;
    }

private:
    TempDir dir_;
    std::string path_;
    std::string url_;
};

}  // namespace cardsmith::test
