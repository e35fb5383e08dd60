#include "test_db.hpp"

#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <vector>

#include "pg_cluster.hpp"
#include "storage/postgres/pg_connection.hpp"
#include "storage/sqlite/sqlite_handle.hpp"

namespace cardsmith::test {
namespace {

std::unique_ptr<storage::sql::Connection> connect(const std::string& db) {
    if (db.starts_with("postgresql://") || db.starts_with("postgres://")) {
        return std::make_unique<storage::postgres::PgConnection>(db);
    }
    const std::string path = db.starts_with("sqlite:") ? db.substr(7) : db;
    return std::make_unique<storage::sqlite::SqliteConnection>(path, 5000);
}

std::vector<std::string> column(storage::sql::Connection& c, const char* sql) {
    std::vector<std::string> out;
    auto st = c.prepare(sql);
    while (st.step()) {
        out.push_back(st.text(0));
    }
    return out;
}

}  // namespace

bool testing_postgres() {
    const char* v = std::getenv("CARDSMITH_TEST_STORAGE");
    return v != nullptr && std::string(v) == "postgres";
}

std::string test_storage_url(const std::filesystem::path& sqlite_file) {
    return testing_postgres() ? fresh_database_url() : "sqlite:" + sqlite_file.string();
}

void exec_sql(const std::string& db, const std::string& sql) { connect(db)->exec(sql.c_str()); }

std::string query_text(const std::string& db, const std::string& sql) {
    auto c = connect(db);  // its own connection: the statement cache cannot mix texts up
    auto st = c->prepare(sql.c_str());
    return st.step() ? st.text(0) : std::string();
}

std::vector<std::vector<std::string>> query_rows(const std::string& db, const std::string& sql,
                                                 const std::vector<std::string>& params) {
    auto c = connect(db);
    auto st = c->prepare(sql.c_str());
    for (std::size_t i = 0; i < params.size(); ++i) {
        st.bind(static_cast<int>(i + 1), params[i]);
    }
    std::vector<std::vector<std::string>> out;
    while (st.step()) {
        std::vector<std::string> row;
        for (int col = 0; col < st.columns(); ++col) {
            row.push_back(st.is_null(col) ? "<null>" : st.text(col));
        }
        out.push_back(std::move(row));
    }
    return out;
}

long long query_count(const std::string& db, const std::string& sql,
                      const std::vector<std::string>& params) {
    auto rows = query_rows(db, sql, params);
    return rows.empty() ? -1 : std::stoll(rows.front().front());
}

std::map<std::string, long long> table_counts(const std::string& db) {
    auto c = connect(db);
    const bool pg = c->dialect() == storage::sql::Dialect::postgres;
    const auto tables =
        column(*c, pg ? "SELECT table_name FROM information_schema.tables WHERE table_schema = "
                        "current_schema() AND table_type = 'BASE TABLE'"
                      : "SELECT name FROM sqlite_master WHERE type = 'table'");
    std::map<std::string, long long> out;
    for (const auto& t : tables) {
        // A connection per statement: dynamic SQL must not hit the address-keyed cache.
        auto once = connect(db);
        const std::string sql = "SELECT COUNT(*) FROM \"" + t + "\"";
        auto st = once->prepare(sql.c_str());
        if (st.step()) {
            out[t] = st.int64(0);
        }
    }
    // The pass update counter moves on every card change: include it.
    auto st = c->prepare("SELECT value FROM counters WHERE name = 'pass_update_seq'");
    if (st.step()) {
        out["counter:pass_update_seq"] = st.int64(0);
    }
    return out;
}

}  // namespace cardsmith::test
