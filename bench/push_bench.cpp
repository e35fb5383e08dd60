// The push path end to end: the real server (`cardsmith serve`, a child process, SQLite)
// pushing to the fake APNs running inside this process, so the fake's answer times and
// this process's clock are the same steady_clock. Each phase prints the ceiling measured
// in the same run, the ratio to it, and the CPU the server and this process used.
//
//  1. Fan-out: N cards on program "bench", one registered device each; `cardsmith push
//     --program bench` (a second process, as a redesign roll-out would) queues an update
//     for all of them. Measured from launching it until the fake has answered 200 to N
//     pushes. Ceiling: apns::Client in this process sending N pushes to the same fake over
//     as many connections as the server uses (apns.connections), 1000 in flight.
//  2. Device fetches: then every device GETs its new pass (/apple/v1/passes/{type}/{serial}
//     with its ApplePass token) over F keep-alive connections. Ceiling: raw RSA-2048
//     signatures/s with the pass key on server.cpu_threads threads (each fetch is a
//     distinct pass, signed once; pkpass_bench's ceiling).
//  3. End-to-end latency: till transactions (POST /api/v1/cards/{n}/transactions) paced
//     open-loop at R/s round-robin over the 1,000 cards of program "till" (one device
//     each); for each, from its 201 to the fake's answer to the first push to that card's
//     token answered after the transaction was sent (a push may cover several
//     transactions of a card: coalescing).
//
// Set-up: cards are created through the API over a keep-alive pool; their authentication
// tokens, serials and card numbers are then read from the server's SQLite database
// (read-only; pass.json is the only other place holding the token: this saves N pkpass
// downloads); every device registers through the Apple web service like Wallet does.
//
// usage: push_bench [--quick] [--devices N] [--fetches N] [--fetch-connections N]
//                   [--connections N] [--rate R] [--seconds S] [--latency-cards N]
//                   [--apns-connections N] [--threads N] [--server CARDSMITH] [--keep]
//   defaults: 100000 devices (--quick: 10000), fetches = devices (0 skips phase 2),
//   64 fetch connections, 16 set-up/till connections, 500 transactions/s for 20 s
//   (--quick: 5 s) on 1000 cards, apns.connections 2, server.threads = cpu_threads =
//   nproc, --server = the cardsmith built next to this benchmark.
#include <fcntl.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "apns/client.hpp"
#include "apns_load.hpp"
#include "common/log.hpp"
#include "common/net.hpp"
#include "common/random.hpp"
#include "crypto/dev_certs.hpp"
#include "crypto/pass_signer.hpp"
#include "fake_apns.hpp"
#include "http_load.hpp"

using namespace cardsmith;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

constexpr const char* kPassType = "pass.dev.cardsmith";
constexpr const char* kAdminKey = "bench-admin-key-0123456789";
constexpr const char* kSlug = "bench";     // the fan-out program
constexpr const char* kTillSlug = "till";  // the end-to-end latency program
constexpr const char* kUsage =
    "usage: push_bench [--quick] [--devices N] [--fetches N] [--fetch-connections N]\n"
    "                  [--connections N] [--rate R] [--seconds S] [--latency-cards N]\n"
    "                  [--apns-connections N] [--threads N] [--server CARDSMITH] [--keep]";

struct Options {
    std::size_t devices = 100'000;
    std::optional<std::size_t> fetches;  // default: every device; 0 skips the phase
    unsigned fetch_connections = 64;
    unsigned connections = 16;  // set-up and till
    double rate = 500;          // transactions/s
    double seconds = 20;
    std::size_t latency_cards = 1000;
    unsigned apns_connections = 2;          // the server's apns.connections (its default)
    unsigned threads = 0;                   // server.threads and cpu_threads; 0: nproc
    std::string binary = CARDSMITH_BINARY;  // the cardsmith executable (serve and push)
    bool keep = false;
};

double secs(Clock::duration d) { return std::chrono::duration<double>(d).count(); }
double millis(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("model name", 0) == 0) {
            return line.substr(line.find(':') + 2);
        }
    }
    return "unknown";
}

std::string load_average() {
    std::ifstream in("/proc/loadavg");
    std::string a, b, c;
    in >> a >> b >> c;
    return a + " " + b + " " + c;
}

// p in [0, 1] of sorted values (nearest rank).
double percentile(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) {
        return 0;
    }
    auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(sorted.size())));
    return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

std::string distribution(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    char out[160];
    std::snprintf(out, sizeof out, "p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms",
                  percentile(v, 0.5), percentile(v, 0.9), percentile(v, 0.99),
                  v.empty() ? 0.0 : v.back());
    return out;
}

// --- child processes -------------------------------------------------------------------

pid_t spawn(const std::vector<std::string>& argv, const fs::path& log_file) {
    const pid_t pid = fork();
    if (pid < 0) {
        throw std::runtime_error("fork failed");
    }
    if (pid == 0) {
        const int fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        std::vector<char*> args;
        for (const auto& a : argv) {
            args.push_back(const_cast<char*>(a.c_str()));
        }
        args.push_back(nullptr);
        execv(args[0], args.data());
        _exit(127);
    }
    return pid;
}

// Exit status, or -1 when it is still running after `timeout` (then it is killed).
int wait_exit(pid_t pid, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        int status = 0;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        if (Clock::now() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

// `cardsmith serve` as a child; SIGTERM (then SIGKILL) on destruction.
class ServerProcess {
public:
    ServerProcess(const std::string& binary, const fs::path& config, const fs::path& dir)
        : log_(dir / "server.log") {
        const auto port_file = dir / "port";
        pid_ = spawn({binary, "serve", "--config", config.string()}, log_);
        const auto deadline = Clock::now() + std::chrono::seconds(30);
        for (;;) {
            const auto text = read_file(port_file);
            if (!text.empty() && text.back() == '\n') {
                port_ = static_cast<std::uint16_t>(std::stoi(text));
                return;
            }
            int status = 0;
            if (waitpid(pid_, &status, WNOHANG) == pid_ || Clock::now() > deadline) {
                pid_ = -1;
                throw std::runtime_error("server did not start: " + read_file(log_));
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }
    ~ServerProcess() {
        if (pid_ > 0) {
            kill(pid_, SIGTERM);
            (void)wait_exit(pid_, std::chrono::seconds(15));
        }
    }
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;
    [[nodiscard]] std::uint16_t port() const { return port_; }
    [[nodiscard]] pid_t pid() const { return pid_; }

private:
    fs::path log_;
    pid_t pid_ = -1;
    std::uint16_t port_ = 0;
};

long rss_kb(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("VmRSS:", 0) == 0) {
            return std::strtol(line.c_str() + 6, nullptr, 10);
        }
    }
    return 0;
}

// CPU seconds (user + system) used so far by the server and by this process (the load
// generator and the fake APNs), to show who had the two cores during a phase.
struct CpuTimes {
    double server = 0, self = 0;
    Clock::time_point at;
};

CpuTimes cpu_times(pid_t server) {
    CpuTimes t;
    t.at = Clock::now();
    // utime and stime are fields 14 and 15, counted after the command name in parentheses.
    const std::string stat = read_file("/proc/" + std::to_string(server) + "/stat");
    std::istringstream rest(stat.substr(std::min(stat.size(), stat.rfind(')') + 2)));
    std::vector<std::string> fields;
    for (std::string field; rest >> field;) {
        fields.push_back(field);
    }
    const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
    if (fields.size() > 12) {
        t.server = (std::stod(fields[11]) + std::stod(fields[12])) / tick;
    }
    rusage self{};
    getrusage(RUSAGE_SELF, &self);
    auto tv = [](const timeval& v) {
        return static_cast<double>(v.tv_sec) + static_cast<double>(v.tv_usec) / 1e6;
    };
    t.self = tv(self.ru_utime) + tv(self.ru_stime);
    return t;
}

std::string cpu_report(const CpuTimes& from, const CpuTimes& to) {
    const double wall = secs(to.at - from.at);
    char out[160];
    std::snprintf(out, sizeof out,
                  "CPU: server %.1f s (%.2f cores), bench + fake %.1f s (%.2f cores)",
                  to.server - from.server, (to.server - from.server) / wall, to.self - from.self,
                  (to.self - from.self) / wall);
    return out;
}

// --- HTTP client -----------------------------------------------------------------------

// The keep-alive connection and request maker of http_load.hpp; the load below is this
// benchmark's own (open-loop pacing, the send and answer times of every exchange).
using bench::HttpConnection;
using bench::make_http_request;

// Room for a whole 270 KB pass per read (see HttpConnection).
constexpr std::size_t kConnectionBuffer = 64 * 1024;

// What every exchange of a load run reports.
struct Exchange {
    std::size_t index;
    Response& response;
    Clock::time_point sent, received;
};

// A load run: `count` requests made by `make`, answers checked by `check` (returns false on a
// failure). Either closed-loop (each connection sends its next request after the answer) or
// open-loop paced (request i is due at start + i / rate, on connection i % connections).
struct Load {
    std::size_t count = 0;
    unsigned connections = 1;
    double rate = 0;  // 0: closed loop
    std::function<Request(std::size_t)> make;
    std::function<bool(const Exchange&)> check;
    // Filled by the run:
    std::size_t next = 0;
    std::size_t failures = 0;
    std::size_t reconnects = 0;
    std::string first_failure;
    Clock::time_point start;
    double max_late_ms = 0;  // open loop: how far sending fell behind the schedule
};

void note_failure(Load& load, std::string what) {
    if (load.failures++ == 0) {
        load.first_failure = std::move(what);
    }
}

net::awaitable<void> load_worker(Load& load, tcp::endpoint ep, unsigned id) {
    const auto ex = co_await net::this_coro::executor;
    HttpConnection conn(ex, ep, kConnectionBuffer);
    net::steady_timer timer(ex);
    Response res;
    for (std::size_t round = 0;; ++round) {
        const std::size_t i = load.rate > 0 ? id + load.connections * round : load.next++;
        if (i >= load.count) {
            break;
        }
        if (load.rate > 0) {
            const auto due =
                load.start + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(static_cast<double>(i) / load.rate));
            timer.expires_at(due);
            error_code ignored;
            co_await timer.async_wait(net::redirect_error(net::use_awaitable, ignored));
            load.max_late_ms = std::max(load.max_late_ms, millis(Clock::now() - due));
        }
        auto req = load.make(i);
        const auto sent = Clock::now();
        const auto ec = co_await conn.async_exchange(req, res);
        const auto received = Clock::now();
        if (ec) {
            note_failure(load, "request " + std::to_string(i) + ": " + ec.message());
        } else if (!load.check(Exchange{i, res, sent, received})) {
            note_failure(load, "request " + std::to_string(i) + " " + std::string(req.target()) +
                                   ": " + std::to_string(res.result_int()) + " " +
                                   res.body().substr(0, 200));
        }
    }
    load.reconnects += conn.reconnects;
}

// Runs `load` to its end on `ioc` (this thread); returns the wall time in seconds. Throws
// when a request failed.
double run_load(net::io_context& ioc, tcp::endpoint ep, Load& load, const std::string& what) {
    load.start = Clock::now();
    for (unsigned id = 0; id < load.connections; ++id) {
        net::co_spawn(ioc, load_worker(load, ep, id), [](std::exception_ptr e) {
            if (e) {
                std::rethrow_exception(e);
            }
        });
    }
    ioc.restart();
    ioc.run();
    const double elapsed = secs(Clock::now() - load.start);
    if (load.reconnects > 0) {
        std::printf("  (%s: %zu reconnects)\n", what.c_str(), load.reconnects);
    }
    if (load.failures > 0) {
        throw std::runtime_error(what + ": " + std::to_string(load.failures) +
                                 " requests failed; first: " + load.first_failure);
    }
    return elapsed;
}

// One request, closed loop; returns the answer (throws unless its status is `expect`).
Response exchange_one(net::io_context& ioc, tcp::endpoint ep, Request req, unsigned expect) {
    Response out;
    Load load;
    load.count = 1;
    load.make = [&](std::size_t) { return req; };
    load.check = [&](const Exchange& x) {
        out = x.response;
        return x.response.result_int() == expect;
    };
    (void)run_load(ioc, ep, load, std::string(req.target()));
    return out;
}

// --- ceilings --------------------------------------------------------------------------

// Raw RSA-2048 signatures/s with the pass key on `threads` threads (pkpass_bench's ceiling).
double rsa_signs_per_second(const crypto::PassSigner& signer, unsigned threads, double seconds) {
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> total{0};
    const std::string probe(300, 'm');  // about the size of a manifest
    std::vector<std::thread> pool;
    const auto start = Clock::now();
    for (unsigned t = 0; t < threads; ++t) {
        pool.emplace_back([&] {
            std::uint64_t n = 0;
            while (!stop.load(std::memory_order_relaxed)) {
                (void)crypto::raw_sign(signer.private_key(), probe);
                ++n;
            }
            total += n;
        });
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
    for (auto& th : pool) {
        th.join();
    }
    return static_cast<double>(total.load()) / secs(Clock::now() - start);
}

// apns::Client in this process sending `n` pushes (`in_flight` outstanding) to the fake over
// `connections`: the rate the server's own client could reach against the same fake.
double apns_client_ceiling(const fs::path& certs, std::uint16_t port, unsigned connections,
                           std::size_t n, std::size_t in_flight) {
    const auto run =
        bench::run_apns_client(certs, port, connections, n, in_flight, random::hex(32), kPassType);
    if (run.ok != n) {
        throw std::runtime_error("apns ceiling: only " + std::to_string(run.ok) + " of " +
                                 std::to_string(n) + " pushes ok");
    }
    return run.rate;
}

// --- set-up ----------------------------------------------------------------------------

struct Card {
    std::string serial, auth_token, number;
    std::string device, push_token;
};

using DbPtr = std::unique_ptr<sqlite3, decltype(&sqlite3_close_v2)>;
using StatementPtr = std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)>;

// The server's database, read-only (WAL: reading does not disturb the server).
DbPtr open_db(const fs::path& path) {
    sqlite3* raw = nullptr;
    if (sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        sqlite3_close_v2(raw);
        throw std::runtime_error("cannot open " + path.string());
    }
    DbPtr db(raw, &sqlite3_close_v2);
    sqlite3_busy_timeout(db.get(), 5000);
    return db;
}

StatementPtr prepare(sqlite3* db, const char* sql) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &raw, nullptr) != SQLITE_OK) {
        throw std::runtime_error(std::string("sqlite: ") + sqlite3_errmsg(db));
    }
    return StatementPtr(raw, &sqlite3_finalize);
}

std::string column(sqlite3_stmt* st, int col) {
    const auto* p = sqlite3_column_text(st, col);
    return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p));
}

// The cards of program `slug` in creation order.
std::vector<Card> read_cards(const fs::path& db_path, const std::string& slug) {
    auto db = open_db(db_path);
    auto st = prepare(db.get(),
                      "SELECT c.serial, c.auth_token, c.card_number FROM cards c JOIN programs p "
                      "ON p.id = c.program_id WHERE p.slug = ?1 ORDER BY c.id");
    sqlite3_bind_text(st.get(), 1, slug.c_str(), -1, SQLITE_TRANSIENT);
    std::vector<Card> out;
    int rc = 0;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
        out.push_back({column(st.get(), 0), column(st.get(), 1), column(st.get(), 2), {}, {}});
    }
    if (rc != SQLITE_DONE) {
        throw std::runtime_error(std::string("read cards: ") + sqlite3_errmsg(db.get()));
    }
    return out;
}

// "done 100000, sending 0, ...": the outbox rows by state.
std::string outbox_states(const fs::path& db_path) {
    auto db = open_db(db_path);
    auto st = prepare(db.get(), "SELECT state, COUNT(*) FROM outbox GROUP BY state ORDER BY 1");
    std::string out;
    while (sqlite3_step(st.get()) == SQLITE_ROW) {
        out += (out.empty() ? "" : ", ") + column(st.get(), 0) + " " + column(st.get(), 1);
    }
    return out.empty() ? "empty" : out;
}

// Error lines the server logged so far: their number and the first one.
std::string server_errors(const fs::path& log_file) {
    std::istringstream in(read_file(log_file));
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
    unsigned server_threads = 1;
    fs::path dir, certs, config, db;
    std::unique_ptr<testing::FakeApns> fake;
    std::unique_ptr<ServerProcess> server;
    tcp::endpoint ep;
    net::io_context ioc{1};
    std::string merchant_auth;
    std::vector<Card> cards;  // program kSlug: fan-out and fetches
    std::vector<Card> till;   // program kTillSlug: end-to-end latency
};

void write_config(Bench& b) {
    std::ofstream(b.config) << "[server]\n"
                            << "listen = \"127.0.0.1:0\"\n"
                            << "port_file = \"" << (b.dir / "port").string() << "\"\n"
                            << "threads = " << b.server_threads << "\n"
                            << "cpu_threads = " << b.server_threads << "\n"
                            << "[storage]\nurl = \"sqlite:" << b.db.string() << "\"\n"
                            << "[admin]\nkey = \"" << kAdminKey << "\"\n"
                            << "[apple]\n"
                            << "cert = \"" << (b.certs / "pass.pem").string() << "\"\n"
                            << "key = \"" << (b.certs / "pass.key").string() << "\"\n"
                            << "wwdr = \"" << (b.certs / "wwdr.pem").string() << "\"\n"
                            << "[templates]\ndir = \"" << CARDSMITH_BENCH_SOURCE_DIR
                            << "/templates\"\n"
                            << "[apns]\nhost = \"127.0.0.1\"\nport = " << b.fake->port() << "\n"
                            << "ca_file = \"" << (b.certs / "root-ca.pem").string() << "\"\n"
                            << "connections = " << b.opt.apns_connections << "\n"
                            << "[log]\nlevel = \"warn\"\n"
                            // The server's throughput, not its abuse limits, is measured.
                            << "[limits]\nip_per_minute = 0\nkey_per_minute = 0\n"
                            << "auth_failures = 0\njoins_per_hour = 0\n";
}

void create_program(Bench& b, const std::string& slug) {
    (void)exchange_one(
        b.ioc, b.ep,
        make_http_request(http::verb::post, "/api/v1/programs", b.merchant_auth,
                          R"({"slug":")" + slug + R"(","name":"Bench","template":"coffee"})"),
        201);
}

// Gives every card a device with a distinct hex push token.
void assign_devices(std::vector<Card>& cards, const std::string& name) {
    const std::string prefix = random::hex(24);  // 48 hex digits, then 16 for the index
    for (std::size_t i = 0; i < cards.size(); ++i) {
        char index[17];
        std::snprintf(index, sizeof index, "%016zx", i);
        cards[i].push_token = prefix + index;
        cards[i].device = name + "-device-" + std::to_string(i);
    }
}

void set_up(Bench& b) {
    const std::string admin = std::string("Bearer ") + kAdminKey;
    auto merchant = exchange_one(
        b.ioc, b.ep,
        make_http_request(http::verb::post, "/api/v1/merchants", admin, R"({"name":"Bench"})"),
        201);
    b.merchant_auth =
        "Bearer " + std::string(boost::json::parse(merchant.body()).at("apiKey").as_string());
    create_program(b, kSlug);
    create_program(b, kTillSlug);

    // Cards 0..N-1 on the fan-out program, then the till's cards on their own program.
    const std::size_t till_cards = b.opt.latency_cards;
    Load create;
    create.count = b.opt.devices + till_cards;
    create.connections = b.opt.connections;
    create.make = [&](std::size_t i) {
        const char* slug = i < b.opt.devices ? kSlug : kTillSlug;
        return make_http_request(
            http::verb::post, std::string("/api/v1/programs/") + slug + "/cards", b.merchant_auth,
            R"({"holder":{"email":"d)" + std::to_string(i) + R"(@example.com"}})");
    };
    create.check = [](const Exchange& x) { return x.response.result_int() == 201; };
    const double t_create = run_load(b.ioc, b.ep, create, "create cards");

    b.cards = read_cards(b.db, kSlug);
    b.till = read_cards(b.db, kTillSlug);
    if (b.cards.size() < b.opt.devices || b.till.size() < till_cards) {
        throw std::runtime_error("fewer cards in the database than created");
    }
    b.cards.resize(b.opt.devices);
    b.till.resize(till_cards);
    assign_devices(b.cards, kSlug);
    assign_devices(b.till, kTillSlug);

    Load reg;
    reg.count = b.cards.size() + b.till.size();
    reg.connections = b.opt.connections;
    reg.make = [&](std::size_t i) {
        const Card& c = i < b.cards.size() ? b.cards[i] : b.till[i - b.cards.size()];
        return make_http_request(
            http::verb::post,
            "/apple/v1/devices/" + c.device + "/registrations/" + kPassType + "/" + c.serial,
            "ApplePass " + c.auth_token, R"({"pushToken":")" + c.push_token + R"("})");
    };
    reg.check = [](const Exchange& x) { return x.response.result_int() == 201; };
    const double t_reg = run_load(b.ioc, b.ep, reg, "register devices");
    std::printf(
        "set-up: %zu cards (%zu on program %s, %zu on %s) created via the API in %.1f s "
        "(%.0f/s), tokens read from SQLite; %zu devices registered via the web service in "
        "%.1f s (%.0f/s); %u keep-alive connections\n",
        create.count, b.cards.size(), kSlug, b.till.size(), kTillSlug, t_create,
        static_cast<double>(create.count) / t_create, reg.count, t_reg,
        static_cast<double>(reg.count) / t_reg, b.opt.connections);
}

// --- phases ----------------------------------------------------------------------------

void fan_out(Bench& b) {
    const std::size_t n = b.cards.size();
    const double ceiling =
        apns_client_ceiling(b.certs, b.fake->port(), b.opt.apns_connections, n, 1000);
    b.fake->clear();

    const auto cpu0 = cpu_times(b.server->pid());
    const auto t0 = Clock::now();
    const pid_t cli =
        spawn({b.opt.binary, "push", "--program", kSlug, "--config", b.config.string()},
              b.dir / "push.log");
    std::optional<Clock::time_point> cli_done;
    int cli_status = -1;
    const auto deadline = t0 + std::chrono::seconds(60) +
                          std::chrono::milliseconds(n / 10);  // far beyond any sane rate
    while (b.fake->count_ok() < n) {
        int status = 0;
        if (!cli_done && waitpid(cli, &status, WNOHANG) == cli) {
            cli_done = Clock::now();
            cli_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        if (Clock::now() > deadline) {
            throw std::runtime_error("fan-out: only " + std::to_string(b.fake->count_ok()) +
                                     " of " + std::to_string(n) + " pushes after the deadline");
        }
        std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    const auto cpu1 = cpu_times(b.server->pid());
    if (!cli_done) {
        cli_status = wait_exit(cli, std::chrono::seconds(60));
        cli_done = Clock::now();
    }
    if (cli_status != 0) {
        throw std::runtime_error("cardsmith push failed: " + read_file(b.dir / "push.log"));
    }
    std::string cli_output = read_file(b.dir / "push.log");
    while (!cli_output.empty() && cli_output.back() == '\n') {
        cli_output.pop_back();
    }
    const auto pushes = b.fake->pushes();
    Clock::time_point first = Clock::time_point::max(), last = Clock::time_point::min();
    std::unordered_map<std::string, int> seen;
    for (const auto& p : pushes) {
        if (p.status == 200) {
            first = std::min(first, p.at);
            last = std::max(last, p.at);
            ++seen[p.device_token];
        }
    }
    const double total = secs(last - t0);
    const double rate = static_cast<double>(n) / total;
    const double send = secs(last - first);
    std::printf(
        "fan-out: %zu pushes (%zu devices answered, %zu answers in all) in %.2f s from launching "
        "`cardsmith push`: %.0f pushes/s (%.1f%% of the apns::Client ceiling %.0f/s; goal "
        "20000/s)\n",
        n, seen.size(), pushes.size(), total, rate, 100.0 * rate / ceiling, ceiling);
    std::printf(
        "  `cardsmith push` ran %.2f s (\"%s\"); first push answered %.2f s after launch; "
        "first to last push %.2f s = %.0f pushes/s (%.1f%% of the ceiling)\n",
        secs(*cli_done - t0), cli_output.c_str(), secs(first - t0), send,
        static_cast<double>(n) / send, 100.0 * static_cast<double>(n) / send / ceiling);
    std::printf("  %s\n", cpu_report(cpu0, cpu1).c_str());
}

// The value of a Prometheus sample without labels (or its first labelled one); -1 if absent.
double metric(const std::string& text, const std::string& name) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (line.rfind(name + " ", 0) == 0 || line.rfind(name + "{", 0) == 0) {
            return std::strtod(line.c_str() + line.rfind(' ') + 1, nullptr);
        }
    }
    return -1;
}

void device_fetches(Bench& b, double rsa1, double rsan) {
    const std::string prefix = std::string("/apple/v1/passes/") + kPassType + "/";
    Load fetch;
    fetch.count = std::min(b.cards.size(), b.opt.fetches.value_or(b.cards.size()));
    std::vector<double> latencies(fetch.count);
    std::size_t bytes = 0;
    fetch.connections = b.opt.fetch_connections;
    fetch.make = [&](std::size_t i) {
        Request req = make_http_request(http::verb::get, prefix + b.cards[i].serial,
                                        "ApplePass " + b.cards[i].auth_token);
        return req;
    };
    fetch.check = [&](const Exchange& x) {
        latencies[x.index] = millis(x.received - x.sent);
        bytes += x.response.body().size();
        return x.response.result_int() == 200 && x.response.body().rfind("PK", 0) == 0;
    };
    const auto cpu0 = cpu_times(b.server->pid());
    const double t = run_load(b.ioc, b.ep, fetch, "device fetches");
    const auto cpu1 = cpu_times(b.server->pid());
    const double rate = static_cast<double>(fetch.count) / t;
    const auto metrics = exchange_one(
        b.ioc, b.ep, make_http_request(http::verb::get, "/metrics", b.merchant_auth), 200);
    std::printf(
        "device fetches: %zu passes (%.0f KB each) over %u connections in %.1f s: %.0f passes/s, "
        "%.0f MB/s (%.1f%% of the RSA ceiling %.0f signs/s on %u threads; 1 thread %.0f); "
        "per fetch %s; server: passes signed %.0f, cache hits %.0f\n",
        fetch.count, static_cast<double>(bytes) / static_cast<double>(fetch.count) / 1024.0,
        fetch.connections, t, rate, static_cast<double>(bytes) / t / 1e6, 100.0 * rate / rsan, rsan,
        b.server_threads, rsa1, distribution(latencies).c_str(),
        metric(metrics.body(), "cardsmith_passes_signed_total"),
        metric(metrics.body(), "cardsmith_pass_cache_hits_total"));
    std::printf("  %s; server CPU per pass %.0f us (one raw RSA signature: %.0f us)\n",
                cpu_report(cpu0, cpu1).c_str(),
                1e6 * (cpu1.server - cpu0.server) / static_cast<double>(fetch.count), 1e6 / rsa1);
}

struct Transaction {
    std::size_t card = 0;
    Clock::time_point sent, received;
    bool ok = false;
};

void end_to_end(Bench& b) {
    const std::size_t cards = b.till.size();
    b.fake->clear();
    Load till;
    till.count = static_cast<std::size_t>(b.opt.rate * b.opt.seconds);
    till.connections = b.opt.connections;
    till.rate = b.opt.rate;
    std::vector<Transaction> txs(till.count);
    till.make = [&](std::size_t i) {
        return make_http_request(http::verb::post,
                                 "/api/v1/cards/" + b.till[i % cards].number + "/transactions",
                                 b.merchant_auth, R"({"points":1})");
    };
    till.check = [&](const Exchange& x) {
        txs[x.index] = {x.index % cards, x.sent, x.received, x.response.result_int() == 201};
        return txs[x.index].ok;
    };
    const auto cpu0 = cpu_times(b.server->pid());
    const double t = run_load(b.ioc, b.ep, till, "transactions");
    const auto cpu1 = cpu_times(b.server->pid());
    // Let the last pushes arrive: wait until the count stops moving.
    for (std::size_t before = SIZE_MAX; before != b.fake->count();) {
        before = b.fake->count();
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    std::unordered_map<std::string, std::vector<Clock::time_point>> answered;
    const auto pushes = b.fake->pushes();
    for (const auto& p : pushes) {
        if (p.status == 200) {
            answered[p.device_token].push_back(p.at);
        }
    }
    for (auto& [_, v] : answered) {
        std::sort(v.begin(), v.end());
    }
    std::vector<double> latency, http_ms;
    std::size_t unmatched = 0, negative = 0;
    for (const auto& tx : txs) {
        http_ms.push_back(millis(tx.received - tx.sent));
        const auto& v = answered[b.till[tx.card].push_token];
        const auto it = std::lower_bound(v.begin(), v.end(), tx.sent);
        if (it == v.end()) {
            ++unmatched;
            continue;
        }
        latency.push_back(millis(*it - tx.received));
        negative += *it < tx.received ? 1u : 0u;
    }
    std::printf(
        "end-to-end: %zu transactions at %.0f/s open-loop (%.1f s, %u connections, %zu cards, "
        "sending at most %.1f ms behind schedule), %zu pushes answered\n",
        till.count, static_cast<double>(till.count) / t, t, till.connections, cards,
        till.max_late_ms, pushes.size());
    std::printf(
        "  201 -> push answered: %s (goal p99 < 50 ms; %zu pushes answered before the 201 "
        "arrived, %zu transactions without a push)\n",
        distribution(latency).c_str(), negative, unmatched);
    std::printf("  request -> 201:       %s\n", distribution(http_ms).c_str());
    std::printf("  %s\n", cpu_report(cpu0, cpu1).c_str());
}

Options parse(int argc, char** argv) {
    Options o;
    std::vector<std::string> args(argv + 1, argv + argc);
    for (const auto& a : args) {
        if (a == "--quick") {
            o.devices = 10'000;
            o.seconds = 5;
        }
    }
    auto number = [&](std::size_t& i) {
        if (i + 1 >= args.size()) {
            throw std::invalid_argument(args[i] + " needs a value");
        }
        return std::stod(args[++i]);
    };
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto& a = args[i];
        if (a == "--quick") {
        } else if (a == "--server" && i + 1 < args.size()) {
            o.binary = args[++i];
        } else if (a == "--keep") {
            o.keep = true;
        } else if (a == "--devices") {
            o.devices = static_cast<std::size_t>(number(i));
        } else if (a == "--fetches") {
            o.fetches = static_cast<std::size_t>(number(i));
        } else if (a == "--fetch-connections") {
            o.fetch_connections = static_cast<unsigned>(number(i));
        } else if (a == "--connections") {
            o.connections = static_cast<unsigned>(number(i));
        } else if (a == "--rate") {
            o.rate = number(i);
        } else if (a == "--seconds") {
            o.seconds = number(i);
        } else if (a == "--latency-cards") {
            o.latency_cards = static_cast<std::size_t>(number(i));
        } else if (a == "--apns-connections") {
            o.apns_connections = static_cast<unsigned>(number(i));
        } else if (a == "--threads") {
            o.threads = static_cast<unsigned>(number(i));
        } else if (a == "--help" || a == "-h") {
            throw std::invalid_argument(kUsage);
        } else {
            throw std::invalid_argument("unknown option " + a + "\n" + kUsage);
        }
    }
    if (o.devices == 0 || o.connections == 0 || o.fetch_connections == 0 || o.rate <= 0) {
        throw std::invalid_argument("--devices, --connections and --rate must be positive");
    }
    return o;
}

int run(Bench& b, int argc, char** argv) {
    log::set_level(log::Level::warn);  // the in-process apns::Client's connection lines
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    b.server_threads = b.opt.threads > 0 ? b.opt.threads : cores;
    std::string command;
    for (int i = 0; i < argc; ++i) {
        command += (i > 0 ? " " : "") + std::string(argv[i]);
    }
    std::printf("machine: %u cores (nproc), %s; load average %s\n", cores, cpu_model().c_str(),
                load_average().c_str());
    std::printf("command: %s\n", command.c_str());
    std::printf("build: GCC %s, %s\n", __VERSION__, OpenSSL_version(OPENSSL_VERSION));

    b.dir = fs::temp_directory_path() / ("cardsmith-push-bench-" + random::hex(6));
    b.certs = b.dir / "certs";
    b.config = b.dir / "cardsmith.toml";
    b.db = b.dir / "cardsmith.db";
    fs::create_directories(b.dir);
    crypto::make_dev_certs(b.certs, {});
    const auto signer = crypto::PassSigner::from_files((b.certs / "pass.pem").string(),
                                                       (b.certs / "pass.key").string(),
                                                       (b.certs / "wwdr.pem").string());
    // Measured before the server starts, on a quiet process.
    const double rsa1 = rsa_signs_per_second(*signer, 1, 1.0);
    const double rsan = rsa_signs_per_second(*signer, b.server_threads, 1.0);

    testing::FakeApnsOptions fo;
    fo.cert_file = (b.certs / "server.pem").string();
    fo.key_file = (b.certs / "server.key").string();
    fo.ca_file = (b.certs / "root-ca.pem").string();
    fo.record = true;  // answer times per token, for the latency phase
    b.fake = std::make_unique<testing::FakeApns>(fo);
    write_config(b);
    std::printf(
        "server: %s serve (Release, SQLite in %s, server.threads = cpu_threads = %u, "
        "apns.connections = %u, log.level = warn); fake APNs in this process: 1 thread, "
        "1000 streams/connection, client certificate required, pushes recorded\n",
        b.opt.binary.c_str(), b.dir.c_str(), b.server_threads, b.opt.apns_connections);
    b.server = std::make_unique<ServerProcess>(b.opt.binary, b.config, b.dir);
    b.ep = tcp::endpoint(net::ip::make_address("127.0.0.1"), b.server->port());

    set_up(b);
    fan_out(b);
    std::this_thread::sleep_for(std::chrono::seconds(1));  // outcomes written back
    std::printf("  outbox 1 s after the last answer: %s; server error lines: %s\n",
                outbox_states(b.db).c_str(), server_errors(b.dir / "server.log").c_str());
    if (b.opt.fetches.value_or(1) > 0) {
        device_fetches(b, rsa1, rsan);
    }
    end_to_end(b);
    std::printf("end: outbox %s; server error lines: %s\n", outbox_states(b.db).c_str(),
                server_errors(b.dir / "server.log").c_str());
    std::printf("server RSS at the end: %ld MB; load average now %s\n",
                rss_kb(b.server->pid()) / 1024, load_average().c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress shows when piped to a file
    Bench b;
    try {
        b.opt = parse(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "push_bench: %s\n", e.what());
        return 2;
    }
    int status = 1;
    try {
        status = run(b, argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "push_bench: %s\n", e.what());
        if (!b.dir.empty()) {
            const auto log = read_file(b.dir / "server.log");
            std::fprintf(stderr, "server log (last 2000 bytes):\n%s\n",
                         log.substr(log.size() > 2000 ? log.size() - 2000 : 0).c_str());
        }
    }
    b.server.reset();
    b.fake.reset();
    if (!b.dir.empty()) {
        if (b.opt.keep) {
            std::printf("kept %s\n", b.dir.c_str());
        } else {
            std::filesystem::remove_all(b.dir);
        }
    }
    return status;
}
