#pragma once
// Shared by the benchmarks: an apns::Client in this process sending `n` pushes to a fake
// APNs on 127.0.0.1:`port` over `connections`, keeping `in_flight` outstanding, after a
// warm-up that brings every connection up. The client presents `certs`' pass.pem (WWDR as
// chain) and trusts its root-ca.pem (a `cardsmith dev-certs` folder).
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "apns/client.hpp"

namespace cardsmith::bench {

struct ClientRun {
    double rate = 0;     // pushes/s over the timed part
    std::size_t ok = 0;  // of the timed pushes, answered 200
    apns::ClientStats stats;
};

inline ClientRun run_apns_client(const std::filesystem::path& certs, std::uint16_t port,
                                 unsigned connections, std::size_t n, std::size_t in_flight,
                                 const std::string& token, const std::string& topic) {
    using Clock = std::chrono::steady_clock;
    net::io_context ioc(1);
    apns::ClientOptions options;
    options.host = "127.0.0.1";
    options.port = port;
    options.ca_file = (certs / "root-ca.pem").string();
    options.connections = connections;
    options.max_queued = in_flight * 2;
    auto client = std::make_unique<apns::Client>(
        ioc.get_executor(), options,
        apns::Credentials::from_files(certs / "pass.pem", certs / "pass.key", certs / "wwdr.pem"));
    std::size_t started = 0;
    std::size_t done = 0;
    std::size_t ok = 0;
    std::size_t target = 0;
    Clock::time_point end;
    std::function<void()> launch = [&] {
        ++started;
        client->async_push(apns::Push{token, topic, "{}", std::nullopt, {}},
                           [&](apns::PushResult r) {
                               ++done;
                               ok += r.ok() ? 1u : 0u;
                               if (started < target) {
                                   launch();
                               } else if (done == target) {
                                   end = Clock::now();
                                   ioc.stop();
                               }
                           });
    };
    auto batch = [&](std::size_t count) {
        target += count;
        for (std::size_t i = 0; i < std::min(in_flight, count); ++i) {
            launch();
        }
        ioc.restart();
        ioc.run();
    };
    batch(in_flight * connections * 2);  // warm-up: connections up, caches filled; not timed
    const std::size_t warm_ok = ok;
    const auto start = Clock::now();
    batch(n);
    ClientRun run;
    run.rate = static_cast<double>(n) / std::chrono::duration<double>(end - start).count();
    run.ok = ok - warm_ok;
    run.stats = client->stats();
    client.reset();
    ioc.restart();
    ioc.run_for(std::chrono::seconds(1));
    return run;
}

}  // namespace cardsmith::bench
