#pragma once
// Row counts of every table of a SQLite database, read with sqlite3 directly, to prove
// that a rejected request wrote nothing.
#include <sqlite3.h>

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace cardsmith::test {

inline std::map<std::string, long long> table_counts(const std::string& path) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        sqlite3_close(db);
        throw std::runtime_error("cannot open " + path);
    }
    std::map<std::string, long long> out;
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table'", -1, &st, nullptr);
    std::vector<std::string> tables;
    while (sqlite3_step(st) == SQLITE_ROW) {
        tables.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
    }
    sqlite3_finalize(st);
    for (const auto& t : tables) {
        std::string sql = "SELECT COUNT(*) FROM \"" + t + "\"";
        sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr);
        if (sqlite3_step(st) == SQLITE_ROW) {
            out[t] = sqlite3_column_int64(st, 0);
        }
        sqlite3_finalize(st);
    }
    // The pass update counter moves on every card change: include it.
    sqlite3_prepare_v2(db, "SELECT value FROM counters WHERE name = 'pass_update_seq'", -1, &st,
                       nullptr);
    if (sqlite3_step(st) == SQLITE_ROW) {
        out["counter:pass_update_seq"] = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

}  // namespace cardsmith::test
