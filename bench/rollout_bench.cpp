// A design rollout over N cards with N registered devices (issue 6): the real server
// (`cardsmith serve`, a child process, SQLite) pushing to the fake APNs running inside
// this process, so the fake's answer times and this process's clock are the same
// steady_clock. Goal for N = 1,000,000 on the 2-core machine: every device pushed within 2
// minutes of the PATCH, the server's resident memory under 512 MB throughout.
//
// Set-up: a merchant and program "bench" (template coffee) through the API; then, with the
// server stopped, N cards, N devices and N registrations (one device per card, wallet
// 'apple', distinct 64-hex tokens) inserted straight into its SQLite database in big
// transactions (rollout_seed.hpp: the API would take hours, and none of it is measured).
// Ceiling from the same run: apns::Client in this process sending N pushes to the same
// fake over as many connections as the server uses, 1000 in flight (push_bench's).
//
// Measured from sending `PATCH /api/v1/programs/bench/design` (a new background colour,
// which starts the rollout): the last card re-tagged (the rollout's finished_at), the
// fake's first and last 200 answer, pushes/s, every device answered 200 at least once;
// the server's VmRSS every 100 ms (peak, final; VmHWM too), the database and WAL sizes
// every 100 ms (before, peak, after), the outbox rows every second (SELECT COUNT(*) on a
// read-only connection), the CPU of the server, of this process and of everything else
// (/proc/stat), the server's reads and writes (/proc/<pid>/io), and the latency of
// `GET /api/v1/rollouts/{id}` polled every 250 ms while it runs.
//
// usage: rollout_bench [--cards N] [--chunk N] [--apns-connections N] [--threads N]
//                      [--storage-threads N] [--cards-per-second N]
//                      [--timeout S] [--server CARDSMITH] [--keep] [--sorted-tokens]
//   defaults: 1,000,000 cards; [rollouts] chunk unset (the server's default, 2000);
//   apns.connections 2; server.threads = cpu_threads = nproc; storage.threads unset
//   (the server's default, 2); rollouts.cards_per_second unset (no limit); give up 1800 s
//   after the PATCH; --keep leaves the temp folder (database, server.log, timeline.csv);
//   --sorted-tokens (diagnosis): push tokens increasing with the card, as push_bench's.
#include <openssl/crypto.h>
#include <sqlite3.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "apns_load.hpp"
#include "bench_process.hpp"
#include "common/log.hpp"
#include "common/random.hpp"
#include "crypto/dev_certs.hpp"
#include "fake_apns.hpp"
#include "http_client.hpp"
#include "rollout_sampler.hpp"
#include "rollout_seed.hpp"

using namespace cardsmith;
using namespace cardsmith::bench;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr const char* kPassType = "pass.dev.cardsmith";  // the server's default identity
constexpr const char* kAdminKey = "bench-admin-key-0123456789";
constexpr const char* kSlug = "bench";
constexpr const char* kUsage =
    "usage: rollout_bench [--cards N] [--chunk N] [--apns-connections N] [--threads N]\n"
    "                     [--storage-threads N] [--cards-per-second N]\n"
    "                     [--timeout S] [--server CARDSMITH] [--keep] [--sorted-tokens]";

struct Options {
    std::size_t cards = 1'000'000;
    int chunk = 0;             // 0: the server's default
    int cards_per_second = 0;  // 0: the server's default (no limit)
    unsigned apns_connections = 2;
    unsigned threads = 0;          // 0: nproc
    unsigned storage_threads = 0;  // 0: the server's default (2)
    double timeout = 1800;
    std::string binary = CARDSMITH_BINARY;
    bool keep = false;
    bool sorted_tokens = false;  // diagnosis (rollout_seed.hpp)
};

double mb(double bytes) { return bytes / (1024.0 * 1024.0); }

double percentile(std::vector<double> v, double p) {
    if (v.empty()) {
        return 0;
    }
    std::sort(v.begin(), v.end());
    const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size())));
    return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

std::int64_t unix_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::uintmax_t size_of(const fs::path& p) {
    std::error_code ec;
    const auto n = fs::file_size(p, ec);
    return ec ? 0 : n;
}

// Read-only queries on the server's database (WAL: they do not disturb the server).
class ReadOnlyDb {
public:
    explicit ReadOnlyDb(const fs::path& path) {
        if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
            sqlite3_close_v2(db_);
            throw std::runtime_error("cannot open " + path.string());
        }
        sqlite3_busy_timeout(db_, 5000);
    }
    ~ReadOnlyDb() { sqlite3_close_v2(db_); }
    ReadOnlyDb(const ReadOnlyDb&) = delete;
    ReadOnlyDb& operator=(const ReadOnlyDb&) = delete;

    // The first row's columns as text.
    std::vector<std::string> row(const std::string& sql) {
        sqlite3_stmt* st = nullptr;
        if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
            throw std::runtime_error(sql + ": " + sqlite3_errmsg(db_));
        }
        std::vector<std::string> out;
        if (sqlite3_step(st) == SQLITE_ROW) {
            for (int i = 0; i < sqlite3_column_count(st); ++i) {
                const auto* p = sqlite3_column_text(st, i);
                out.emplace_back(p == nullptr ? "" : reinterpret_cast<const char*>(p));
            }
        }
        sqlite3_finalize(st);
        return out;
    }
    std::int64_t number(const std::string& sql) {
        const auto r = row(sql);
        return r.empty() || r[0].empty() ? 0 : std::stoll(r[0]);
    }

private:
    sqlite3* db_ = nullptr;
};

// "pending 12, sending 3": the outbox rows by state.
std::string outbox_states(const fs::path& db) {
    ReadOnlyDb r(db);
    const auto text = r.row(
        "SELECT COALESCE(group_concat(state || ' ' || n, ', '), 'empty') FROM (SELECT state, "
        "COUNT(*) AS n FROM outbox GROUP BY state ORDER BY state)");
    return text.empty() ? "?" : text[0];
}

// Error lines the server logged so far: their number and the first one.
std::string server_errors(const fs::path& log_file) {
    std::istringstream in(read_text(log_file));
    std::size_t n = 0;
    std::string first;
    for (std::string line; std::getline(in, line);) {
        if (line.find(" error ") != std::string::npos) {
            if (n++ == 0) {
                first = line;
            }
        }
    }
    return n == 0 ? "none" : std::to_string(n) + ", first: " + first;
}

struct Bench {
    Options opt;
    unsigned threads = 1;
    fs::path dir, certs, config, db, port_file, log;
    std::unique_ptr<testing::FakeApns> fake;
    std::unique_ptr<ServerProcess> server;
    std::string merchant_key;
};

void write_config(const Bench& b) {
    std::ofstream out(b.config);
    out << "[server]\nlisten = \"127.0.0.1:0\"\n"
        << "port_file = \"" << b.port_file.string() << "\"\n"
        << "threads = " << b.threads << "\ncpu_threads = " << b.threads << "\n"
        << "[storage]\nurl = \"sqlite:" << b.db.string() << "\"\n"
        << (b.opt.storage_threads > 0 ? "threads = " + std::to_string(b.opt.storage_threads) + "\n"
                                      : std::string())
        << "[admin]\nkey = \"" << kAdminKey << "\"\n"
        << "[apple]\n"
        << "cert = \"" << (b.certs / "pass.pem").string() << "\"\n"
        << "key = \"" << (b.certs / "pass.key").string() << "\"\n"
        << "wwdr = \"" << (b.certs / "wwdr.pem").string() << "\"\n"
        << "[templates]\ndir = \"" << CARDSMITH_BENCH_SOURCE_DIR << "/templates\"\n"
        << "[apns]\nhost = \"127.0.0.1\"\nport = " << b.fake->port() << "\n"
        << "ca_file = \"" << (b.certs / "root-ca.pem").string() << "\"\n"
        << "connections = " << b.opt.apns_connections << "\n";
    if (b.opt.chunk > 0 || b.opt.cards_per_second > 0) {
        out << "[rollouts]\n";
        if (b.opt.chunk > 0) {
            out << "chunk = " << b.opt.chunk << "\n";
        }
        if (b.opt.cards_per_second > 0) {
            out << "cards_per_second = " << b.opt.cards_per_second << "\n";
        }
    }
    out << "[log]\nlevel = \"warn\"\n";
    // The server's throughput, not its abuse limits, is measured.
    out << "[limits]\nip_per_minute = 0\nkey_per_minute = 0\nauth_failures = 0\n"
        << "joins_per_hour = 0\n";
}

void start_server(Bench& b) {
    b.server = std::make_unique<ServerProcess>(b.opt.binary, b.config, b.port_file, b.log);
}

void stop_server(Bench& b) {
    const int status = b.server->stop();
    b.server.reset();
    if (status != 0) {
        throw std::runtime_error("server exited with " + std::to_string(status));
    }
}

test::Response expect(test::Response r, unsigned status, const std::string& what) {
    if (r.result_int() != status) {
        throw std::runtime_error(what + ": " + std::to_string(r.result_int()) + " " + r.body());
    }
    return r;
}

// Merchant and program through the API; cards and devices straight into SQLite.
void set_up(Bench& b) {
    start_server(b);
    {
        test::Client http(b.server->port());
        auto merchant = expect(http.post_json("/api/v1/merchants", {{"name", "Bench"}}, kAdminKey),
                               201, "create merchant");
        b.merchant_key = json::value_to<std::string>(test::json_of(merchant).at("apiKey"));
        (void)expect(http.post_json("/api/v1/programs",
                                    {{"slug", kSlug}, {"name", "Bench"}, {"template", "coffee"}},
                                    b.merchant_key),
                     201, "create program");
    }
    stop_server(b);

    std::int64_t program = 0, version = 0;
    {
        ReadOnlyDb r(b.db);
        const auto row = r.row(
            std::string("SELECT id, design_version FROM programs WHERE slug = '") + kSlug + "'");
        if (row.size() != 2) {
            throw std::runtime_error("program not found in the database");
        }
        program = std::stoll(row[0]);
        version = std::stoll(row[1]);
    }
    SeedOptions so;
    so.db = b.db;
    so.program_id = program;
    so.design_version = version;
    so.cards = b.opt.cards;
    so.pass_type_id = kPassType;
    so.salt = random::uniform(UINT64_MAX);
    so.sorted_tokens = b.opt.sorted_tokens;
    const auto seeded = seed_cards(so);
    std::printf(
        "set-up: merchant and program \"%s\" (template coffee, design version %lld) via the API; "
        "then, the server stopped, %zu cards, %zu devices and %zu registrations (one device per "
        "card, wallet apple, %s, distinct 64-hex tokens%s) inserted straight into its SQLite "
        "database in %zu transactions, %.1f s. (The set-up bypasses the API because creating a "
        "million cards and registering a million devices through it would take about 5 minutes "
        "at push_bench's 6,200-6,500/s, none of it measured here.)\n",
        kSlug, static_cast<long long>(version), seeded.cards, seeded.cards, seeded.registrations,
        kPassType, b.opt.sorted_tokens ? " increasing with the card (--sorted-tokens)" : "",
        seeded.transactions, seeded.seconds);
}

struct RolloutRow {
    std::int64_t started = 0, finished = 0, cards_total = 0, cards_done = 0, devices_total = 0,
                 queued = 0;
    std::string state;
};

RolloutRow read_rollout(const fs::path& db, std::int64_t id) {
    ReadOnlyDb r(db);
    const auto row = r.row(
        "SELECT COALESCE(started_at, 0), COALESCE(finished_at, 0), cards_total, cards_done, "
        "devices_total, pushes_queued, state FROM rollouts WHERE id = " +
        std::to_string(id));
    if (row.size() != 7) {
        throw std::runtime_error("rollout " + std::to_string(id) + " not in the database");
    }
    return {std::stoll(row[0]),
            std::stoll(row[1]),
            std::stoll(row[2]),
            std::stoll(row[3]),
            std::stoll(row[4]),
            std::stoll(row[5]),
            row[6]};
}

void print_progress(const Sample& s, const std::string& state) {
    std::printf(
        "  t=%5.1f s  %-8s cards %8lld  answered %8zu  outbox %8lld rows  RSS %4ld MB  db %5.0f MB"
        "  WAL %5.0f MB\n",
        s.t, state.c_str(), static_cast<long long>(s.cards_done), s.answered,
        static_cast<long long>(s.outbox), s.rss_kb / 1024, mb(static_cast<double>(s.db_bytes)),
        mb(static_cast<double>(s.wal_bytes)));
}

void write_timeline(const fs::path& file, const std::vector<Sample>& samples) {
    std::ofstream out(file);
    out << "t_s,rss_kb,db_bytes,wal_bytes,answered,outbox_rows,cards_done\n";
    for (const auto& s : samples) {
        out << s.t << ',' << s.rss_kb << ',' << s.db_bytes << ',' << s.wal_bytes << ','
            << s.answered << ',' << s.outbox << ',' << s.cards_done << '\n';
    }
}

// What /proc says about the server (and this process, and the machine) at one moment.
struct Counters {
    Clock::time_point at;
    double server_cpu = 0, self_cpu = 0, machine_busy = 0;
    double rchar = 0, wchar = 0, disk = 0;  // the server's /proc/<pid>/io
};

Counters read_counters(pid_t server) {
    return {Clock::now(),
            process_cpu_seconds(server),
            self_cpu_seconds(),
            machine_busy_seconds(),
            proc_io_bytes(server, "rchar"),
            proc_io_bytes(server, "wchar"),
            proc_io_bytes(server, "write_bytes")};
}

// The rollout the PATCH started.
struct Started {
    std::int64_t id = 0;
    std::size_t devices = 0;
};

Started patch_design(test::Client& http, const std::string& key, Clock::time_point t0) {
    const auto patched = expect(
        http.request(test::bhttp::verb::patch, std::string("/api/v1/programs/") + kSlug + "/design",
                     R"({"colors":{"background":"#0A5C36"}})",
                     {{"Authorization", "Bearer " + key}, {"Content-Type", "application/json"}}),
        200, "PATCH design");
    const double patch_s = secs(Clock::now() - t0);
    const auto body = test::json_of(patched);
    if (body.at("rollout").is_null()) {
        throw std::runtime_error("the PATCH started no rollout: " + patched.body());
    }
    const auto& r = body.at("rollout");
    Started out{r.at("id").to_number<std::int64_t>(),
                static_cast<std::size_t>(r.at("devicesTotal").to_number<std::int64_t>())};
    std::printf(
        "PATCH /api/v1/programs/%s/design {\"colors\":{\"background\":\"#0A5C36\"}}: 200 in "
        "%.2f s; rollout %lld of %lld cards to %zu devices\n",
        kSlug, patch_s, static_cast<long long>(out.id),
        static_cast<long long>(r.at("cardsTotal").to_number<std::int64_t>()), out.devices);
    return out;
}

// Polls GET /api/v1/rollouts/{id} every 250 ms until the rollout is done and the fake has
// answered 200 `devices` times; a progress line every 10 s. Returns the GET latencies (ms).
std::vector<double> wait_for_rollout(Bench& b, test::Client& http, const Started& rollout,
                                     RolloutSampler& sampler, Clock::time_point t0) {
    const std::map<std::string, std::string> auth{{"Authorization", "Bearer " + b.merchant_key}};
    const std::string target = "/api/v1/rollouts/" + std::to_string(rollout.id);
    std::vector<double> get_ms;
    auto next_print = t0 + std::chrono::seconds(10);
    const auto deadline = t0 + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(b.opt.timeout));
    for (;;) {
        const auto at = Clock::now();
        const auto got =
            expect(http.request(test::bhttp::verb::get, target, "", auth), 200, "GET rollout");
        get_ms.push_back(secs(Clock::now() - at) * 1000.0);
        const auto r = test::json_of(got);
        const auto state = json::value_to<std::string>(r.at("state"));
        sampler.cards_done = r.at("cardsDone").to_number<std::int64_t>();
        if (state != "running" && state != "done") {
            throw std::runtime_error("rollout " + state + ": " + got.body());
        }
        if (state == "done" && b.fake->count_ok() >= rollout.devices) {
            return get_ms;
        }
        if (Clock::now() >= next_print) {
            print_progress(sampler.last(), state);
            next_print += std::chrono::seconds(10);
        }
        if (Clock::now() > deadline) {
            print_progress(sampler.last(), state);
            sampler.stop();
            write_timeline(b.dir / "timeline.csv", sampler.samples());
            throw std::runtime_error("gave up " + std::to_string(b.opt.timeout) +
                                     " s after the PATCH; outbox " + outbox_states(b.db) +
                                     "; server error lines: " + server_errors(b.log));
        }
        std::this_thread::sleep_until(at + std::chrono::milliseconds(250));
    }
}

// The fake's record: answers, 200s, distinct tokens answered 200, first and last 200.
struct Answers {
    std::size_t all = 0, ok = 0, tokens = 0;
    Clock::time_point first = Clock::time_point::max(), last = Clock::time_point::min();
};

Answers answers_of(const testing::FakeApns& fake) {
    const auto pushes = fake.pushes();
    Answers a;
    a.all = pushes.size();
    std::unordered_set<std::string> tokens;
    tokens.reserve(pushes.size());
    for (const auto& p : pushes) {
        if (p.status == 200) {
            ++a.ok;
            a.first = std::min(a.first, p.at);
            a.last = std::max(a.last, p.at);
            tokens.insert(p.device_token);
        }
    }
    a.tokens = tokens.size();
    return a;
}

// Sizes and memory before the PATCH and after the outbox drained.
struct Footprint {
    long rss_kb = 0, hwm_kb = 0;
    std::uintmax_t db = 0, wal = 0;
};

Footprint footprint(pid_t server, const fs::path& db) {
    return {proc_status_kb(server, "VmRSS"), proc_status_kb(server, "VmHWM"), size_of(db),
            size_of(db.string() + "-wal")};
}

void print_pushes(const RolloutRow& row, const Answers& a, const Started& rollout,
                  Clock::time_point t0, std::int64_t t0_unix, double ceiling) {
    const double done_s = static_cast<double>(row.finished - t0_unix) / 1000.0;
    const double first_s = secs(a.first - t0), last_s = secs(a.last - t0);
    const double rate = static_cast<double>(a.tokens) / last_s;
    const double sending = secs(a.last - a.first);
    std::printf(
        "rollout: %lld of %lld cards re-tagged, %lld pushes queued; started %.2f s, last card "
        "re-tagged (done) %.2f s after the PATCH: %.0f cards/s\n",
        static_cast<long long>(row.cards_done), static_cast<long long>(row.cards_total),
        static_cast<long long>(row.queued), static_cast<double>(row.started - t0_unix) / 1000.0,
        done_s, static_cast<double>(row.cards_done) / done_s);
    std::printf(
        "pushes: %zu of %zu devices answered 200 (%zu answers, %zu of them 200); first %.2f s, "
        "last %.2f s after the PATCH: %.0f pushes/s from the PATCH (%.1f%% of the apns::Client "
        "ceiling %.0f/s), first to last %.2f s = %.0f/s; goal < 120 s: %s\n",
        a.tokens, rollout.devices, a.all, a.ok, first_s, last_s, rate, 100.0 * rate / ceiling,
        ceiling, sending, static_cast<double>(a.tokens) / sending,
        last_s < 120 && a.tokens == rollout.devices ? "met" : "MISSED");
}

void print_resources(const RolloutSampler& s, const Footprint& before, const Footprint& after,
                     const fs::path& db) {
    std::printf(
        "outbox: peak %.0f rows at %.1f s (COUNT(*) every 1 s, %zu counts, mean %.0f ms, max %.0f "
        "ms); empty %s after the PATCH; now %s\n",
        s.outbox.value, s.outbox.t, s.counts,
        s.counts > 0 ? s.count_ms_sum / static_cast<double>(s.counts) : 0.0, s.count_ms_max,
        s.outbox_empty_at < 0 ? "(never seen non-empty)"
                              : (std::to_string(std::lround(s.outbox_empty_at)) + " s").c_str(),
        outbox_states(db).c_str());
    std::printf(
        "server RSS (VmRSS every 100 ms): before the PATCH %ld MB, peak %.0f MB at %.1f s, after "
        "the outbox drained %ld MB; VmHWM %ld MB; goal < 512 MB: %s\n",
        before.rss_kb / 1024, s.rss_kb.value / 1024, s.rss_kb.t, after.rss_kb / 1024,
        after.hwm_kb / 1024, after.hwm_kb < 512 * 1024 ? "met" : "MISSED");
    std::printf(
        "disk: before db %.0f MB + WAL %.0f MB; peak db %.0f MB (at %.1f s), WAL %.0f MB (at %.1f "
        "s), db + WAL %.0f MB (at %.1f s); after the drain db %.0f MB + WAL %.0f MB\n",
        mb(static_cast<double>(before.db)), mb(static_cast<double>(before.wal)),
        mb(s.db_bytes.value), s.db_bytes.t, mb(s.wal_bytes.value), s.wal_bytes.t,
        mb(s.total_bytes.value), s.total_bytes.t, mb(static_cast<double>(after.db)),
        mb(static_cast<double>(after.wal)));
}

void print_cpu_and_io(const Counters& c0, const Counters& c1, std::size_t devices) {
    const double wall = secs(c1.at - c0.at);
    const double server = c1.server_cpu - c0.server_cpu, self = c1.self_cpu - c0.self_cpu;
    const double other = std::max(0.0, c1.machine_busy - c0.machine_busy - server - self);
    std::printf(
        "CPU from the PATCH until all were answered and the rollout done (%.1f s): server %.1f s "
        "(%.2f cores), bench + fake %.1f s (%.2f cores), other processes %.1f s (%.2f cores)\n",
        wall, server, server / wall, self, self / wall, other, other / wall);
    std::printf(
        "server I/O meanwhile (/proc/<pid>/io): read() %.2f GB, write() %.2f GB (%.1f KB per "
        "device), to the disk %.2f GB\n",
        (c1.rchar - c0.rchar) / 1e9, (c1.wchar - c0.wchar) / 1e9,
        (c1.wchar - c0.wchar) / 1024.0 / static_cast<double>(devices), (c1.disk - c0.disk) / 1e9);
}

// The PATCH, the wait, and the report; throws unless every card moved and every device
// got a 200.
void rollout(Bench& b, double ceiling) {
    const pid_t pid = b.server->pid();
    const Footprint before = footprint(pid, b.db);
    RolloutSampler sampler(pid, b.db, *b.fake);
    test::Client http(b.server->port());

    const Counters c0 = read_counters(pid);
    const auto t0 = c0.at;
    const std::int64_t t0_unix = unix_ms();
    sampler.start(t0);
    const Started started = patch_design(http, b.merchant_key, t0);
    const auto get_ms = wait_for_rollout(b, http, started, sampler, t0);
    const Counters c1 = read_counters(pid);

    // Outcomes are written back in batches after the answers: wait for the outbox to empty.
    const auto drain_deadline = Clock::now() + std::chrono::seconds(120);
    while (sampler.outbox_rows() != 0 && Clock::now() < drain_deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // one more memory sample
    const Footprint after = footprint(pid, b.db);
    sampler.stop();
    write_timeline(b.dir / "timeline.csv", sampler.samples());

    const auto row = read_rollout(b.db, started.id);
    const auto answers = answers_of(*b.fake);
    print_pushes(row, answers, started, t0, t0_unix, ceiling);
    print_resources(sampler, before, after, b.db);
    print_cpu_and_io(c0, c1, started.devices);
    std::printf(
        "GET /api/v1/rollouts/%lld every 250 ms meanwhile: %zu requests, p50 %.1f ms, p99 %.1f ms, "
        "max %.1f ms\n",
        static_cast<long long>(started.id), get_ms.size(), percentile(get_ms, 0.5),
        percentile(get_ms, 0.99), percentile(get_ms, 1.0));
    if (answers.tokens != started.devices || row.cards_done != row.cards_total) {
        throw std::runtime_error("not every device was pushed or not every card moved");
    }
}

// After a clean stop the WAL is checkpointed and removed: the database file alone, and
// how much of it is free pages (the outbox's rows and index entries, deleted).
void after_stop(Bench& b) {
    stop_server(b);
    const fs::path wal = b.db.string() + "-wal";
    const std::string wal_left =
        fs::exists(wal) ? std::to_string(size_of(wal) / 1024) + " KB" : std::string("gone");
    const auto db_bytes = size_of(b.db);
    ReadOnlyDb r(b.db);
    const auto page = r.number("PRAGMA page_size");
    const auto pages = r.number("PRAGMA page_count");
    const auto free_pages = r.number("PRAGMA freelist_count");
    std::printf(
        "after a clean stop: db %.0f MB (%lld pages of %lld bytes, %lld free = %.0f MB), WAL %s\n",
        mb(static_cast<double>(db_bytes)), static_cast<long long>(pages),
        static_cast<long long>(page), static_cast<long long>(free_pages),
        mb(static_cast<double>(free_pages * page)), wal_left.c_str());
}

Options parse(int argc, char** argv) {
    Options o;
    std::vector<std::string> args(argv + 1, argv + argc);
    auto number = [&](std::size_t& i) {
        if (i + 1 >= args.size()) {
            throw std::invalid_argument(args[i] + " needs a value");
        }
        return std::stod(args[++i]);
    };
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto& a = args[i];
        if (a == "--cards") {
            o.cards = static_cast<std::size_t>(number(i));
        } else if (a == "--chunk") {
            o.chunk = static_cast<int>(number(i));
        } else if (a == "--cards-per-second") {
            o.cards_per_second = static_cast<int>(number(i));
        } else if (a == "--apns-connections") {
            o.apns_connections = static_cast<unsigned>(number(i));
        } else if (a == "--storage-threads") {
            o.storage_threads = static_cast<unsigned>(number(i));
        } else if (a == "--threads") {
            o.threads = static_cast<unsigned>(number(i));
        } else if (a == "--timeout") {
            o.timeout = number(i);
        } else if (a == "--server" && i + 1 < args.size()) {
            o.binary = args[++i];
        } else if (a == "--keep") {
            o.keep = true;
        } else if (a == "--sorted-tokens") {
            o.sorted_tokens = true;
        } else if (a == "--help" || a == "-h") {
            throw std::invalid_argument(kUsage);
        } else {
            throw std::invalid_argument("unknown option " + a + "\n" + kUsage);
        }
    }
    if (o.cards == 0 || o.apns_connections == 0) {
        throw std::invalid_argument("--cards and --apns-connections must be positive");
    }
    return o;
}

void run(Bench& b, int argc, char** argv) {
    log::set_level(log::Level::warn);  // the in-process apns::Client's connection lines
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    b.threads = b.opt.threads > 0 ? b.opt.threads : cores;
    std::string command;
    for (int i = 0; i < argc; ++i) {
        command += (i > 0 ? " " : "") + std::string(argv[i]);
    }
    std::printf("machine: %u cores (nproc), %s; load average %s\n", cores, cpu_model().c_str(),
                load_average().c_str());
    std::printf("command: %s\n", command.c_str());
    std::printf("build: GCC %s, %s, SQLite %s (this process)\n", __VERSION__,
                OpenSSL_version(OPENSSL_VERSION), sqlite3_libversion());

    b.dir = fs::temp_directory_path() / ("cardsmith-rollout-bench-" + random::hex(6));
    b.certs = b.dir / "certs";
    b.config = b.dir / "cardsmith.toml";
    b.db = b.dir / "cardsmith.db";
    b.port_file = b.dir / "port";
    b.log = b.dir / "server.log";
    fs::create_directories(b.dir);
    crypto::make_dev_certs(b.certs, {});
    testing::FakeApnsOptions fo;
    fo.cert_file = (b.certs / "server.pem").string();
    fo.key_file = (b.certs / "server.key").string();
    fo.ca_file = (b.certs / "root-ca.pem").string();
    fo.record = true;  // every device's token, to check each got its push
    b.fake = std::make_unique<testing::FakeApns>(fo);
    write_config(b);
    std::printf(
        "server: %s serve (Release, SQLite in %s, server.threads = cpu_threads = %u, "
        "storage.threads = %s, apns.connections = %u, rollouts.chunk = %s%s, log.level = "
        "warn); fake APNs in this process: 1 thread, 1000 streams/connection, client "
        "certificate required, pushes recorded\n",
        b.opt.binary.c_str(), b.dir.c_str(), b.threads,
        b.opt.storage_threads > 0 ? std::to_string(b.opt.storage_threads).c_str() : "2 (default)",
        b.opt.apns_connections,
        b.opt.chunk > 0 ? std::to_string(b.opt.chunk).c_str() : "2000 (default)",
        b.opt.cards_per_second > 0
            ? (", rollouts.cards_per_second = " + std::to_string(b.opt.cards_per_second)).c_str()
            : "");

    set_up(b);
    start_server(b);
    const auto run = run_apns_client(b.certs, b.fake->port(), b.opt.apns_connections, b.opt.cards,
                                     1000, random::hex(32), kPassType);
    if (run.ok != b.opt.cards) {
        throw std::runtime_error("apns ceiling: only " + std::to_string(run.ok) + " pushes ok");
    }
    b.fake->clear();
    std::printf(
        "ceiling: apns::Client in this process, %zu pushes to the same fake over %u connections, "
        "1000 in flight: %.0f pushes/s (%.2f s)\n",
        b.opt.cards, b.opt.apns_connections, run.rate, static_cast<double>(b.opt.cards) / run.rate);
    rollout(b, run.rate);
    std::printf("server error lines: %s\n", server_errors(b.log).c_str());
    after_stop(b);
    std::printf("load average at the end %s\n", load_average().c_str());
}

}  // namespace

int main(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress shows when piped to a file
    Bench b;
    try {
        b.opt = parse(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "rollout_bench: %s\n", e.what());
        return 2;
    }
    int status = 1;
    try {
        run(b, argc, argv);
        status = 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "rollout_bench: %s\n", e.what());
        if (!b.dir.empty()) {
            const auto log = read_text(b.log);
            std::fprintf(stderr, "server log (last 2000 bytes):\n%s\n",
                         log.substr(log.size() > 2000 ? log.size() - 2000 : 0).c_str());
        }
    }
    b.server.reset();
    b.fake.reset();
    if (!b.dir.empty()) {
        if (b.opt.keep || status != 0) {
            std::printf("kept %s\n", b.dir.c_str());
        } else {
            fs::remove_all(b.dir);
        }
    }
    return status;
}
