// Google Wallet update throughput on loopback (issue 5): google::Wallet::async_update_object
// PATCHing one LoyaltyObject on the in-process fake Google (HTTPS, HTTP/1.1 keep-alive),
// next to the ceiling measured in the same run: wrk (a plain HTTP/1.1 load tool, a separate
// process) sending the same PATCH (same path, JSON body and headers, a bearer token of its
// own from the fake's token endpoint) to the same fake over keep-alive connections. The
// fake's record of every call checks that both sides sent the same request and got 200.
//
//  (a) 1 connection: one coroutine awaiting one update after the other, against wrk -t1 -c1.
//  (b) C concurrent coroutines (the RestClient keeps at most 8 idle connections: beyond 8
//      it opens and drops connections), against wrk -t1 -cC.
// Our side is one io_context thread (the bench's main thread), wrk one thread. The fake has
// ONE io thread doing TLS, HTTP parsing, JSON parse/merge/serialize and recording every
// call under a mutex: with several connections it is the bottleneck of both sides, so the
// ratio says how much our client costs on top, not what Google would take. The CPU each
// side used per request is printed, and what limited each run.
// Also printed: the client's per-PATCH work without I/O (cached token lookup, body).
//
// usage: google_bench [--seconds S (default 5)] [--concurrency C (default 8)]
//                     [--rounds R (default 2)]
// Each figure is the best of R interleaved rounds (loopback numbers are noisy); wrk must be
// on PATH (Debian package `wrk`, scripts/deps.sh).
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/net.hpp"
#include "common/random.hpp"
#include "config/config.hpp"
#include "crypto/dev_certs.hpp"
#include "domain/models.hpp"
#include "fake_google.hpp"
#include "google/jwt.hpp"
#include "google/loyalty.hpp"
#include "google/rest_client.hpp"
#include "google/token_source.hpp"
#include "google/wallet.hpp"
#include "http/client.hpp"

using namespace cardsmith;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kIssuer = "3388000000022123456";

struct Args {
    double seconds = 5;
    unsigned concurrency = 8;
    unsigned rounds = 2;
};

// CPU seconds of this process, of this (the main) thread and of waited-for children.
struct Cpu {
    double self = 0, main_thread = 0, children = 0;
    static double seconds(const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    }
    static Cpu now() {
        Cpu c;
        rusage r{};
        getrusage(RUSAGE_SELF, &r);
        c.self = seconds(r.ru_utime) + seconds(r.ru_stime);
        getrusage(RUSAGE_CHILDREN, &r);
        c.children = seconds(r.ru_utime) + seconds(r.ru_stime);
        timespec ts{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        c.main_thread = static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
        return c;
    }
};

// --- ours ---------------------------------------------------------------------------------

struct Tally {
    std::size_t ok = 0, failed = 0;
    std::string first_failure;
    std::vector<double> latency_ms;
    Clock::time_point last_done{};
};

struct OursRun {
    double rate = 0;  // PATCHes answered 2xx per second
    std::size_t ok = 0;
    double p50_ms = 0, p99_ms = 0;
    std::size_t opened_warm = 0;    // connections the RestClient opened in the warm-up
    std::size_t opened_during = 0;  // and during the timed part
    std::size_t opened_total = 0;   // since the Wallet was made (token + set-up included)
    double fake_cores = 0, client_cores = 0;
};

struct Target {
    google::Wallet* wallet;
    const domain::Program* program;
    const domain::Card* card;
};

net::awaitable<void> updater(Target t, Clock::time_point end, Tally& tally) {
    while (Clock::now() < end) {
        const auto start = Clock::now();
        const google::Outcome out =
            co_await t.wallet->async_update_object(*t.program, *t.card, false);
        const auto done = Clock::now();
        if (out.ok()) {
            ++tally.ok;
            tally.latency_ms.push_back(
                std::chrono::duration<double, std::milli>(done - start).count());
        } else {
            if (tally.failed++ == 0) {
                tally.first_failure = std::to_string(out.status) + " " + out.message;
            }
        }
        tally.last_done = std::max(tally.last_done, done);
    }
}

double percentile(std::vector<double>& v, double q) {
    if (v.empty()) {
        return 0;
    }
    const auto k = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
}

// `coroutines` loops of awaited updates for `seconds` on the caller's thread.
OursRun run_ours(net::io_context& ioc, Target t, unsigned coroutines, double seconds) {
    // Warm-up (not timed): brings up to `coroutines` pooled connections.
    const std::size_t opened_start = t.wallet->connections_opened();
    {
        Tally warm;
        const auto warm_end = Clock::now() + std::chrono::milliseconds(200);
        for (unsigned i = 0; i < coroutines; ++i) {
            net::co_spawn(ioc, updater(t, warm_end, warm), net::detached);
        }
        ioc.run();
        ioc.restart();
    }
    Tally tally;
    tally.latency_ms.reserve(1 << 20);
    const std::size_t opened_before = t.wallet->connections_opened();
    const Cpu cpu0 = Cpu::now();
    const auto start = Clock::now();
    const auto end =
        start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    std::exception_ptr failure;
    for (unsigned i = 0; i < coroutines; ++i) {
        net::co_spawn(ioc, updater(t, end, tally), [&failure](std::exception_ptr e) {
            if (e && !failure) {
                failure = e;
            }
        });
    }
    ioc.run();
    ioc.restart();
    const Cpu cpu1 = Cpu::now();
    if (failure) {
        std::rethrow_exception(failure);
    }
    if (tally.failed > 0) {
        throw std::runtime_error("google::Wallet: " + std::to_string(tally.failed) +
                                 " updates failed, first: " + tally.first_failure);
    }
    const double elapsed = std::chrono::duration<double>(tally.last_done - start).count();
    OursRun r;
    r.ok = tally.ok;
    r.rate = elapsed > 0 ? static_cast<double>(tally.ok) / elapsed : 0;
    r.p50_ms = percentile(tally.latency_ms, 0.50);
    r.p99_ms = percentile(tally.latency_ms, 0.99);
    r.opened_total = t.wallet->connections_opened();
    r.opened_warm = opened_before - opened_start;
    r.opened_during = r.opened_total - opened_before;
    r.client_cores = (cpu1.main_thread - cpu0.main_thread) / elapsed;
    r.fake_cores = (cpu1.self - cpu0.self - (cpu1.main_thread - cpu0.main_thread)) / elapsed;
    return r;
}

// The class and the object; the first call also buys the Wallet's token.
net::awaitable<void> ensure_object(Target t, google::Outcome& out) {
    out = co_await t.wallet->async_ensure_object(*t.program, *t.card);  // class on the 404
}

// --- the token for wrk --------------------------------------------------------------------

net::awaitable<std::string> fetch_token(google::RestClient& client,
                                        const google::ServiceAccount& account, std::string audience,
                                        std::string path) {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    const std::string body =
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=" +
        google::token_assertion(account, audience, now);
    const std::vector<std::pair<std::string, std::string>> headers{
        {"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
    const http_server::IncomingResponse res =
        co_await client.async_request(http::verb::post, path, body, headers);
    if (res.status != 200) {
        throw std::runtime_error("token endpoint answered " + std::to_string(res.status) + ": " +
                                 res.body);
    }
    const json::value v = json::parse(res.body);
    co_return std::string(v.at("access_token").as_string());
}

// --- client-side costs without I/O ---------------------------------------------------------

// Mean microseconds of `n` cached-token lookups (TokenSource::async_token once a token is
// held: what every request pays before it is sent).
net::awaitable<void> token_lookups(google::TokenSource& tokens, std::size_t n, double& us) {
    const std::string first = co_await tokens.async_token();  // fetches it
    const auto start = Clock::now();
    std::size_t bytes = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const std::string token = co_await tokens.async_token();
        bytes += token.size();
    }
    us = std::chrono::duration<double, std::micro>(Clock::now() - start).count() /
         static_cast<double>(n);
    if (bytes != n * first.size()) {
        throw std::runtime_error("the token changed during the lookups");
    }
}

// Mean microseconds to build and serialize the PATCH body (object_patch_json + serialize).
double patch_body_us(const domain::Program& p, const domain::Card& c, std::size_t n) {
    std::size_t bytes = 0;
    const auto start = Clock::now();
    for (std::size_t i = 0; i < n; ++i) {
        const json::object patch = google::object_patch_json(p, c, false);
        bytes += json::serialize(patch).size();
    }
    const double us = std::chrono::duration<double, std::micro>(Clock::now() - start).count() /
                      static_cast<double>(n);
    return bytes > 0 ? us : 0;
}

// --- wrk ----------------------------------------------------------------------------------

struct WrkRun {
    double rate = 0;  // wrk's Requests/sec; 0 when it failed
    unsigned long requests = 0;
    double p50_ms = 0, p99_ms = 0;
    double fake_cores = 0, wrk_cores = 0;
};

double wrk_ms(const char* text) {
    char* unit = nullptr;
    const double v = std::strtod(text, &unit);
    if (std::strncmp(unit, "us", 2) == 0) return v / 1000;
    if (std::strncmp(unit, "ms", 2) == 0) return v;
    if (std::strncmp(unit, "s", 1) == 0) return v * 1000;
    return v;
}

WrkRun run_wrk(const std::string& url, const std::filesystem::path& script, unsigned connections,
               double seconds) {
    const std::string cmd = "wrk -t1 -c" + std::to_string(connections) + " -d" +
                            std::to_string(static_cast<int>(seconds + 0.5)) + "s --latency -s " +
                            script.string() + " " + url + " 2>&1";
    const Cpu cpu0 = Cpu::now();
    const auto start = Clock::now();
    FILE* pipe = popen(cmd.c_str(), "r");
    if (pipe == nullptr) {
        throw std::runtime_error("cannot run: " + cmd);
    }
    WrkRun r;
    bool bad = false;
    std::string output;
    char line[512];
    while (std::fgets(line, sizeof line, pipe) != nullptr) {
        output += line;
        const char* p = line;
        while (*p == ' ') ++p;
        const std::string_view text(p);
        unsigned long n = 0;
        if (text.starts_with("Requests/sec:")) {
            r.rate = std::strtod(p + 13, nullptr);
        } else if (text.starts_with("50%")) {
            r.p50_ms = wrk_ms(p + 3 + std::strspn(p + 3, " "));
        } else if (text.starts_with("99%")) {
            r.p99_ms = wrk_ms(p + 3 + std::strspn(p + 3, " "));
        } else if (text.starts_with("Non-2xx") || text.starts_with("Socket errors")) {
            bad = true;
        } else if (std::sscanf(p, "%lu requests in", &n) == 1) {
            r.requests = n;
        }
    }
    const int status = pclose(pipe);
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    const Cpu cpu1 = Cpu::now();
    if (status != 0 || bad || r.rate == 0) {
        throw std::runtime_error("wrk failed (exit " + std::to_string(status) + "): " + cmd + "\n" +
                                 output);
    }
    // The main thread only waits for wrk meanwhile: this process's CPU is the fake's.
    r.fake_cores = (cpu1.self - cpu0.self - (cpu1.main_thread - cpu0.main_thread)) / elapsed;
    r.wrk_cores = (cpu1.children - cpu0.children) / elapsed;
    return r;
}

bool have_wrk() { return std::system("command -v wrk >/dev/null 2>&1") == 0; }

double load_average() {
    double v = 0;
    std::ifstream("/proc/loadavg") >> v;
    return v;
}

// The recorded calls since the last clear must all be our PATCH answered 200, with the
// same headers as the reference (the first call seen; the bearer token's value aside).
std::size_t check_calls(const test::FakeGoogle& fake, const std::string& path,
                        const std::string& body, const char* who,
                        std::map<std::string, std::string>& reference) {
    const auto calls = fake.calls();
    for (const auto& c : calls) {
        auto headers = c.headers;
        if (const auto it = headers.find("authorization"); it != headers.end()) {
            it->second = it->second.starts_with("Bearer ") ? "Bearer <token>" : it->second;
        }
        if (reference.empty()) {
            reference = headers;
        }
        if (c.method != "PATCH" || c.path != path || c.body != body || c.status != 200 ||
            headers != reference) {
            std::string seen;
            for (const auto& [name, value] : headers) {
                seen += " [" + name + ": " + value + "]";
            }
            throw std::runtime_error(
                std::string(who) + ": the fake saw another request: " + c.method + " " + c.target +
                seen + " -> " + std::to_string(c.status) + " " + c.response_body.substr(0, 200));
        }
    }
    return calls.size();
}

Args parse_args(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        const bool has_value = i + 1 < argc;
        if (arg == "--seconds" && has_value) {
            a.seconds = std::strtod(argv[++i], nullptr);
        } else if (arg == "--concurrency" && has_value) {
            a.concurrency = static_cast<unsigned>(std::strtoul(argv[++i], nullptr, 10));
        } else if (arg == "--rounds" && has_value) {
            a.rounds = static_cast<unsigned>(std::strtoul(argv[++i], nullptr, 10));
        } else {
            std::fprintf(stderr,
                         "usage: google_bench [--seconds S (5)] [--concurrency C (8)] "
                         "[--rounds R (2)]\n");
            std::exit(2);
        }
    }
    if (a.seconds < 1 || a.concurrency < 1 || a.rounds < 1) {
        std::fprintf(stderr, "google_bench: --seconds >= 1, --concurrency >= 1, --rounds >= 1\n");
        std::exit(2);
    }
    return a;
}

int run(const Args& args) {
    if (!have_wrk()) {
        std::fprintf(stderr,
                     "google_bench: wrk not found on PATH; it measures the ceiling "
                     "(apt-get install wrk, or scripts/deps.sh)\n");
        return 1;
    }
    const double load = load_average();
    const auto dir =
        std::filesystem::temp_directory_path() / ("cardsmith-google-bench-" + random::hex(6));
    crypto::make_dev_certs(dir, {});
    struct Cleanup {
        std::filesystem::path dir;
        ~Cleanup() {
            std::error_code ec;
            std::filesystem::remove_all(dir, ec);
        }
    } cleanup{dir};
    const std::string account_file = (dir / "google-service-account.json").string();
    const std::string root_ca = (dir / "root-ca.pem").string();

    test::FakeGoogleOptions fo;
    fo.cert_file = (dir / "server.pem").string();
    fo.key_file = (dir / "server.key").string();
    fo.service_account_file = account_file;
    fo.issuer_id = kIssuer;
    test::FakeGoogle fake(fo);

    domain::Program program;
    program.id = ProgramId(1);
    program.merchant = MerchantId(1);
    program.slug = "bench";
    program.name = "Bench Coffee";
    program.template_name = "coffee";
    program.design.description = "Collect points for every coffee.";
    program.design.default_offer = "Every 10th coffee is on us.";
    program.design.tiers = {{"Bronze", 0}, {"Silver", 500}, {"Gold", 2000}};
    domain::Card card;
    card.id = CardId(1);
    card.program = program.id;
    card.number = CardNumber("4210123456789012");
    card.serial = SerialNumber("bench-serial-0001");
    card.holder.name = "Ana Silva";
    card.balance = 120;
    card.lifetime_points = 620;

    net::io_context ioc(1);
    config::GoogleConfig gc;
    gc.issuer_id = kIssuer;
    gc.service_account = account_file;
    gc.api_base = fake.base_url();
    gc.token_url = fake.token_url();
    gc.ca_file = root_ca;
    google::Wallet wallet(ioc.get_executor(), gc, "https://cards.example.com");
    const Target target{&wallet, &program, &card};

    // Set-up: the class and the object (the first call also buys the Wallet's token).
    std::exception_ptr failure;
    google::Outcome set_up;
    net::co_spawn(ioc, ensure_object(target, set_up),
                  [&failure](std::exception_ptr e) { failure = e; });
    ioc.run();
    ioc.restart();
    if (failure) {
        std::rethrow_exception(failure);
    }
    if (!set_up.ok()) {
        throw std::runtime_error("set-up: " + std::to_string(set_up.status) + " " + set_up.message);
    }

    // wrk's request: the same path, body and headers as ours, its own token.
    const std::string path =
        std::string(test::FakeGoogle::kApiPath) + "/loyaltyObject/" + wallet.object_id(card);
    const std::string body = json::serialize(google::object_patch_json(program, card, false));
    std::string token;
    {
        net::ssl::context tls = http_server::make_client_tls(root_ca);
        const google::ServiceAccount account = google::load_service_account(account_file);
        google::RestClient client("https://127.0.0.1:" + std::to_string(fake.port()), tls);
        const std::string token_path(test::FakeGoogle::kTokenPath);
        net::co_spawn(ioc, fetch_token(client, account, fake.audience(), token_path),
                      [&token, &failure](std::exception_ptr e, std::string t) {
                          failure = e;
                          token = std::move(t);
                      });
        ioc.run();
        ioc.restart();
        if (failure) {
            std::rethrow_exception(failure);
        }
    }
    const auto body_file = dir / "body.json";
    std::ofstream(body_file, std::ios::binary) << body;
    const auto script = dir / "patch.lua";
    std::ofstream(script) << "local f = assert(io.open(\"" << body_file.string()
                          << "\", \"rb\"))\n"
                             "wrk.method = \"PATCH\"\n"
                             "wrk.body = f:read(\"*a\")\n"
                             "f:close()\n"
                             "wrk.headers[\"Authorization\"] = \"Bearer "
                          << token
                          << "\"\n"
                             "wrk.headers[\"Accept\"] = \"application/json\"\n"
                             "wrk.headers[\"Content-Type\"] = \"application/json\"\n"
                             "wrk.headers[\"User-Agent\"] = \"Cardsmith\"\n";
    const std::string url = "https://127.0.0.1:" + std::to_string(fake.port()) + path;

    // What our client does per PATCH besides I/O, measured apart (this thread, no fake).
    double token_us = 0;
    {
        net::ssl::context tls = http_server::make_client_tls(root_ca);
        const google::ServiceAccount account = google::load_service_account(account_file);
        google::RestClient client("https://127.0.0.1:" + std::to_string(fake.port()), tls);
        google::TokenSource tokens(ioc.get_executor(), account, client, fake.token_url());
        net::co_spawn(ioc, token_lookups(tokens, 200'000, token_us),
                      [&failure](std::exception_ptr e) { failure = e; });
        ioc.run();
        ioc.restart();
        if (failure) {
            std::rethrow_exception(failure);
        }
    }
    const double body_us = patch_body_us(program, card, 200'000);
    fake.clear_calls();

    std::printf("google_bench: load average %.2f at start, %u cores\n", load,
                std::thread::hardware_concurrency());
    std::printf("PATCH %s, body %zu bytes (balance, tier, offer, holder; no notification)\n",
                path.c_str(), body.size());
    std::printf(
        "fake Google: 1 io thread (TLS, HTTP/1.1, JSON parse/merge/serialize, every call "
        "recorded under a mutex): with several connections it is the limit of both sides\n");
    std::printf("%.0f s per run, best of %u interleaved rounds; ours: 1 io thread; wrk: -t1\n",
                args.seconds, args.rounds);
    std::printf(
        "google client per PATCH without I/O: cached token lookup (TokenSource::async_token) "
        "%.2f us, PATCH body (object_patch_json + serialize) %.2f us\n\n",
        token_us, body_us);

    const unsigned levels[2] = {1, args.concurrency};
    const unsigned n_levels = args.concurrency == 1 ? 1 : 2;
    OursRun ours[2];
    WrkRun ceiling[2];
    std::size_t opened_after_first = 0;
    std::map<std::string, std::string> same_headers;  // of the first PATCH the fake saw
    for (unsigned round = 0; round < args.rounds; ++round) {
        for (unsigned i = 0; i < n_levels; ++i) {
            WrkRun w = run_wrk(url, script, levels[i], args.seconds);
            const std::size_t seen = check_calls(fake, path, body, "wrk", same_headers);
            fake.clear_calls();
            if (seen < w.requests) {
                throw std::runtime_error("wrk reported more requests than the fake answered");
            }
            OursRun o = run_ours(ioc, target, levels[i], args.seconds);
            check_calls(fake, path, body, "google::Wallet", same_headers);
            fake.clear_calls();
            if (round == 0 && i == 0) {
                opened_after_first = o.opened_total;
            }
            std::printf(
                "round %u, %2u conn: wrk %7.0f req/s, google::Wallet %7.0f PATCHes/s "
                "(connections opened: warm-up %zu, timed %zu)\n",
                round + 1, levels[i], w.rate, o.rate, o.opened_warm, o.opened_during);
            std::fflush(stdout);
            if (w.rate > ceiling[i].rate) ceiling[i] = w;
            if (o.rate > ours[i].rate) ours[i] = o;
        }
    }
    std::printf("\n");
    // What limited a run: the fake's one thread when it was busy all the time, else the
    // round trip (each side waits for the other; neither is busy all the time).
    const auto limit = [](double fake_cores) {
        return fake_cores >= 0.9 ? "limit: the fake's thread (saturated)"
                                 : "limit: round-trip latency (no thread saturated)";
    };
    for (unsigned i = 0; i < n_levels; ++i) {
        const WrkRun& w = ceiling[i];
        std::printf(
            "ceiling wrk -t1 -c%-3u        %7.0f req/s      p50 %.3f ms, p99 %.3f ms; CPU per "
            "request: fake %.0f us (%.2f cores), wrk %.0f us (%.2f cores); %s\n",
            levels[i], w.rate, w.p50_ms, w.p99_ms, 1e6 * w.fake_cores / w.rate, w.fake_cores,
            1e6 * w.wrk_cores / w.rate, w.wrk_cores, limit(w.fake_cores));
    }
    for (unsigned i = 0; i < n_levels; ++i) {
        const OursRun& o = ours[i];
        const double ratio = ceiling[i].rate > 0 ? 100.0 * o.rate / ceiling[i].rate : 0;
        std::printf(
            "google::Wallet %3u %s %7.0f PATCHes/s  p50 %.3f ms, p99 %.3f ms; %.0f%% of wrk -c%u; "
            "CPU per PATCH: fake %.0f us (%.2f cores), ours %.0f us (%.2f cores); %s; "
            "connections opened: warm-up %zu, timed %zu\n",
            levels[i], i == 0 ? "sequential " : "concurrent ", o.rate, o.p50_ms, o.p99_ms, ratio,
            levels[i], 1e6 * o.fake_cores / o.rate, o.fake_cores, 1e6 * o.client_cores / o.rate,
            o.client_cores, limit(o.fake_cores), o.opened_warm, o.opened_during);
    }
    std::printf(
        "RestClient connections: %zu after set-up (token, class, object) and the first "
        "1-connection run%s; %zu in all; token refreshes %zu\n",
        opened_after_first, opened_after_first == 1 ? " (one reused connection)" : " (expected 1!)",
        wallet.connections_opened(), wallet.token_refreshes());
    std::printf(
        "every PATCH the fake saw (wrk's and ours): answered 200, same path, body and %zu headers:",
        same_headers.size());
    for (const auto& [name, value] : same_headers) {
        std::printf(" %s", name.c_str());
    }
    std::printf("\n");
    return opened_after_first == 1 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const Args args = parse_args(argc, argv);
    try {
        return run(args);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "google_bench: %s\n", e.what());
        return 1;
    }
}
