// instances_bench's rollout phase (instances_bench.hpp): a redesign of program "bulk"
// (N seeded cards, one Apple device each) pushed to the fake APNs by every running
// instance. Ceiling from the same run: apns::Client in this process sending N pushes to
// the same fake over one instance's apns.connections, 1000 in flight (rollout_bench's).
// Measured from sending the PATCH (to instance 0) until the fake has answered 200 to every
// device and the rollout is done; then the outbox must drain. Checked: every seeded
// device's token answered 200 at least once, the rollout row done with every card moved,
// no dead rows; counted: answers beyond one per device (at-least-once allows them), and
// each instance's delivered pushes (its /metrics), which shows how the claims split.
#include <atomic>
#include <boost/json.hpp>
#include <cstdio>
#include <map>
#include <stdexcept>
#include <thread>
#include <unordered_set>

#include "apns_load.hpp"
#include "common/random.hpp"
#include "http_client.hpp"
#include "http_load.hpp"
#include "instances_bench.hpp"

namespace cardsmith::bench {
namespace {

constexpr const char* kTokensSql =
    "SELECT r.push_token FROM registrations r JOIN cards c ON c.id = r.card_id JOIN programs p "
    "ON p.id = c.program_id WHERE p.slug = 'bulk'";
constexpr const char* kRolloutSql =
    "SELECT COALESCE(started_at, 0), COALESCE(finished_at, 0), cards_total, cards_done, "
    "pushes_queued, state FROM rollouts WHERE id = ?1";
constexpr const char* kOutboxCountSql = "SELECT COUNT(*) FROM outbox";

std::int64_t unix_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::unordered_set<std::string> device_tokens(const std::string& url) {
    auto c = connect_db(url);
    auto st = c->prepare(kTokensSql);
    std::unordered_set<std::string> out;
    while (st.step()) {
        out.insert(st.text(0));
    }
    return out;
}

constexpr const char* kBulkCardsSql =
    "SELECT c.card_number, c.balance, (SELECT COUNT(*) FROM transactions t WHERE t.card_id = "
    "c.id) FROM cards c JOIN programs p ON p.id = c.program_id WHERE p.slug = 'bulk' ORDER BY "
    "c.id";

std::string till_body(std::size_t i) {
    return R"({"points":)" + std::to_string(1 + i % 9) + R"(,"note":"during"})";
}

// An experiment: transactions on the rollout's own cards while it runs (closed loop,
// `clients` connections round robin over the instances), from a thread of its own with its
// own io_context; everything but `stop_` is touched by that thread until stop() joins it.
class TillDuringRollout {
public:
    TillDuringRollout(BenchSetup& b, unsigned clients) : b_(b) {
        auto c = connect_db(b.storage_url);
        auto st = c->prepare(kBulkCardsSql);
        while (st.step()) {
            numbers_.push_back(st.text(0));
            balance0_.push_back(st.int64(1));
            rows0_.push_back(st.int64(2));
        }
        points_.assign(numbers_.size(), 0);
        count_.assign(numbers_.size(), 0);
        auth_ = "Bearer " + b.merchant_key;
        load_.endpoints = b.servers.endpoints();
        load_.clients = clients;
        load_.seconds = 3600;
        load_.stop = &stop_;
        load_.make = [this](std::size_t i, unsigned) {
            cards_.push_back(scramble(i) % numbers_.size());
            auto req = make_http_request(http::verb::post,
                                         "/api/v1/cards/" + numbers_[cards_[i]] + "/transactions",
                                         auth_, till_body(i));
            req.set("Idempotency-Key", "during-" + std::to_string(i));
            return req;
        };
        load_.check = [this](std::size_t i, const HttpResponse& r) {
            if (r.result_int() == 201 && r["Idempotent-Replayed"] != "true") {
                points_[cards_[i]] += static_cast<std::int64_t>(1 + i % 9);
                ++count_[cards_[i]];
                ++applied_;
                return true;
            }
            ++statuses_[r.result_int()];
            if (first_failure_.empty()) {
                first_failure_ = std::to_string(r.result_int()) + " " + r.body().substr(0, 200);
            }
            unknown_.push_back(i);
            return false;
        };
        load_.lost = [this](std::size_t i) { unknown_.push_back(i); };
    }
    ~TillDuringRollout() { stop(); }
    TillDuringRollout(const TillDuringRollout&) = delete;
    TillDuringRollout& operator=(const TillDuringRollout&) = delete;

    void start() {
        m0_ = cpu_mark(b_);
        thread_ = std::thread([this] { run_http_load(ioc_, load_); });
    }
    void stop() {
        stop_ = true;
        if (thread_.joinable()) {
            thread_.join();
            run = summarize(load_.latency_ms, applied_, load_.failures + load_.transport_errors,
                            load_.elapsed, cpu_share(m0_, cpu_mark(b_)));
            run.by_instance = load_.by_instance;
        }
    }

    // After stop(): requests without a 201 sent again with their key (the outcome of a 5xx
    // is unknown), then every card's balance and ledger rows checked.
    bool verify(std::string& report) {
        std::size_t resolved = 0;
        for (const std::size_t i : unknown_) {
            test::Client client(b_.servers.port(0));
            const auto res = client.request(
                http::verb::post, "/api/v1/cards/" + numbers_[cards_[i]] + "/transactions",
                till_body(i),
                {{"Authorization", auth_},
                 {"Content-Type", "application/json"},
                 {"Idempotency-Key", "during-" + std::to_string(i)}});
            if (res.result_int() == 201) {
                points_[cards_[i]] += static_cast<std::int64_t>(1 + i % 9);
                ++count_[cards_[i]];
                ++resolved;
            }
        }
        auto c = connect_db(b_.storage_url);
        auto st = c->prepare(kBulkCardsSql);
        std::size_t k = 0, wrong = 0;
        while (st.step() && k < numbers_.size()) {
            wrong +=
                st.int64(1) != balance0_[k] + points_[k] || st.int64(2) != rows0_[k] + count_[k]
                    ? 1u
                    : 0u;
            ++k;
        }
        std::string statuses;
        for (const auto& [status, n] : statuses_) {
            statuses += " " + std::to_string(n) + "x" + std::to_string(status);
        }
        report = std::to_string(applied_) + " applied (201), other answers:" +
                 (statuses.empty() ? std::string(" none") : statuses) + ", " +
                 std::to_string(load_.transport_errors) + " without answer; " +
                 std::to_string(resolved) + " of those applied when sent again; balances of " +
                 std::to_string(k) + " cards " +
                 (wrong == 0 ? std::string("exact") : std::to_string(wrong) + " WRONG") +
                 (first_failure_.empty() ? std::string() : "; first: " + first_failure_);
        return wrong == 0 && k == numbers_.size();
    }

    TxRun run;

private:
    BenchSetup& b_;
    std::string auth_;
    std::vector<std::string> numbers_;
    std::vector<std::int64_t> balance0_, rows0_, points_, count_;
    std::vector<std::size_t> cards_, unknown_;
    std::map<unsigned, std::size_t> statuses_;
    std::string first_failure_;
    std::size_t applied_ = 0;
    net::io_context ioc_{1};
    HttpLoad load_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    CpuMark m0_;
};

struct Started {
    std::int64_t id = 0;
    std::size_t devices = 0;
};

Started patch_design(BenchSetup& b) {
    test::Client http(b.servers.port(0));
    const auto res = http.request(
        http::verb::patch, std::string("/api/v1/programs/") + kBulkSlug + "/design",
        R"({"colors":{"background":"#0A5C36"}})",
        {{"Authorization", "Bearer " + b.merchant_key}, {"Content-Type", "application/json"}});
    if (res.result_int() != 200) {
        throw std::runtime_error("PATCH design: " + std::to_string(res.result_int()) + " " +
                                 res.body());
    }
    const auto body = boost::json::parse(res.body());
    const auto& r = body.at("rollout");
    if (r.is_null()) {
        throw std::runtime_error("the PATCH started no rollout: " + res.body());
    }
    Started s;
    s.id = r.at("id").to_number<std::int64_t>();
    s.devices = static_cast<std::size_t>(r.at("devicesTotal").to_number<std::int64_t>());
    return s;
}

struct Progress {
    std::vector<double> get_ms;
    std::size_t outbox_peak = 0;
    CpuMark end;
    double restarted_at = -1;     // s after the PATCH
    double carried = 0;           // pushes the restarted instance delivered before its restart
    std::string restart_failure;  // why it did not start again
};

// The lines of a failed start's log that say why ("cardsmith: ..." and what follows).
std::string startup_error(const std::string& what) {
    const auto at = what.find("cardsmith:");
    std::string out = what.substr(at == std::string::npos ? 0 : at, 400);
    for (auto& ch : out) {
        ch = ch == '\n' ? '|' : ch;
    }
    return out;
}

// Polls GET /api/v1/rollouts/{id} every 250 ms, round robin over the instances, and the
// outbox size every second, until the rollout is done and the fake answered `devices`.
Progress wait_for_rollout(BenchSetup& b, const Started& s, Clock::time_point t0,
                          const RolloutOptions& o, double delivered_before) {
    std::vector<std::unique_ptr<test::Client>> clients;
    for (unsigned i = 0; i < b.servers.running(); ++i) {
        clients.push_back(std::make_unique<test::Client>(b.servers.port(i)));
    }
    auto db = connect_db(b.storage_url);
    const std::map<std::string, std::string> auth{{"Authorization", "Bearer " + b.merchant_key}};
    const std::string target = "/api/v1/rollouts/" + std::to_string(s.id);
    Progress p;
    auto next_count = t0;
    auto next_print = t0 + std::chrono::seconds(10);
    std::int64_t outbox = 0;
    for (std::size_t k = 0;; ++k) {
        const auto at = Clock::now();
        const auto res = clients[k % clients.size()]->request(http::verb::get, target, "", auth);
        p.get_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - at).count());
        if (res.result_int() != 200) {
            throw std::runtime_error("GET rollout: " + std::to_string(res.result_int()));
        }
        const auto r = boost::json::parse(res.body());
        const std::string state(r.at("state").as_string());
        if (state != "running" && state != "done") {
            throw std::runtime_error("rollout " + state + ": " + res.body());
        }
        if (state == "done" && b.fake.count_ok() >= s.devices) {
            p.end = cpu_mark(b);
            return p;
        }
        if (Clock::now() >= next_count) {
            auto st = db->prepare(kOutboxCountSql);
            outbox = st.step() ? st.int64(0) : 0;
            p.outbox_peak = std::max(p.outbox_peak, static_cast<std::size_t>(outbox));
            next_count += std::chrono::seconds(1);
        }
        if (Clock::now() >= next_print) {
            std::printf("    t=%5.1f s  %-8s cards %8lld  answered %8zu  outbox %8lld rows\n",
                        secs(Clock::now() - t0), state.c_str(),
                        static_cast<long long>(r.at("cardsDone").to_number<std::int64_t>()),
                        b.fake.count_ok(), static_cast<long long>(outbox));
            next_print += std::chrono::seconds(10);
        }
        if (o.restart_at > 0 && p.restarted_at < 0 &&
            static_cast<double>(b.fake.count_ok()) >=
                o.restart_at * static_cast<double>(s.devices)) {
            const unsigned last = b.servers.running() - 1;
            p.carried = b.servers.delivered_pushes(last) - delivered_before;
            p.restarted_at = secs(Clock::now() - t0);
            try {
                b.servers.restart_last();
                clients.back() = std::make_unique<test::Client>(b.servers.port(last));
                std::printf(
                    "    t=%5.1f s  instance %u restarted (SIGTERM, then started again: %.1f s)\n",
                    p.restarted_at, last, secs(Clock::now() - t0) - p.restarted_at);
            } catch (const std::exception& e) {
                clients.pop_back();
                p.restart_failure = startup_error(e.what());
                std::printf("    t=%5.1f s  instance %u stopped and did NOT start again: %s\n",
                            p.restarted_at, last, p.restart_failure.c_str());
            }
        }
        if (secs(Clock::now() - t0) > o.timeout) {
            throw std::runtime_error("gave up " + std::to_string(o.timeout) +
                                     " s after the PATCH; outbox " + outbox_states(b.storage_url) +
                                     "; server errors: " + b.servers.error_lines());
        }
        std::this_thread::sleep_until(at + std::chrono::milliseconds(250));
    }
}

}  // namespace

RolloutResult run_rollout(BenchSetup& b, const RolloutOptions& o) {
    RolloutResult out;
    const auto run = run_apns_client(b.certs, b.fake.port(), b.servers.options().apns_connections,
                                     o.cards, 1000, random::hex(32), kPassType);
    if (run.ok != o.cards) {
        throw std::runtime_error("apns ceiling: only " + std::to_string(run.ok) + " pushes ok");
    }
    b.fake.clear();
    out.ceiling = run.rate;
    std::printf(
        "  ceiling: apns::Client in this process, %zu pushes to the same fake over %u "
        "connections, 1000 in flight: %.0f pushes/s\n",
        o.cards, b.servers.options().apns_connections, run.rate);

    const auto expected = device_tokens(b.storage_url);
    std::vector<double> delivered0;
    for (unsigned i = 0; i < b.servers.running(); ++i) {
        delivered0.push_back(b.servers.delivered_pushes(i));
    }
    if (b.pg != nullptr) {
        b.pg->reset_statements(b.pg_database);
    }
    const CpuMark m0 = cpu_mark(b);
    const auto t0 = m0.at;
    const std::int64_t t0_unix = unix_ms();
    const Started s = patch_design(b);
    std::printf("  PATCH /api/v1/programs/%s/design: rollout %lld to %zu devices\n", kBulkSlug,
                static_cast<long long>(s.id), s.devices);
    std::unique_ptr<TillDuringRollout> till;
    if (o.tx_clients > 0) {
        till = std::make_unique<TillDuringRollout>(b, o.tx_clients);
        till->start();
    }
    Progress p = wait_for_rollout(b, s, t0, o, delivered0.back());
    if (till) {
        till->stop();
    }
    out.cpu = cpu_share(m0, p.end);
    const bool drained = wait_outbox_drained(b.storage_url, std::chrono::seconds(300));

    std::unordered_set<std::string> pushed;
    auto first = Clock::time_point::max(), last = Clock::time_point::min();
    for (const auto& push : b.fake.pushes()) {
        if (push.status == 200) {
            ++out.answers;
            pushed.insert(push.device_token);
            first = std::min(first, push.at);
            last = std::max(last, push.at);
        }
    }
    std::size_t missing = 0;
    for (const auto& token : expected) {
        missing += pushed.count(token) == 0 ? 1u : 0u;
    }
    out.devices = s.devices;
    out.pushed = expected.size() - missing;
    out.last_push = secs(last - t0);
    out.rate = static_cast<double>(out.pushed) / out.last_push;
    const bool restarted_ok = p.restarted_at >= 0 && p.restart_failure.empty();
    for (unsigned i = 0; i < b.servers.running(); ++i) {
        const bool restarted = restarted_ok && i + 1 == b.servers.running();
        out.by_instance.push_back(restarted ? p.carried + b.servers.delivered_pushes(i)
                                            : b.servers.delivered_pushes(i) - delivered0[i]);
    }
    if (!p.restart_failure.empty()) {
        out.by_instance.push_back(p.carried);  // until it stopped
    }
    out.get_p50 = percentile(p.get_ms, 0.5);
    out.get_p99 = percentile(p.get_ms, 0.99);
    out.outbox_peak = p.outbox_peak;

    auto db = connect_db(b.storage_url);
    auto row = db->prepare(kRolloutSql);
    row.bind(1, s.id);
    if (!row.step()) {
        throw std::runtime_error("rollout row missing");
    }
    out.done_at = static_cast<double>(row.int64(1) - t0_unix) / 1000.0;
    const std::int64_t cards_total = row.int64(2), cards_done = row.int64(3);
    const std::string state = row.text(5);
    std::string split;
    for (std::size_t i = 0; i < out.by_instance.size(); ++i) {
        split += (i == 0 ? "" : " / ") + std::to_string(std::llround(out.by_instance[i]));
    }
    std::printf(
        "  pushes: %zu of %zu devices answered 200 (%zu answers of 200, %zu beyond one per "
        "device); first %.2f s, last %.2f s after the PATCH: %.0f pushes/s (%.1f%% of the "
        "ceiling); rollout %s at %.2f s, %lld of %lld cards; delivered by instance %s\n",
        out.pushed, expected.size(), out.answers, out.answers - pushed.size(), secs(first - t0),
        out.last_push, out.rate, 100.0 * out.rate / out.ceiling, state.c_str(), out.done_at,
        static_cast<long long>(cards_done), static_cast<long long>(cards_total), split.c_str());
    std::printf(
        "  outbox peak %zu rows (counted every second); GET rollout meanwhile p50 %.1f ms, p99 "
        "%.1f ms; CPU %s\n",
        out.outbox_peak, out.get_p50, out.get_p99, describe(out.cpu).c_str());
    if (b.pg != nullptr) {
        std::printf("    %s\n", b.pg->statement_profile(b.pg_database,
                                                        static_cast<double>(s.devices), "device", 8)
                                    .c_str());
        std::printf("    %s\n", b.pg->table_health(b.pg_database, "outbox").c_str());
    }
    bool till_ok = true;
    if (till) {
        std::string report;
        till_ok = till->verify(report);
        out.during = till->run;
        std::printf(
            "  transactions on the rollout's cards meanwhile (%u clients): %.0f/s, p50 %.2f ms, "
            "p99 %.2f ms, max %.1f ms; %s\n",
            o.tx_clients, out.during.rate, out.during.p50, out.during.p99, out.during.max,
            report.c_str());
        out.verification += "; transactions meanwhile: " + report;
    }
    if (p.restarted_at >= 0) {
        const std::string what = p.restart_failure.empty() ? "restarted"
                                                           : "stopped and did not start again (" +
                                                                 p.restart_failure + ")";
        std::printf("  the last instance was %s %.1f s after the PATCH\n", what.c_str(),
                    p.restarted_at);
        out.verification += "; the last instance " + what;
    }
    const std::string outbox = outbox_states(b.storage_url);
    out.verified = till_ok && p.restart_failure.empty() && missing == 0 &&
                   expected.size() == s.devices && state == "done" && cards_done == cards_total &&
                   drained && outbox == "empty";
    out.verification = std::to_string(out.pushed) + " of " + std::to_string(expected.size()) +
                       " devices pushed, " + std::to_string(out.answers - pushed.size()) +
                       " extra answers, rollout " + state + ", outbox " + outbox + out.verification;
    std::printf("  verified: %s: %s\n", out.verified ? "yes" : "NO", out.verification.c_str());
    return out;
}

}  // namespace cardsmith::bench
