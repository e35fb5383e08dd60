// instances_bench's transactions phase (instances_bench.hpp). Set-up: T cards on program
// "till" created through the API and one Apple device registered for each through the web
// service (round robin over the instances), so every transaction also queues and sends a
// push, as in production. Then, each for S seconds with K clients:
//   ceiling  GET /healthz (no database) through the same client and instances: HTTP alone;
//   ceiling  Store::apply_transaction in this process on the same database (the servers
//            stopped) with as many threads as the servers have database threads together:
//            the store's own write path, no HTTP, JSON or auth;
//   run      POST /api/v1/cards/{n}/transactions {"points":p} with a fresh Idempotency-Key,
//            uniform over the T cards, then all on H hot cards.
// Afterwards: a race (the same key and body sent to two instances at once: one applies, the
// other replays), replays of applied keys through another instance, the outbox drained, and
// every card's balance and ledger rows checked against what was answered 201.
#include <atomic>
#include <boost/json.hpp>
#include <cstdio>
#include <map>
#include <stdexcept>
#include <thread>
#include <unordered_set>

#include "common/random.hpp"
#include "http_client.hpp"
#include "http_load.hpp"
#include "instances_bench.hpp"
#include "storage/store.hpp"

namespace cardsmith::bench {
namespace {

struct TillCard {
    std::int64_t id = 0;
    std::string number, serial, auth_token, device, token;
    std::int64_t balance = 0, rows = 0, row_points = 0;  // ledger rows and their sum
};

// Applied transactions per card over the whole phase, and the other answers.
struct Ledger {
    std::vector<std::int64_t> points, count;
    std::map<unsigned, std::size_t> statuses;  // answers other than 201, by status
    std::size_t replayed = 0;                  // 201 replays where none was expected
    std::size_t resolved = 0;                  // unknown outcomes settled by a resend
    std::size_t race_failures = 0;
    std::string first_problem;
    void apply(std::size_t card, std::int64_t p) {
        points[card] += p;
        ++count[card];
    }
    void problem(const std::string& what) {
        if (first_problem.empty()) {
            first_problem = what;
        }
    }
};

// Request i of a run goes to card mix(i) % cards with 1 + i % 9 points.
struct Pick {
    std::size_t cards = 1;
    [[nodiscard]] std::size_t card(std::size_t i) const { return scramble(i) % cards; }
    [[nodiscard]] static std::int64_t points(std::size_t i) {
        return 1 + static_cast<std::int64_t>(i % 9);
    }
};

constexpr const char* kCardsSql =
    "SELECT c.id, c.card_number, c.serial, c.auth_token, c.balance, (SELECT COUNT(*) FROM "
    "transactions t WHERE t.card_id = c.id), (SELECT COALESCE(SUM(t.points), 0) FROM "
    "transactions t WHERE t.card_id = c.id) FROM cards c JOIN programs p ON p.id = c.program_id "
    "WHERE p.slug = 'till' ORDER BY c.id";

std::vector<TillCard> read_cards(const std::string& url) {
    auto c = connect_db(url);
    auto st = c->prepare(kCardsSql);
    std::vector<TillCard> out;
    while (st.step()) {
        TillCard card;
        card.id = st.int64(0);
        card.number = st.text(1);
        card.serial = st.text(2);
        card.auth_token = st.text(3);
        card.balance = st.int64(4);
        card.rows = st.int64(5);
        card.row_points = st.int64(6);
        out.push_back(std::move(card));
    }
    return out;
}

void throw_if_failed(const HttpLoad& load, const std::string& what) {
    if (load.failures > 0 || load.transport_errors > 0) {
        throw std::runtime_error(what + ": " + std::to_string(load.failures) + " failed, " +
                                 std::to_string(load.transport_errors) +
                                 " without answer; first: " + load.first_failure);
    }
}

std::vector<TillCard> set_up_cards(BenchSetup& b, const TxOptions& o) {
    const auto t0 = Clock::now();
    const std::string auth = "Bearer " + b.merchant_key;
    HttpLoad create;
    create.endpoints = b.servers.endpoints();
    create.clients = o.clients;
    create.count = o.cards;
    create.make = [&](std::size_t i, unsigned) {
        return make_http_request(
            http::verb::post, std::string("/api/v1/programs/") + kTillSlug + "/cards", auth,
            R"({"holder":{"email":"t)" + std::to_string(i) + R"(@example.com"}})");
    };
    create.check = [](std::size_t, const HttpResponse& r) { return r.result_int() == 201; };
    run_http_load(b.ioc, create);
    throw_if_failed(create, "create cards");
    auto cards = read_cards(b.storage_url);
    if (cards.size() != o.cards) {
        throw std::runtime_error("the database holds " + std::to_string(cards.size()) +
                                 " till cards, " + std::to_string(o.cards) + " were created");
    }
    for (std::size_t i = 0; i < cards.size(); ++i) {
        cards[i].device = "till-device-" + std::to_string(i);
        cards[i].token = random::hex(32);
    }
    HttpLoad reg;
    reg.endpoints = b.servers.endpoints();
    reg.clients = o.clients;
    reg.count = cards.size();
    reg.make = [&](std::size_t i, unsigned) {
        const TillCard& c = cards[i];
        return make_http_request(
            http::verb::post,
            "/apple/v1/devices/" + c.device + "/registrations/" + kPassType + "/" + c.serial,
            "ApplePass " + c.auth_token, R"({"pushToken":")" + c.token + R"("})");
    };
    reg.check = [](std::size_t, const HttpResponse& r) { return r.result_int() == 201; };
    run_http_load(b.ioc, reg);
    throw_if_failed(reg, "register devices");
    std::printf(
        "  set-up: %zu cards on program %s created through the API and one device each "
        "registered through the web service, %u keep-alive clients round robin over %u "
        "instance(s): %.1f s\n",
        cards.size(), kTillSlug, o.clients, b.servers.running(),
        std::chrono::duration<double>(Clock::now() - t0).count());
    return cards;
}

void print_run(const char* name, const TxRun& r, const std::string& against = {}) {
    std::printf("  %-60s %8.0f/s  p50 %6.2f ms  p99 %7.2f ms  max %7.1f ms%s\n", name, r.rate,
                r.p50, r.p99, r.max, against.c_str());
    std::string split;
    for (std::size_t i = 0; i < r.by_instance.size(); ++i) {
        split += (i == 0 ? "" : " / ") + std::to_string(r.by_instance[i]);
    }
    std::printf("  %-60s %zu done, %zu errors%s; CPU %s\n", "", r.applied, r.errors,
                r.by_instance.size() > 1 ? (", by instance " + split).c_str() : "",
                describe(r.cpu).c_str());
}

std::string ratio(const char* what, double rate, double ceiling) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "  %.0f%% of %s", 100.0 * rate / ceiling, what);
    return buf;
}

// The store's apply rate in this process, no HTTP (the servers are stopped), on as many
// threads and connections as the servers' database pools have together: the same number
// of transactions at once as the servers can run.
TxRun store_run(BenchSetup& b, const std::vector<TillCard>& cards, const Pick& pick,
                const TxOptions& o, unsigned threads, const std::string& phase, Ledger& ledger) {
    auto store = storage::open_store(b.storage_url, threads, 5000);
    struct Worker {
        std::vector<double> ms;
        std::vector<std::pair<std::size_t, std::int64_t>> applied;
        std::size_t errors = 0;
        std::string first_error;
    };
    std::vector<Worker> workers(threads);
    std::atomic<std::size_t> next{0};
    const CpuMark m0 = cpu_mark(b);
    const auto deadline = m0.at + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(o.seconds));
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            Worker& w = workers[t];
            while (Clock::now() < deadline) {
                const std::size_t i = next++;
                const std::size_t card = pick.card(i);
                storage::NewTransaction tx;
                tx.card = CardId(cards[card].id);
                tx.merchant = MerchantId(b.merchant_id);
                tx.idempotency_key = "store-" + phase + "-" + std::to_string(i);
                tx.request_hash = "bench";
                tx.points = Pick::points(i);
                tx.note = "bench";
                tx.now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
                const auto sent = Clock::now();
                try {
                    const auto out = store->apply_transaction(tx);
                    if (out.status == storage::LedgerStatus::applied) {
                        w.applied.emplace_back(card, tx.points);
                    } else if (w.errors++ == 0) {
                        w.first_error = "status " + std::to_string(static_cast<int>(out.status));
                    }
                } catch (const std::exception& e) {
                    if (w.errors++ == 0) {
                        w.first_error = e.what();
                    }
                }
                w.ms.push_back(
                    std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
            }
        });
    }
    for (auto& t : pool) {
        t.join();
    }
    const CpuMark m1 = cpu_mark(b);
    std::vector<double> ms;
    std::size_t applied = 0, errors = 0;
    for (const auto& w : workers) {
        ms.insert(ms.end(), w.ms.begin(), w.ms.end());
        for (const auto& [card, points] : w.applied) {
            ledger.apply(card, points);
        }
        applied += w.applied.size();
        errors += w.errors;
        if (w.errors > 0) {
            ledger.problem("store ceiling: " + w.first_error);
        }
    }
    return summarize(std::move(ms), applied, errors, secs(m1.at - m0.at), cpu_share(m0, m1));
}

std::string tx_body(std::size_t i) {
    return R"({"points":)" + std::to_string(Pick::points(i)) + R"(,"note":"bench"})";
}

std::string tx_target(const TillCard& c) { return "/api/v1/cards/" + c.number + "/transactions"; }

// Sends request `key` again (same body) to `instance` until it has an answer: 201 means
// the transaction is in the ledger (applied now or before).
bool resend_applied(BenchSetup& b, unsigned instance, const TillCard& card, const std::string& key,
                    const std::string& body, bool* replayed = nullptr) {
    test::Client client(b.servers.port(instance));
    const auto res = client.request(http::verb::post, tx_target(card), body,
                                    {{"Authorization", "Bearer " + b.merchant_key},
                                     {"Content-Type", "application/json"},
                                     {"Idempotency-Key", key}});
    if (replayed != nullptr) {
        *replayed = res["Idempotent-Replayed"] == "true";
    }
    return res.result_int() == 201;
}

struct Sent {
    std::size_t card = 0;
    unsigned instance = 0;
    bool applied = false;
};

// POST .../transactions for S seconds; answers booked into the ledger. `log` keeps every
// request's card, instance and outcome (for the replays).
TxRun http_run(BenchSetup& b, const std::vector<TillCard>& cards, const Pick& pick,
               const TxOptions& o, const std::string& phase, Ledger& ledger,
               std::vector<Sent>& log) {
    const std::string auth = "Bearer " + b.merchant_key;
    std::vector<std::size_t> unknown;
    HttpLoad load;
    load.endpoints = b.servers.endpoints();
    load.clients = o.clients;
    load.seconds = o.seconds;
    load.make = [&](std::size_t i, unsigned instance) {
        Sent s;
        s.card = pick.card(i);
        s.instance = instance;
        log.push_back(s);
        auto req = make_http_request(http::verb::post, tx_target(cards[s.card]), auth, tx_body(i));
        req.set("Idempotency-Key", phase + "-" + std::to_string(i));
        return req;
    };
    load.check = [&](std::size_t i, const HttpResponse& r) {
        const unsigned status = r.result_int();
        if (status == 201 && r["Idempotent-Replayed"] != "true") {
            ledger.apply(log[i].card, Pick::points(i));
            log[i].applied = true;
            return true;
        }
        if (status == 201) {
            ++ledger.replayed;
        } else {
            ++ledger.statuses[status];
        }
        if (status >= 500) {
            unknown.push_back(i);
        }
        ledger.problem(phase + " request " + std::to_string(i) + ": " + std::to_string(status) +
                       " " + r.body().substr(0, 200));
        return false;
    };
    load.lost = [&](std::size_t i) { unknown.push_back(i); };
    const std::size_t pushes0 = b.fake.count_ok();
    const CpuMark m0 = cpu_mark(b);
    run_http_load(b.ioc, load);
    const CpuMark m1 = cpu_mark(b);
    std::size_t applied = 0;
    for (const auto& s : log) {
        applied += s.applied ? 1 : 0;
    }
    TxRun r = summarize(load.latency_ms, applied, load.failures + load.transport_errors,
                        load.elapsed, cpu_share(m0, m1));
    r.by_instance = load.by_instance;
    // Without an answer (or with a 5xx) the outcome is unknown: the key tells.
    for (const std::size_t i : unknown) {
        const auto& s = log[i];
        if (resend_applied(b, 0, cards[s.card], phase + "-" + std::to_string(i), tx_body(i))) {
            ledger.apply(s.card, Pick::points(i));
            ++ledger.resolved;
        }
    }
    if (load.reconnects > 0) {
        ledger.problem(phase + ": " + std::to_string(load.reconnects) + " reconnects");
    }
    std::printf("  (%s: %zu pushes answered by the fake APNs meanwhile)\n", phase.c_str(),
                b.fake.count_ok() - pushes0);
    return r;
}

net::awaitable<void> exchange_into(HttpConnection& conn, HttpRequest& req, HttpResponse& res,
                                   error_code& ec) {
    ec = co_await conn.async_exchange(req, res);
}

std::int64_t transaction_id(const HttpResponse& r) {
    try {
        return boost::json::parse(r.body()).at("transaction").at("id").to_number<std::int64_t>();
    } catch (const std::exception&) {
        return -1;
    }
}

// The same key and body to the first and the last instance at once, `pairs` times, 8 pairs
// in flight: exactly one of each pair must apply, the other replay the same transaction.
void race(BenchSetup& b, const std::vector<TillCard>& cards, const TxOptions& o, Ledger& ledger) {
    constexpr std::size_t kInFlight = 8;
    const auto eps = b.servers.endpoints();
    std::vector<std::unique_ptr<HttpConnection>> conns;
    for (std::size_t k = 0; k < 2 * kInFlight; ++k) {
        conns.push_back(std::make_unique<HttpConnection>(b.ioc.get_executor(),
                                                         k % 2 == 0 ? eps.front() : eps.back()));
    }
    const Pick pick{cards.size()};
    std::size_t applied_once = 0;
    for (std::size_t first = 0; first < o.race_pairs; first += kInFlight) {
        const std::size_t n = std::min(kInFlight, o.race_pairs - first);
        std::vector<HttpRequest> reqs(2 * n);
        std::vector<HttpResponse> ress(2 * n);
        std::vector<error_code> ecs(2 * n);
        for (std::size_t k = 0; k < 2 * n; ++k) {
            const std::size_t j = first + k / 2;
            reqs[k] = make_http_request(http::verb::post, tx_target(cards[pick.card(j)]),
                                        "Bearer " + b.merchant_key, tx_body(j));
            reqs[k].set("Idempotency-Key", "race-" + std::to_string(j));
            net::co_spawn(b.ioc, exchange_into(*conns[k], reqs[k], ress[k], ecs[k]), net::detached);
        }
        b.ioc.restart();
        b.ioc.run();
        for (std::size_t p = 0; p < n; ++p) {
            const std::size_t j = first + p;
            const auto& a = ress[2 * p];
            const auto& c = ress[2 * p + 1];
            const bool answered = !ecs[2 * p] && !ecs[2 * p + 1];
            const int fresh =
                (answered && a.result_int() == 201 && a["Idempotent-Replayed"] != "true") +
                (answered && c.result_int() == 201 && c["Idempotent-Replayed"] != "true");
            const bool ok = answered && a.result_int() == 201 && c.result_int() == 201 &&
                            fresh == 1 && transaction_id(a) == transaction_id(c);
            for (int f = 0; f < fresh; ++f) {
                ledger.apply(pick.card(j), Pick::points(j));
            }
            if (ok) {
                ++applied_once;
                continue;
            }
            ++ledger.race_failures;
            ledger.problem(
                "race pair " + std::to_string(j) + ": " +
                (answered ? std::to_string(a.result_int()) + " " + a.body().substr(0, 120) + " | " +
                                std::to_string(c.result_int()) + " " + c.body().substr(0, 120)
                          : std::string("no answer")));
            if (fresh == 0) {
                // Neither said it applied: the key tells whether one did.
                bool replayed = false;
                if (resend_applied(b, 0, cards[pick.card(j)], "race-" + std::to_string(j),
                                   tx_body(j), &replayed) &&
                    !replayed) {
                    ledger.apply(pick.card(j), Pick::points(j));
                }
            }
        }
    }
    std::printf(
        "  race: %zu pairs of the same Idempotency-Key and body sent at once to instance 0 and "
        "instance %u: %zu applied exactly once (one 201, one 201 replay of the same "
        "transaction), %zu not\n",
        o.race_pairs, b.servers.running() - 1, applied_once, o.race_pairs - applied_once);
}

// Keys already applied, sent again (same body) to another instance: all must replay.
void replays(BenchSetup& b, const std::vector<TillCard>& cards, const TxOptions& o,
             const std::string& phase, const std::vector<Sent>& log, Ledger& ledger) {
    std::size_t tried = 0, replayed_ok = 0;
    const std::size_t step =
        std::max<std::size_t>(1, log.size() / std::max<std::size_t>(1, o.replays));
    for (std::size_t i = 0; i < log.size() && tried < o.replays; i += step) {
        if (!log[i].applied) {
            continue;
        }
        ++tried;
        const unsigned other = (log[i].instance + 1) % b.servers.running();
        bool replayed = false;
        const bool ok = resend_applied(b, other, cards[log[i].card],
                                       phase + "-" + std::to_string(i), tx_body(i), &replayed);
        if (ok && replayed) {
            ++replayed_ok;
        } else {
            if (ok) {
                ledger.apply(log[i].card, Pick::points(i));  // applied a second time
            }
            ledger.problem("replay of " + phase + "-" + std::to_string(i) + " was not replayed");
        }
    }
    std::printf(
        "  replays: %zu applied keys of the uniform run sent again to the next instance: %zu "
        "answered 201 with Idempotent-Replayed: true\n",
        tried, replayed_ok);
    if (replayed_ok != tried) {
        ++ledger.race_failures;
    }
}

// Every card's balance and ledger rows against what the servers answered; every card with
// a transaction pushed at least once.
bool verify(BenchSetup& b, const std::vector<TillCard>& before, const Ledger& ledger,
            std::string& report) {
    const auto after = read_cards(b.storage_url);
    std::size_t wrong = 0, transactions = 0;
    std::int64_t points = 0;
    std::string first;
    for (std::size_t i = 0; i < before.size() && i < after.size(); ++i) {
        const auto& x = before[i];
        const auto& y = after[i];
        transactions += static_cast<std::size_t>(ledger.count[i]);
        points += ledger.points[i];
        const bool ok = y.balance == x.balance + ledger.points[i] &&
                        y.rows == x.rows + ledger.count[i] &&
                        y.row_points - x.row_points == y.balance - x.balance;
        if (!ok && wrong++ == 0) {
            first = "card " + y.number + ": balance " + std::to_string(y.balance) + ", expected " +
                    std::to_string(x.balance + ledger.points[i]) + "; ledger rows " +
                    std::to_string(y.rows) + ", expected " +
                    std::to_string(x.rows + ledger.count[i]);
        }
    }
    std::unordered_set<std::string> pushed;
    for (const auto& p : b.fake.pushes()) {
        if (p.status == 200) {
            pushed.insert(p.device_token);
        }
    }
    std::size_t touched = 0, unpushed = 0;
    for (std::size_t i = 0; i < before.size(); ++i) {
        if (ledger.count[i] > 0) {
            ++touched;
            unpushed += pushed.count(before[i].token) == 0 ? 1u : 0u;
        }
    }
    const bool ok = wrong == 0 && after.size() == before.size() && unpushed == 0 &&
                    ledger.race_failures == 0 && ledger.replayed == 0;
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "%zu transactions (%lld points) answered 201 on %zu cards; balances and ledger "
                  "rows of all %zu cards %s; %zu of the %zu cards with a transaction pushed; "
                  "outbox %s",
                  transactions, static_cast<long long>(points), touched, after.size(),
                  wrong == 0 ? "exact" : (std::to_string(wrong) + " WRONG").c_str(),
                  touched - unpushed, touched, outbox_states(b.storage_url).c_str());
    report = buf;
    if (!first.empty()) {
        report += "; first wrong: " + first;
    }
    return ok;
}

}  // namespace

TxRun summarize(std::vector<double> ms, std::size_t applied, std::size_t errors, double elapsed,
                const CpuShare& cpu) {
    TxRun r;
    r.applied = applied;
    r.errors = errors;
    r.rate = static_cast<double>(applied) / elapsed;
    r.p50 = percentile(ms, 0.5);
    r.p99 = percentile(ms, 0.99);
    r.max = percentile(ms, 1.0);
    r.cpu = cpu;
    return r;
}

TxResult run_transactions(BenchSetup& b, const TxOptions& o) {
    TxResult result;
    const auto cards = set_up_cards(b, o);
    if (!wait_outbox_drained(b.storage_url, std::chrono::seconds(120))) {
        throw std::runtime_error("the outbox did not drain after the set-up");
    }
    Ledger ledger;
    ledger.points.assign(cards.size(), 0);
    ledger.count.assign(cards.size(), 0);
    const Pick uniform{cards.size()};
    const Pick hot{std::min(o.hot_cards, cards.size())};
    const std::string hot_name = "all on " + std::to_string(hot.cards) + " cards";

    // Ceilings. HTTP alone first, then the store with the servers stopped.
    {
        HttpLoad load;
        load.endpoints = b.servers.endpoints();
        load.clients = o.clients;
        load.seconds = o.seconds;
        load.make = [](std::size_t, unsigned) {
            return make_http_request(http::verb::get, "/healthz", "");
        };
        load.check = [](std::size_t, const HttpResponse& r) { return r.result_int() == 200; };
        const CpuMark m0 = cpu_mark(b);
        run_http_load(b.ioc, load);
        result.http_ceiling =
            summarize(load.latency_ms, load.answered, load.failures + load.transport_errors,
                      load.elapsed, cpu_share(m0, cpu_mark(b)));
        result.http_ceiling.by_instance = load.by_instance;
        print_run("ceiling GET /healthz (HTTP only)", result.http_ceiling);
    }
    const unsigned instances = b.servers.running();
    const unsigned threads = instances * b.servers.storage_threads();
    const std::string store_name =
        "ceiling Store::apply_transaction, " + std::to_string(threads) + " threads, ";
    b.servers.stop();
    result.store_uniform = store_run(b, cards, uniform, o, threads, "uniform", ledger);
    print_run((store_name + "uniform").c_str(), result.store_uniform);
    result.store_hot = store_run(b, cards, hot, o, threads, "hot", ledger);
    print_run((store_name + hot_name).c_str(), result.store_hot);
    // The store ceiling left its pushes in the outbox: the instances start while there is
    // work to claim (each releases only the claims it left itself), and send it.
    b.servers.start(instances);
    if (!wait_outbox_drained(b.storage_url, std::chrono::seconds(300))) {
        throw std::runtime_error("the outbox did not drain after the store ceiling");
    }

    std::vector<Sent> uniform_log, hot_log;
    if (b.pg != nullptr) {
        b.pg->reset_statements(b.pg_database);
    }
    result.uniform = http_run(b, cards, uniform, o, "uniform", ledger, uniform_log);
    if (b.pg != nullptr) {
        std::printf("    %s\n", b.pg->statement_profile(b.pg_database,
                                                        static_cast<double>(result.uniform.applied),
                                                        "transaction (uniform)", 8)
                                    .c_str());
    }
    print_run("POST transactions, uniform", result.uniform,
              ratio("the store", result.uniform.rate, result.store_uniform.rate) + "," +
                  ratio("HTTP", result.uniform.rate, result.http_ceiling.rate));
    result.hot = http_run(b, cards, hot, o, "hot", ledger, hot_log);
    print_run(("POST transactions, " + hot_name).c_str(), result.hot,
              ratio("the store", result.hot.rate, result.store_hot.rate) + "," +
                  ratio("HTTP", result.hot.rate, result.http_ceiling.rate));

    race(b, cards, o, ledger);
    replays(b, cards, o, "uniform", uniform_log, ledger);
    const bool drained = wait_outbox_drained(b.storage_url, std::chrono::seconds(300));
    result.verified = verify(b, cards, ledger, result.verification) && drained;
    std::string answers;
    for (const auto& [status, n] : ledger.statuses) {
        answers += " " + std::to_string(n) + "x" + std::to_string(status);
    }
    if (!answers.empty() || ledger.resolved > 0 || !ledger.first_problem.empty()) {
        result.verification +=
            "; other answers:" + (answers.empty() ? " none" : answers) +
            "; unknown outcomes resolved by resending: " + std::to_string(ledger.resolved) +
            (ledger.first_problem.empty() ? std::string()
                                          : "; first problem: " + ledger.first_problem);
    }
    std::printf("  verified: %s: %s\n", result.verified ? "yes" : "NO",
                result.verification.c_str());
    return result;
}

}  // namespace cardsmith::bench
