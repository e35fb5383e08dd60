// APNs client throughput on loopback against the in-process fake APNs, next to the
// ceiling measured in the same run: h2load (nghttp2's HTTP/2 load generator, a separate
// process) sending the same POSTs to the same fake.
//
// Two fake instances with identical settings (1 thread, 1000 streams per connection,
// pushes counted, not recorded): h2load has no client certificate, so its fake does not
// ask for one; ours demands the pass certificate like APNs. Each side then uses one
// thread: the fake's, plus h2load's or our client's io_context (which also runs the
// loop that keeps `in_flight` pushes outstanding: each completion starts the next push).
//
// usage: apns_bench [pushes (default 200000)] [in_flight (default 1000)] [rounds (default 3)]
// Each figure is the best of `rounds` interleaved runs (loopback numbers are noisy).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <string_view>

#include "apns/client.hpp"
#include "apns_load.hpp"
#include "common/random.hpp"
#include "crypto/dev_certs.hpp"
#include "fake_apns.hpp"

using namespace cardsmith;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kTopic = "pass.dev.cardsmith";
constexpr const char* kToken = "4f1c2b6e9a0d3c5b7e8f1a2d3c4b5a69788796a5b4c3d2e1f0a1b2c3d4e5f607";

testing::FakeApnsOptions fake_options(const std::filesystem::path& dir, bool client_cert) {
    testing::FakeApnsOptions o;
    o.cert_file = (dir / "server.pem").string();
    o.key_file = (dir / "server.key").string();
    o.ca_file = (dir / "root-ca.pem").string();
    o.require_client_cert = client_cert;
    o.record = false;
    return o;
}

// Runs h2load; returns its req/s (0 when it failed or not every request succeeded).
double h2load(std::uint16_t port, std::size_t n, unsigned clients, unsigned streams,
              const std::filesystem::path& body) {
    const std::string cmd = "h2load -n " + std::to_string(n) + " -c " + std::to_string(clients) +
                            " -m " + std::to_string(streams) + " -H 'apns-topic: " + kTopic +
                            "' -d " + body.string() + " https://127.0.0.1:" + std::to_string(port) +
                            "/3/device/" + kToken + " 2>&1";
    FILE* pipe = popen(cmd.c_str(), "r");
    if (pipe == nullptr) {
        return 0;
    }
    double rate = 0;
    unsigned long succeeded = 0;
    std::string output;
    char line[512];
    while (std::fgets(line, sizeof line, pipe) != nullptr) {
        output += line;
        // "finished in 1.23s, 81234.56 req/s, 3.45MB/s" (the time unit varies: s, ms)
        const std::string_view text(line);
        if (text.starts_with("finished in ")) {
            if (const auto comma = text.find(", "); comma != std::string_view::npos) {
                rate = std::strtod(line + comma + 2, nullptr);
            }
        }
        unsigned long total = 0;
        unsigned long started = 0;
        unsigned long done = 0;
        if (std::sscanf(line, "requests: %lu total, %lu started, %lu done, %lu succeeded", &total,
                        &started, &done, &succeeded) == 4) {
        }
    }
    const int status = pclose(pipe);
    if (status != 0 || succeeded != n || rate == 0) {
        std::fprintf(stderr, "h2load failed (exit %d, %lu of %zu succeeded): %s\n%s\n", status,
                     succeeded, n, cmd.c_str(), output.c_str());
        return 0;
    }
    return rate;
}

// Sends `n` pushes through one Client with `connections`, keeping `in_flight` outstanding.
bench::ClientRun run_client(const std::filesystem::path& dir, std::uint16_t port,
                            unsigned connections, std::size_t n, std::size_t in_flight) {
    return bench::run_apns_client(dir, port, connections, n, in_flight, kToken, kTopic);
}

}  // namespace

int main(int argc, char** argv) {
    const std::size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 200'000;
    const std::size_t in_flight = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 1000;
    const auto rounds = static_cast<unsigned>(argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 3);
    const auto dir =
        std::filesystem::temp_directory_path() / ("cardsmith-apns-bench-" + random::hex(6));
    crypto::make_dev_certs(dir, {});
    const auto body = dir / "body.json";
    std::ofstream(body) << "{}";

    testing::FakeApns open_fake(fake_options(dir, false));  // for h2load
    testing::FakeApns cert_fake(fake_options(dir, true));   // for our client

    std::printf(
        "%zu pushes per run, body {}, fake: 1 thread, 1000 streams per connection; "
        "best of %u interleaved rounds\n",
        n, rounds);
    double c1m100 = 0;
    double c1m1000 = 0;
    double c4m250 = 0;
    bench::ClientRun ours[2];
    for (unsigned round = 0; round < rounds; ++round) {
        c1m100 = std::max(c1m100, h2load(open_fake.port(), n, 1, 100, body));
        c1m1000 = std::max(c1m1000, h2load(open_fake.port(), n, 1, 1000, body));
        c4m250 = std::max(c4m250, h2load(open_fake.port(), n, 4, 250, body));
        for (const unsigned i : {0u, 1u}) {
            bench::ClientRun run = run_client(dir, cert_fake.port(), i == 0 ? 1 : 4, n, in_flight);
            if (run.ok != n) {
                std::fprintf(stderr, "apns::Client: only %zu of %zu pushes ok\n", run.ok, n);
                return 1;
            }
            if (run.rate > ours[i].rate) {
                ours[i] = std::move(run);
            }
        }
    }
    std::printf("ceiling h2load -c 1 -m 100:  %9.0f req/s\n", c1m100);
    std::printf("ceiling h2load -c 1 -m 1000: %9.0f req/s\n", c1m1000);
    std::printf("ceiling h2load -c 4 -m 250:  %9.0f req/s\n", c4m250);
    const double ceiling1 = std::max(c1m100, c1m1000);
    for (const unsigned i : {0u, 1u}) {
        const double ceiling = i == 0 ? ceiling1 : c4m250;
        std::printf(
            "apns::Client %u connection%s, %zu in flight: %9.0f pushes/s (%.0f%% of h2load %s), "
            "connects %llu, retried %llu\n",
            i == 0 ? 1 : 4, i == 0 ? " " : "s", in_flight, ours[i].rate,
            ceiling > 0 ? 100.0 * ours[i].rate / ceiling : 0.0,
            i == 0 ? "-c 1 best" : "-c 4 -m 250",
            static_cast<unsigned long long>(ours[i].stats.connects),
            static_cast<unsigned long long>(ours[i].stats.retried));
    }
    std::filesystem::remove_all(dir);
    return 0;
}
