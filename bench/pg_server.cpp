#include "pg_server.hpp"

#include <libpq-fe.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "pg_local.hpp"

namespace cardsmith::bench {
namespace {

namespace fs = std::filesystem;

using pg_local::as_server_user;
using pg_local::bin;
using pg_local::run;

using ConnPtr = std::unique_ptr<PGconn, decltype(&PQfinish)>;
using ResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;

ConnPtr connect(const std::string& url) {
    ConnPtr c(PQconnectdb(url.c_str()), &PQfinish);
    if (PQstatus(c.get()) != CONNECTION_OK) {
        throw std::runtime_error("pg_server: " + std::string(PQerrorMessage(c.get())));
    }
    // "database ... does not exist, skipping" and the like: not worth a line.
    PQsetNoticeProcessor(
        c.get(), [](void*, const char*) {}, nullptr);
    return c;
}

// Fields of /proc/<pid>/stat after the command name (field 3 = index 0).
std::vector<std::string> stat_fields(const std::string& pid) {
    std::ifstream in("/proc/" + pid + "/stat");
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string stat = ss.str();
    const auto close = stat.rfind(')');
    std::vector<std::string> out;
    if (close == std::string::npos) {
        return out;
    }
    std::istringstream rest(stat.substr(close + 2));
    for (std::string f; rest >> f;) {
        out.push_back(f);
    }
    return out;
}

}  // namespace

PgServer::PgServer(PgServerOptions options) : options_(std::move(options)) {
    const fs::path& dir = options_.dir;
    fs::create_directories(dir / "run");
    if (geteuid() == 0) {
        (void)run("chown -R postgres: " + dir.string());
    }
    const std::string data = (dir / "data").string();
    if (run(as_server_user(bin("initdb") + " -D " + data +
                           " -U cardsmith -A trust -E UTF8 --no-locale >" +
                           (dir / "initdb.log").string() + " 2>&1")) != 0) {
        throw std::runtime_error("pg_server: initdb failed, see " + (dir / "initdb.log").string());
    }
    port_ = pg_local::free_port();
    std::string opts =
        "-p " + std::to_string(port_) + " -k " + (dir / "run").string() +
        " -c listen_addresses=127.0.0.1 -c fsync=on -c full_page_writes=on -c synchronous_commit=" +
        (options_.synchronous_commit ? "on" : "off") +
        " -c shared_buffers=" + options_.shared_buffers +
        " -c max_connections=" + std::to_string(options_.max_connections) +
        " -c shared_preload_libraries=pg_stat_statements";
    for (const auto& setting : options_.settings) {
        opts += " -c " + setting;
    }
    if (run(as_server_user(bin("pg_ctl") + " -D " + data + " -l " + (dir / "server.log").string() +
                           " -w -o '" + opts + "' start >/dev/null")) != 0) {
        throw std::runtime_error("pg_server: pg_ctl start failed, see " +
                                 (dir / "server.log").string());
    }
    started_ = true;
    std::ifstream pidfile(dir / "data" / "postmaster.pid");
    pidfile >> postmaster_;
    auto c = connect("postgresql://cardsmith@127.0.0.1:" + std::to_string(port_) + "/postgres");
    ResultPtr r(PQexec(c.get(), "SHOW server_version"), &PQclear);
    if (PQresultStatus(r.get()) == PGRES_TUPLES_OK && PQntuples(r.get()) == 1) {
        version_ = PQgetvalue(r.get(), 0, 0);
    }
}

PgServer::~PgServer() {
    if (started_) {
        (void)run(as_server_user(bin("pg_ctl") + " -D " + (options_.dir / "data").string() +
                                 " -m fast stop >/dev/null 2>&1"));
    }
}

void PgServer::exec(const std::string& sql, const std::string& database) const {
    auto c = connect("postgresql://cardsmith@127.0.0.1:" + std::to_string(port_) + "/" + database);
    ResultPtr r(PQexec(c.get(), sql.c_str()), &PQclear);
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
        throw std::runtime_error("pg_server: " + sql + ": " + PQresultErrorMessage(r.get()));
    }
}

std::string PgServer::create_database(const std::string& name) {
    exec("DROP DATABASE IF EXISTS " + name);
    exec("CREATE DATABASE " + name);
    exec("CREATE SCHEMA bench_stats; CREATE EXTENSION pg_stat_statements SCHEMA bench_stats", name);
    return "postgresql://cardsmith@127.0.0.1:" + std::to_string(port_) + "/" + name;
}

void PgServer::drop_database(const std::string& name) {
    exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
}

void PgServer::reset_statements(const std::string& name) const {
    auto c = connect("postgresql://cardsmith@127.0.0.1:" + std::to_string(port_) + "/" + name);
    ResultPtr r(PQexec(c.get(), "SELECT bench_stats.pg_stat_statements_reset()"), &PQclear);
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
        throw std::runtime_error("pg_server: reset: " + std::string(PQresultErrorMessage(r.get())));
    }
}

std::string PgServer::statement_profile(const std::string& name, double units,
                                        const std::string& unit, int top) const {
    auto c = connect("postgresql://cardsmith@127.0.0.1:" + std::to_string(port_) + "/" + name);
    const std::string mine =
        " FROM bench_stats.pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE "
        "datname = current_database()) AND query NOT LIKE '%pg_stat_statements%'";
    ResultPtr sum(PQexec(c.get(), ("SELECT COALESCE(SUM(calls), 0), COALESCE(SUM(total_exec_time), "
                                   "0), COALESCE(SUM(wal_bytes), 0)" +
                                   mine)
                                      .c_str()),
                  &PQclear);
    ResultPtr rows(
        PQexec(c.get(), ("SELECT calls, total_exec_time, regexp_replace(query, "
                         "'\\s+', ' ', 'g')" +
                         mine + " ORDER BY total_exec_time DESC LIMIT " + std::to_string(top))
                            .c_str()),
        &PQclear);
    if (PQresultStatus(sum.get()) != PGRES_TUPLES_OK ||
        PQresultStatus(rows.get()) != PGRES_TUPLES_OK) {
        return "pg_stat_statements: " + std::string(PQerrorMessage(c.get()));
    }
    const double calls = std::stod(PQgetvalue(sum.get(), 0, 0));
    const double ms = std::stod(PQgetvalue(sum.get(), 0, 1));
    const double wal = std::stod(PQgetvalue(sum.get(), 0, 2));
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "PostgreSQL (pg_stat_statements) per %s: %.1f statements, %.3f ms executing, "
                  "%.1f KB of WAL; by time:",
                  unit.c_str(), calls / units, ms / units, wal / 1024.0 / units);
    std::string out = buf;
    for (int i = 0; i < PQntuples(rows.get()); ++i) {
        std::string query = PQgetvalue(rows.get(), i, 2);
        if (query.size() > 90) {
            query = query.substr(0, 87) + "...";
        }
        std::snprintf(buf, sizeof buf, "\n      %5.2f calls, %6.3f ms  %s",
                      std::stod(PQgetvalue(rows.get(), i, 0)) / units,
                      std::stod(PQgetvalue(rows.get(), i, 1)) / units, query.c_str());
        out += buf;
    }
    return out;
}

std::string PgServer::table_health(const std::string& name, const std::string& table) const {
    auto c = connect("postgresql://cardsmith@127.0.0.1:" + std::to_string(port_) + "/" + name);
    const std::string sql =
        "SELECT n_live_tup, n_dead_tup, vacuum_count + autovacuum_count, autoanalyze_count + "
        "analyze_count FROM pg_stat_user_tables WHERE relname = '" +
        table + "'";
    ResultPtr r(PQexec(c.get(), sql.c_str()), &PQclear);
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK || PQntuples(r.get()) != 1) {
        return table + ": no statistics";
    }
    return table + ": " + PQgetvalue(r.get(), 0, 0) + " live rows, " + PQgetvalue(r.get(), 0, 1) +
           " dead, vacuumed " + PQgetvalue(r.get(), 0, 2) + " and analysed " +
           PQgetvalue(r.get(), 0, 3) + " times since the database was made";
}

std::string PgServer::extra_settings() const {
    std::string out;
    for (const auto& setting : options_.settings) {
        out += ", " + setting;
    }
    return out;
}

double PgServer::cpu_seconds() const {
    if (postmaster_ <= 0) {
        return 0;
    }
    const std::string master = std::to_string(postmaster_);
    double ticks = 0;
    for (const auto& entry : fs::directory_iterator("/proc")) {
        const std::string pid = entry.path().filename().string();
        if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) {
            continue;
        }
        const auto f = stat_fields(pid);  // f[1] = ppid, f[11..14] = utime stime cutime cstime
        if (f.size() <= 14) {
            continue;
        }
        if (pid == master) {
            ticks += std::stod(f[11]) + std::stod(f[12]) + std::stod(f[13]) + std::stod(f[14]);
        } else if (f[1] == master) {
            ticks += std::stod(f[11]) + std::stod(f[12]);
        }
    }
    return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::string PgServer::describe() const {
    return "PostgreSQL " + version_ + " (fsync on, full_page_writes on, synchronous_commit " +
           (options_.synchronous_commit ? "on" : "off") + ", shared_buffers " +
           options_.shared_buffers + extra_settings() + ", other settings default; data in " +
           (options_.dir / "data").string() + ")";
}

}  // namespace cardsmith::bench
