#include "pg_cluster.hpp"

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "pg_local.hpp"

namespace cardsmith::test {
namespace {

namespace fs = std::filesystem;

using pg_local::as_server_user;
using pg_local::bin;
using pg_local::run;

void exec(const std::string& url, const std::string& sql) {
    PGconn* c = PQconnectdb(url.c_str());
    if (PQstatus(c) != CONNECTION_OK) {
        std::string msg = PQerrorMessage(c);
        PQfinish(c);
        throw std::runtime_error("pg_cluster: " + msg);
    }
    PGresult* r = PQexec(c, sql.c_str());
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    std::string msg = ok ? "" : PQresultErrorMessage(r);
    PQclear(r);
    PQfinish(c);
    if (!ok) {
        throw std::runtime_error("pg_cluster: " + sql + ": " + msg);
    }
}

class Cluster {
public:
    Cluster() {
        if (const char* url = std::getenv("CARDSMITH_TEST_PG"); url != nullptr && *url != '\0') {
            url_ = url;
            return;
        }
        dir_ = fs::temp_directory_path() / ("cardsmith-pg-" + std::to_string(::getpid()));
        fs::remove_all(dir_);
        fs::create_directories(dir_ / "run");
        if (geteuid() == 0) {
            (void)run("chown -R postgres: " + dir_.string());
        }
        const std::string data = (dir_ / "data").string();
        if (run(as_server_user(bin("initdb") + " -D " + data +
                               " -U cardsmith -A trust -N -E UTF8 --no-locale >" +
                               (dir_ / "initdb.log").string() + " 2>&1")) != 0) {
            throw std::runtime_error("pg_cluster: initdb failed, see " +
                                     (dir_ / "initdb.log").string());
        }
        port_ = pg_local::free_port();
        const std::string opts = "-p " + std::to_string(port_) + " -k " + (dir_ / "run").string() +
                                 " -c listen_addresses=127.0.0.1 -c fsync=off"
                                 " -c synchronous_commit=off -c full_page_writes=off"
                                 " -c max_connections=200";
        if (run(as_server_user(bin("pg_ctl") + " -D " + data + " -l " +
                               (dir_ / "server.log").string() + " -w -o '" + opts +
                               "' start >/dev/null")) != 0) {
            throw std::runtime_error("pg_cluster: pg_ctl start failed, see " +
                                     (dir_ / "server.log").string());
        }
        started_ = true;
        url_ = "postgresql://cardsmith@127.0.0.1:" + std::to_string(port_) + "/postgres";
    }
    ~Cluster() {
        if (started_) {
            (void)run(as_server_user(bin("pg_ctl") + " -D " + (dir_ / "data").string() +
                                     " -m immediate stop >/dev/null 2>&1"));
        }
        if (!dir_.empty()) {
            std::error_code ec;
            fs::remove_all(dir_, ec);
        }
    }
    Cluster(const Cluster&) = delete;
    Cluster& operator=(const Cluster&) = delete;

    [[nodiscard]] const std::string& url() const { return url_; }

private:
    fs::path dir_;
    int port_ = 0;
    bool started_ = false;
    std::string url_;
};

Cluster& cluster() {
    static Cluster c;  // stopped when the test process exits
    return c;
}

}  // namespace

bool postgres_available() {
    const char* url = std::getenv("CARDSMITH_TEST_PG");
    return (url != nullptr && *url != '\0') || fs::exists(bin("initdb"));
}

std::string fresh_database_url() {
    static std::atomic<int> next{0};
    const std::string schema =
        "t" + std::to_string(::getpid()) + "_" + std::to_string(next.fetch_add(1) + 1);
    const std::string& base = cluster().url();
    exec(base, "CREATE SCHEMA " + schema);
    const char sep = base.find('?') == std::string::npos ? '?' : '&';
    return base + sep + "options=-csearch_path%3D" + schema;
}

}  // namespace cardsmith::test
