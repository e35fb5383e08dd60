// Issue 7's benchmark: transactions per second and a rollout's push rate on SQLite and on
// PostgreSQL, with one and with two `cardsmith serve` instances on the same machine
// sharing one database (SQLite is single-instance: never run with two).
//
// Per configuration: a fresh database (a SQLite file; a new database of a throwaway
// PostgreSQL cluster started by this benchmark with production durability, pg_server.hpp),
// `cardsmith migrate` once, a merchant and programs "till" and "bulk" through the API, N
// cards with one device each seeded straight into the database for the rollout
// (rollout_seed.hpp), then the instances started (each server.threads = cpu_threads =
// --threads, apns.connections 2, log.level warn, server.instance bench-N) against the fake
// APNs in this process.
// Phases: transactions (instances_tx.cpp) and the rollout (instances_rollout.cpp); each
// prints its ceilings from the same run and the ratios, the CPU every party used, and what
// it verified. --matrix runs SQLite x1, PostgreSQL x1 and PostgreSQL x2 and ends with the
// tables for docs/benchmarks.md.
//
// usage: instances_bench [--matrix | --backend sqlite|postgres --instances N]
//                        [--cards T] [--hot-cards H] [--clients K] [--seconds S]
//                        [--rollout-cards N] [--race-pairs P] [--threads N]
//                        [--storage-threads N] [--pg-sync] [--no-tx] [--no-rollout]
//                        [--server CARDSMITH] [--keep]
//                        [--restart-during-rollout F] [--tx-during-rollout K]
//                        [--pg-set NAME=VALUE] [--pg-sql SQL]
//   defaults: --matrix; 10,000 till cards, 4 hot cards, 16 clients, 10 s per run, 100,000
//   rollout cards, 400 race pairs, server.threads = nproc, storage.threads = the server's
//   default (2), PostgreSQL synchronous_commit off (--pg-sync: on).
//   Experiments, off by default: --pg-set name=value (a PostgreSQL setting, repeatable);
//   --pg-sql SQL (run on each fresh database after the migrations, repeatable);
//   --restart-during-rollout F restarts the last instance (SIGTERM, start) once a share F of the
//   devices was pushed; --tx-during-rollout K posts transactions to the rollout's own cards from K
//   clients while it runs (both checked as above: every device pushed, exact balances).
#include "instances_bench.hpp"

#include <openssl/crypto.h>
#include <sqlite3.h>

#include <boost/json.hpp>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/log.hpp"
#include "common/random.hpp"
#include "crypto/dev_certs.hpp"
#include "http_client.hpp"
#include "rollout_seed.hpp"

using namespace cardsmith;
using namespace cardsmith::bench;
namespace fs = std::filesystem;

namespace cardsmith::bench {

CpuMark cpu_mark(const BenchSetup& b) {
    CpuMark m;
    m.at = Clock::now();
    m.servers = b.servers.cpu_seconds();
    m.self = self_cpu_seconds();
    m.pg = b.pg != nullptr ? b.pg->cpu_seconds() : 0;
    m.machine = machine_busy_seconds();
    return m;
}

CpuShare cpu_share(const CpuMark& a, const CpuMark& b) {
    CpuShare s;
    s.wall = secs(b.at - a.at);
    if (s.wall <= 0) {
        return s;
    }
    s.servers = (b.servers - a.servers) / s.wall;
    s.self = (b.self - a.self) / s.wall;
    s.pg = (b.pg - a.pg) / s.wall;
    s.other = std::max(0.0, (b.machine - a.machine) / s.wall - s.servers - s.self - s.pg);
    return s;
}

std::string describe(const CpuShare& s) {
    char buf[160];
    std::snprintf(buf, sizeof buf,
                  "(%.1f s): servers %.2f cores, bench %.2f, PostgreSQL %.2f, other %.2f", s.wall,
                  s.servers, s.self, s.pg, s.other);
    return buf;
}

bool wait_outbox_drained(const std::string& url, std::chrono::seconds timeout) {
    static constexpr const char* kSql =
        "SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'sending')";
    auto c = connect_db(url);
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
        auto st = c->prepare(kSql);
        if (st.step() && st.int64(0) == 0) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
}

}  // namespace cardsmith::bench

namespace {

constexpr const char* kAdminKey = "bench-admin-key-0123456789";
constexpr const char* kUsage =
    "usage: instances_bench [--matrix | --backend sqlite|postgres --instances N]\n"
    "                       [--cards T] [--hot-cards H] [--clients K] [--seconds S]\n"
    "                       [--rollout-cards N] [--race-pairs P] [--threads N]\n"
    "                       [--storage-threads N] [--pg-sync] [--no-tx] [--no-rollout]\n"
    "                       [--server CARDSMITH] [--keep]\n"
    "                       [--restart-during-rollout F] [--tx-during-rollout K]\n"
    "                       [--pg-set NAME=VALUE] [--pg-sql SQL]";

struct Config {
    std::string backend = "sqlite";
    unsigned instances = 1;
};

struct Options {
    std::vector<Config> configs;
    TxOptions tx;
    std::size_t rollout_cards = 100'000;
    double restart_at = 0;   // experiment: RolloutOptions::restart_at
    unsigned tx_during = 0;  // experiment: RolloutOptions::tx_clients
    unsigned threads = 0;    // 0: nproc
    unsigned storage_threads = 0;
    bool pg_sync = false;
    std::vector<std::string> pg_settings;  // --pg-set name=value (experiments)
    std::vector<std::string> pg_sql;       // --pg-sql SQL, run after the migrations
    bool run_tx = true, run_rollout = true;
    std::string binary = CARDSMITH_BINARY;
    bool keep = false;
};

struct ConfigResult {
    Config config;
    TxResult tx;
    RolloutResult rollout;
    std::string errors;
};

Options parse(int argc, char** argv) {
    Options o;
    Config single;
    bool matrix = true;
    std::vector<std::string> args(argv + 1, argv + argc);
    auto value = [&](std::size_t& i) {
        if (i + 1 >= args.size()) {
            throw std::invalid_argument(args[i] + " needs a value");
        }
        return args[++i];
    };
    auto number = [&](std::size_t& i) { return std::stod(value(i)); };
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto& a = args[i];
        if (a == "--matrix") {
            matrix = true;
        } else if (a == "--backend") {
            single.backend = value(i);
            matrix = false;
        } else if (a == "--instances") {
            single.instances = static_cast<unsigned>(number(i));
            matrix = false;
        } else if (a == "--cards") {
            o.tx.cards = static_cast<std::size_t>(number(i));
        } else if (a == "--hot-cards") {
            o.tx.hot_cards = static_cast<std::size_t>(number(i));
        } else if (a == "--clients") {
            o.tx.clients = static_cast<unsigned>(number(i));
        } else if (a == "--seconds") {
            o.tx.seconds = number(i);
        } else if (a == "--rollout-cards") {
            o.rollout_cards = static_cast<std::size_t>(number(i));
        } else if (a == "--restart-during-rollout") {
            o.restart_at = number(i);
        } else if (a == "--tx-during-rollout") {
            o.tx_during = static_cast<unsigned>(number(i));
        } else if (a == "--race-pairs") {
            o.tx.race_pairs = static_cast<std::size_t>(number(i));
        } else if (a == "--threads") {
            o.threads = static_cast<unsigned>(number(i));
        } else if (a == "--storage-threads") {
            o.storage_threads = static_cast<unsigned>(number(i));
        } else if (a == "--pg-set") {
            o.pg_settings.push_back(value(i));
        } else if (a == "--pg-sql") {
            o.pg_sql.push_back(value(i));
        } else if (a == "--pg-sync") {
            o.pg_sync = true;
        } else if (a == "--no-tx") {
            o.run_tx = false;
        } else if (a == "--no-rollout") {
            o.run_rollout = false;
        } else if (a == "--server") {
            o.binary = value(i);
        } else if (a == "--keep") {
            o.keep = true;
        } else if (a == "--help" || a == "-h") {
            throw std::invalid_argument(kUsage);
        } else {
            throw std::invalid_argument("unknown option " + a + "\n" + kUsage);
        }
    }
    if (matrix) {
        o.configs = {{"sqlite", 1}, {"postgres", 1}, {"postgres", 2}};
    } else {
        o.configs = {single};
    }
    for (const auto& c : o.configs) {
        if (c.backend != "sqlite" && c.backend != "postgres") {
            throw std::invalid_argument("--backend: sqlite or postgres");
        }
        if (c.instances == 0 || (c.backend == "sqlite" && c.instances != 1)) {
            throw std::invalid_argument(
                "--instances: SQLite is single-instance (1); PostgreSQL takes 1 or more");
        }
    }
    if (o.tx.cards == 0 || o.tx.hot_cards == 0 || o.tx.clients == 0 || o.tx.seconds <= 0 ||
        o.rollout_cards == 0) {
        throw std::invalid_argument(
            "--cards, --hot-cards, --clients, --seconds, "
            "--rollout-cards must be positive");
    }
    return o;
}

test::Response expect(test::Response r, unsigned status, const std::string& what) {
    if (r.result_int() != status) {
        throw std::runtime_error(what + ": " + std::to_string(r.result_int()) + " " + r.body());
    }
    return r;
}

// Merchant and both programs through instance 0; returns the merchant's key and id.
std::pair<std::string, std::int64_t> create_merchant(InstanceSet& servers) {
    test::Client http(servers.port(0));
    const auto m = test::json_of(expect(
        http.post_json("/api/v1/merchants", {{"name", "Bench"}}, kAdminKey), 201, "merchant"));
    const std::string key = boost::json::value_to<std::string>(m.at("apiKey"));
    for (const char* slug : {kTillSlug, kBulkSlug}) {
        (void)expect(
            http.post_json("/api/v1/programs",
                           {{"slug", slug}, {"name", "Bench"}, {"template", "coffee"}}, key),
            201, std::string("program ") + slug);
    }
    return {key, m.at("id").to_number<std::int64_t>()};
}

void seed(const std::string& url, const std::string& sqlite_path, std::size_t cards) {
    SeedOptions so;
    so.db = sqlite_path;
    so.program_id = query_number(url, "SELECT id FROM programs WHERE slug = 'bulk'");
    so.design_version =
        query_number(url, "SELECT design_version FROM programs WHERE slug = 'bulk'");
    so.cards = cards;
    so.pass_type_id = kPassType;
    so.salt = random::uniform(UINT64_MAX);
    const auto r = sqlite_path.empty() ? seed_cards_postgres(so, url) : seed_cards(so);
    std::printf(
        "  seeded %zu cards with one device each on program %s straight into the database "
        "(%zu transactions, %.1f s)\n",
        r.cards, kBulkSlug, r.transactions, r.seconds);
}

ConfigResult run_config(const Options& o, const Config& c, const fs::path& dir,
                        const fs::path& certs, PgServer* pg) {
    ConfigResult result;
    result.config = c;
    const std::string name = c.backend + "-x" + std::to_string(c.instances);
    const fs::path here = dir / name;
    fs::create_directories(here);
    const std::string db_name = "bench_" + std::to_string(c.instances);
    const std::string sqlite_path = c.backend == "sqlite" ? (here / "cardsmith.db").string() : "";
    const std::string url =
        c.backend == "sqlite" ? "sqlite:" + sqlite_path : pg->create_database(db_name);
    std::printf("\n== %s: %u instance(s) on %s; load average %s\n",
                c.backend == "sqlite" ? "SQLite" : "PostgreSQL", c.instances,
                c.backend == "sqlite" ? sqlite_path.c_str() : url.c_str(), load_average().c_str());
    testing::FakeApnsOptions fo;
    fo.cert_file = (certs / "server.pem").string();
    fo.key_file = (certs / "server.key").string();
    fo.ca_file = (certs / "root-ca.pem").string();
    fo.record = true;
    testing::FakeApns fake(fo);
    InstanceSetOptions so;
    so.binary = o.binary;
    so.dir = here;
    so.certs = certs;
    so.templates_dir = std::string(CARDSMITH_BENCH_SOURCE_DIR) + "/templates";
    so.storage_url = url;
    so.admin_key = kAdminKey;
    so.instances = c.instances;
    so.threads = o.threads > 0 ? o.threads : std::max(1u, std::thread::hardware_concurrency());
    so.storage_threads = o.storage_threads;
    so.apns_port = fake.port();
    InstanceSet servers(so);
    servers.migrate();
    for (const auto& sql : o.pg_sql) {
        if (pg != nullptr) {
            pg->run_sql(db_name, sql);
            std::printf("  after the migrations: %s\n", sql.c_str());
        }
    }
    servers.start(1);
    const auto [key, merchant] = create_merchant(servers);
    servers.stop();
    if (o.run_rollout) {
        seed(url, sqlite_path, o.rollout_cards);
    }
    servers.start(c.instances);
    net::io_context ioc(1);
    BenchSetup b{servers, fake, pg, db_name, url, key, merchant, certs, ioc};
    if (o.run_tx) {
        std::printf(" -- transactions: %u clients, %.0f s per run\n", o.tx.clients, o.tx.seconds);
        result.tx = run_transactions(b, o.tx);
    }
    if (o.run_rollout) {
        std::printf(" -- rollout of a redesign to %zu devices\n", o.rollout_cards);
        RolloutOptions ro;
        ro.cards = o.rollout_cards;
        ro.restart_at = o.restart_at;
        ro.tx_clients = o.tx_during;
        result.rollout = run_rollout(b, ro);
    }
    result.errors = servers.error_lines();
    std::printf("  server error lines: %s; load average %s\n", result.errors.c_str(),
                load_average().c_str());
    servers.stop();
    if (pg != nullptr && !o.keep) {
        pg->drop_database(db_name);
    }
    return result;
}

std::string instances_split(const std::vector<double>& v) {
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i) {
        out += (i == 0 ? "" : " / ") + std::to_string(std::llround(v[i]));
    }
    return out;
}

void print_tables(const Options& o, const std::vector<ConfigResult>& results) {
    if (o.run_tx) {
        std::printf(
            "\n| storage x instances | ceiling: GET /healthz | ceiling: store, uniform | POST "
            "transactions, uniform: tx/s (p50 / p99 ms) | of store / of HTTP | ceiling: store, "
            "%zu hot cards | POST, %zu hot cards: tx/s (p50 / p99 ms) | of store | other "
            "processes (uniform / hot) | verified |\n|---|---|---|---|---|---|---|---|---|---|\n",
            o.tx.hot_cards, o.tx.hot_cards);
    }
    for (const auto& r : results) {
        if (!o.run_tx) {
            break;
        }
        const auto& t = r.tx;
        std::printf(
            "| %s x%u | %.0f/s | %.0f/s | **%.0f** (%.1f / %.1f) | %.0f%% / %.0f%% | %.0f/s | "
            "**%.0f** (%.1f / %.1f) | %.0f%% | %.2f / %.2f cores | %s |\n",
            r.config.backend.c_str(), r.config.instances, t.http_ceiling.rate, t.store_uniform.rate,
            t.uniform.rate, t.uniform.p50, t.uniform.p99,
            100 * t.uniform.rate / t.store_uniform.rate, 100 * t.uniform.rate / t.http_ceiling.rate,
            t.store_hot.rate, t.hot.rate, t.hot.p50, t.hot.p99, 100 * t.hot.rate / t.store_hot.rate,
            t.uniform.cpu.other, t.hot.cpu.other, t.verified ? "yes" : "**NO**");
    }
    if (o.run_rollout) {
        std::printf(
            "\n| storage x instances | rollout to | ceiling: apns::Client | last push after the "
            "PATCH | pushes/s | of ceiling | delivered by instance | extra answers | outbox peak "
            "| CPU: servers / PostgreSQL / other | verified "
            "|\n|---|---|---|---|---|---|---|---|---|---|---|\n");
    }
    for (const auto& r : results) {
        if (!o.run_rollout) {
            break;
        }
        const auto& x = r.rollout;
        std::printf(
            "| %s x%u | %zu devices | %.0f/s | %.1f s | **%.0f** | %.1f%% | %s | %zu | %zu | "
            "%.2f / %.2f / %.2f cores | %s |\n",
            r.config.backend.c_str(), r.config.instances, x.devices, x.ceiling, x.last_push, x.rate,
            100 * x.rate / x.ceiling, instances_split(x.by_instance).c_str(), x.answers - x.pushed,
            x.outbox_peak, x.cpu.servers, x.cpu.pg, x.cpu.other, x.verified ? "yes" : "**NO**");
    }
}

int run(int argc, char** argv) {
    const Options o = parse(argc, argv);
    log::set_level(log::Level::warn);
    std::string command;
    for (int i = 0; i < argc; ++i) {
        command += (i > 0 ? " " : "") + std::string(argv[i]);
    }
    std::printf("machine: %u cores (nproc), %s; load average %s\n",
                std::thread::hardware_concurrency(), cpu_model().c_str(), load_average().c_str());
    std::printf("command: %s\n", command.c_str());
    std::printf("build: GCC %s, %s, SQLite %s\n", __VERSION__, OpenSSL_version(OPENSSL_VERSION),
                sqlite3_libversion());
    const fs::path dir =
        fs::temp_directory_path() / ("cardsmith-instances-bench-" + random::hex(6));
    fs::create_directories(dir);
    const fs::path certs = dir / "certs";
    crypto::make_dev_certs(certs, {});
    std::unique_ptr<PgServer> pg;
    bool ok = true;
    try {
        for (const auto& c : o.configs) {
            if (c.backend == "postgres" && !pg) {
                PgServerOptions po;
                po.dir = dir / "pg";
                po.synchronous_commit = o.pg_sync;
                po.settings = o.pg_settings;
                pg = std::make_unique<PgServer>(po);
                std::printf("database server: %s\n", pg->describe().c_str());
            }
        }
        std::vector<ConfigResult> results;
        for (const auto& c : o.configs) {
            results.push_back(
                run_config(o, c, dir, certs, c.backend == "postgres" ? pg.get() : nullptr));
            ok = ok && (!o.run_tx || results.back().tx.verified) &&
                 (!o.run_rollout || results.back().rollout.verified);
        }
        print_tables(o, results);
    } catch (...) {
        std::printf("kept %s\n", dir.c_str());
        throw;
    }
    pg.reset();
    if (o.keep) {
        std::printf("kept %s\n", dir.c_str());
    } else {
        fs::remove_all(dir);
    }
    return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    try {
        return run(argc, argv);
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "instances_bench: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "instances_bench: %s\n", e.what());
        return 1;
    }
}
