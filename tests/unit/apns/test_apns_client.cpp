// apns::Client against the fake APNs (tests/support/fake_apns.hpp): a real HTTP/2 + TLS
// server on loopback that demands our client certificate. The io_context runs on the test
// thread with deadlines (no sleeps) unless a test says otherwise.
#include <atomic>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <future>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "apns/client.hpp"
#include "apns_print.hpp"
#include "common/net.hpp"
#include "dev_pki.hpp"
#include "fake_apns.hpp"

using namespace cardsmith;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kTopic = "pass.dev.cardsmith";

std::string pki_file(const char* name) {
    return (test::DevPki::shared().dir.path() / name).string();
}

testing::FakeApnsOptions fake_options() {
    testing::FakeApnsOptions o;
    o.cert_file = pki_file("server.pem");
    o.key_file = pki_file("server.key");
    o.ca_file = pki_file("root-ca.pem");
    return o;
}

apns::Credentials pass_credentials() {
    return apns::Credentials::from_files(pki_file("pass.pem"), pki_file("pass.key"),
                                         pki_file("wwdr.pem"));
}

std::string token(std::size_t i) {
    char buf[65];
    std::snprintf(buf, sizeof buf, "%064zx", i + 0xabc000);
    return buf;
}

apns::Push push_to(std::string device_token) {
    apns::Push p;
    p.device_token = std::move(device_token);
    p.topic = kTopic;
    return p;
}

std::vector<apns::Push> pushes(std::size_t n) {
    std::vector<apns::Push> out;
    for (std::size_t i = 0; i < n; ++i) {
        out.push_back(push_to(token(i)));
    }
    return out;
}

// 1 connection, short back-off.
apns::ClientOptions client_options(std::uint16_t port) {
    apns::ClientOptions o;
    o.host = "127.0.0.1";
    o.port = port;
    o.ca_file = pki_file("root-ca.pem");
    o.connections = 1;
    o.connect_timeout = 2s;
    o.request_timeout = 10s;
    o.reconnect_delay_min = 20ms;
    o.reconnect_delay_max = 100ms;
    return o;
}

// The fake, an io_context and a client on it (1 connection, short back-off by default).
struct Env {
    testing::FakeApns fake;
    net::io_context ioc;
    std::optional<apns::Client> client;

    explicit Env(const std::function<void(apns::ClientOptions&)>& tweak = {},
                 testing::FakeApnsOptions fake_opts = fake_options(),
                 std::optional<apns::Credentials> credentials = std::nullopt)
        : fake(std::move(fake_opts)) {
        apns::ClientOptions o = client_options(fake.port());
        if (tweak) {
            tweak(o);
        }
        client.emplace(ioc.get_executor(), o,
                       credentials ? std::move(*credentials) : pass_credentials());
    }
    ~Env() {
        client.reset();
        ioc.restart();
        ioc.run_for(3s);  // returns as soon as the client's last operation has ended
    }

    // Runs the io_context until `done()` or the limit; `between` runs after each handler.
    bool run_until(const std::function<bool()>& done, Clock::duration limit,
                   const std::function<void()>& between = {}) {
        const auto deadline = Clock::now() + limit;
        while (!done()) {
            if (Clock::now() >= deadline) {
                return false;
            }
            if (ioc.stopped()) {
                ioc.restart();
            }
            ioc.run_one_for(10ms);
            if (between) {
                between();
            }
        }
        return true;
    }

    struct Batch {
        std::vector<std::optional<apns::PushResult>> results;
        std::size_t done = 0;
        bool finished = false;
        [[nodiscard]] std::size_t count(unsigned status) const {
            std::size_t n = 0;
            for (const auto& r : results) {
                n += r && r->status == status ? 1u : 0u;
            }
            return n;
        }
    };

    // Sends all pushes at once (plain callbacks) and runs until every one completed.
    Batch send_all(std::vector<apns::Push> list, Clock::duration limit = 20s,
                   const std::function<void()>& between = {}) {
        auto batch = std::make_shared<Batch>();
        batch->results.resize(list.size());
        for (std::size_t i = 0; i < list.size(); ++i) {
            client->async_push(std::move(list[i]), [batch, i](apns::PushResult r) {
                BOOST_CHECK(!batch->results[i].has_value());  // exactly once
                batch->results[i] = std::move(r);
                ++batch->done;
            });
        }
        batch->finished =
            run_until([&] { return batch->done == batch->results.size(); }, limit, between);
        return *batch;
    }

    apns::PushResult send_one(apns::Push p, Clock::duration limit = 20s) {
        std::vector<apns::Push> list;
        list.push_back(std::move(p));
        auto batch = send_all(std::move(list), limit);
        BOOST_REQUIRE(batch.finished);
        return *batch.results[0];
    }
};

std::uint64_t status_count(const apns::ClientStats& s, unsigned status) {
    const auto it = s.by_status.find(status);
    return it == s.by_status.end() ? 0 : it->second;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(apns_client)

BOOST_AUTO_TEST_CASE(push_is_delivered_with_its_headers_and_our_certificate) {
    Env env;
    auto p = push_to(token(1));
    p.payload = R"({"aps":{}})";
    p.apns_id = "123e4567-e89b-12d3-a456-426614174000";
    p.expiration = 1700000000;
    const auto r = env.send_one(p);
    BOOST_TEST(r.status == 200u);
    BOOST_TEST(r.ok());
    BOOST_TEST(r.apns_id == p.apns_id);
    BOOST_TEST(apns::classify(r) == apns::Action::done);

    const auto recorded = env.fake.pushes();
    BOOST_REQUIRE_EQUAL(recorded.size(), 1u);
    BOOST_TEST(recorded[0].device_token == p.device_token);
    BOOST_TEST(recorded[0].topic == kTopic);
    BOOST_TEST(recorded[0].body == p.payload);
    BOOST_TEST(recorded[0].apns_id == p.apns_id);
    BOOST_TEST(recorded[0].expiration == "1700000000");
    BOOST_TEST(recorded[0].push_type.empty());  // passes send no apns-push-type
    BOOST_TEST(recorded[0].priority.empty());
    BOOST_TEST(recorded[0].client_subject.find("UID=pass.dev.cardsmith") != std::string::npos);

    const auto s = env.client->stats();
    BOOST_TEST(s.connects == 1u);
    BOOST_TEST(s.connections_up == 1u);
    BOOST_TEST(s.sent == 1u);
    BOOST_TEST(status_count(s, 200) == 1u);
    BOOST_TEST(s.in_flight == 0u);
}

BOOST_AUTO_TEST_CASE(apns_errors_come_back_with_reason_and_timestamp) {
    Env env;
    env.fake.reply_for(token(1), {410, "Unregistered", 1700000000123});
    env.fake.reply_for(token(2), {400, "BadDeviceToken", {}});
    env.fake.reply_for(token(3), {403, "BadCertificateEnvironment", {}});
    env.fake.reply_for(token(4), {429, "TooManyRequests", {}});
    env.fake.reply_for(token(5), {500, "InternalServerError", {}});
    env.fake.reply_for(token(6), {400, "TopicDisallowed", {}});
    std::vector<apns::Push> list;
    for (std::size_t i = 0; i <= 6; ++i) {
        list.push_back(push_to(token(i)));
    }
    auto batch = env.send_all(std::move(list));
    BOOST_REQUIRE(batch.finished);
    const auto& r = batch.results;
    BOOST_TEST(r[0]->status == 200u);

    BOOST_TEST(r[1]->status == 410u);
    BOOST_TEST(r[1]->reason == "Unregistered");
    BOOST_REQUIRE(r[1]->timestamp_ms.has_value());
    BOOST_TEST(*r[1]->timestamp_ms == 1700000000123);
    BOOST_TEST(apns::classify(*r[1]) == apns::Action::drop_token);

    BOOST_TEST(r[2]->status == 400u);
    BOOST_TEST(r[2]->reason == "BadDeviceToken");
    BOOST_TEST(apns::classify(*r[2]) == apns::Action::drop_token);

    BOOST_TEST(r[3]->status == 403u);
    BOOST_TEST(r[3]->reason == "BadCertificateEnvironment");
    BOOST_TEST(apns::classify(*r[3]) == apns::Action::stop_identity);

    BOOST_TEST(r[4]->status == 429u);
    BOOST_TEST(r[4]->reason == "TooManyRequests");
    BOOST_TEST(apns::classify(*r[4]) == apns::Action::retry_later);

    BOOST_TEST(r[5]->status == 500u);
    BOOST_TEST(r[5]->reason == "InternalServerError");
    BOOST_TEST(apns::classify(*r[5]) == apns::Action::retry_later);

    BOOST_TEST(r[6]->reason == "TopicDisallowed");
    BOOST_TEST(apns::classify(*r[6]) == apns::Action::stop_identity);

    const auto s = env.client->stats();
    BOOST_TEST(status_count(s, 400) == 2u);
    BOOST_TEST(s.retried == 0u);  // APNs answers are results, never resent
}

BOOST_AUTO_TEST_CASE(a_slow_server_times_out_and_the_connection_stays_usable) {
    Env env([](apns::ClientOptions& o) { o.request_timeout = 300ms; });
    env.fake.set_delay(3s);
    const auto start = Clock::now();
    auto batch = env.send_all(pushes(20), 5s);
    BOOST_REQUIRE(batch.finished);
    const auto took = Clock::now() - start;
    BOOST_TEST(batch.count(0) == 20u);
    BOOST_TEST(batch.results[0]->reason == "timeout");
    BOOST_TEST(apns::classify(*batch.results[0]) == apns::Action::retry_later);
    BOOST_TEST((took >= 290ms));
    BOOST_TEST((took < 1500ms));
    BOOST_TEST(env.client->stats().timed_out == 20u);

    env.fake.set_delay(0ms);
    const auto r = env.send_one(push_to(token(99)));
    BOOST_TEST(r.status == 200u);
    BOOST_TEST(env.client->stats().connects == 1u);  // the timeouts reset streams only
}

BOOST_AUTO_TEST_CASE(goaway_mid_batch_loses_nothing) {
    Env env;
    env.fake.goaway_after(500);
    auto batch = env.send_all(pushes(2000));
    BOOST_REQUIRE(batch.finished);
    BOOST_TEST(batch.count(200) == 2000u);
    BOOST_TEST(env.fake.count_ok() >= 2000u);
    const auto s = env.client->stats();
    BOOST_TEST(s.refused > 0u);
    BOOST_TEST(s.retried >= s.refused);
    BOOST_TEST(s.connects >= 2u);
    BOOST_TEST(status_count(s, 200) == 2000u);
}

BOOST_AUTO_TEST_CASE(the_server_stream_limit_is_respected) {
    auto fake_opts = fake_options();
    fake_opts.max_concurrent_streams = 10;
    Env env({}, fake_opts);
    env.fake.set_delay(20ms);
    std::size_t max_in_flight = 0;
    auto batch = env.send_all(pushes(200), 20s, [&] {
        max_in_flight = std::max(max_in_flight, env.client->stats().in_flight);
    });
    BOOST_REQUIRE(batch.finished);
    BOOST_TEST(batch.count(200) == 200u);
    BOOST_TEST(max_in_flight <= 10u);
    BOOST_TEST(max_in_flight > 0u);
    BOOST_TEST(env.client->stats().refused == 0u);  // never more than allowed
}

BOOST_AUTO_TEST_CASE(a_lowered_stream_limit_is_followed_mid_batch) {
    Env env;
    env.fake.set_delay(10ms);
    bool lowered = false;
    std::size_t answered_at_lowering = 0;
    std::size_t max_after = 0;
    auto batch = env.send_all(pushes(3000), 20s, [&] {
        if (!lowered && env.fake.count() >= 100) {
            env.fake.set_max_concurrent_streams(50);
            lowered = true;
            answered_at_lowering = env.fake.count();
        }
        // Once the streams opened under the old limit (1000) are answered, the open ones
        // must stay within the new one.
        if (lowered && env.fake.count() >= answered_at_lowering + 1000) {
            max_after = std::max(max_after, env.client->stats().in_flight);
        }
    });
    BOOST_REQUIRE(batch.finished);
    BOOST_TEST(lowered);
    BOOST_TEST(batch.count(200) == 3000u);
    BOOST_TEST(max_after <= 50u);
    BOOST_TEST(max_after > 0u);
}

BOOST_AUTO_TEST_CASE(dropped_connections_mid_batch_are_resent) {
    Env env;
    env.fake.set_delay(20ms);
    bool dropped = false;
    auto batch = env.send_all(pushes(2000), 20s, [&] {
        if (!dropped && env.fake.count() >= 500) {
            env.fake.drop_connections();
            dropped = true;
        }
    });
    BOOST_REQUIRE(batch.finished);
    BOOST_TEST(dropped);
    BOOST_TEST(batch.count(200) == 2000u);
    const auto s = env.client->stats();
    BOOST_TEST(s.connects >= 2u);
    BOOST_TEST(s.retried > 0u);
}

BOOST_AUTO_TEST_CASE(unreachable_server_fails_after_request_timeout_then_recovers) {
    Env env([](apns::ClientOptions& o) { o.request_timeout = 400ms; });
    env.fake.set_accepting(false);
    const auto start = Clock::now();
    const auto failed = env.send_one(push_to(token(1)));
    BOOST_TEST(failed.status == 0u);
    BOOST_TEST(failed.reason.rfind("connect failed: ", 0) == 0, failed.reason);
    BOOST_TEST((Clock::now() - start >= 390ms));
    BOOST_TEST(env.client->stats().connect_failures >= 1u);
    BOOST_TEST(env.client->stats().connections_up == 0u);

    env.fake.set_accepting(true);
    unsigned status = 0;
    for (int attempt = 0; attempt < 5 && status != 200; ++attempt) {
        status = env.send_one(push_to(token(2))).status;
    }
    BOOST_TEST(status == 200u);
    BOOST_TEST(env.client->stats().connections_up == 1u);
}

BOOST_AUTO_TEST_CASE(without_a_client_certificate_the_server_refuses_us) {
    Env env([](apns::ClientOptions& o) { o.request_timeout = 500ms; }, fake_options(),
            apns::Credentials{});
    const auto r = env.send_one(push_to(token(1)));
    BOOST_TEST(r.status == 0u);
    BOOST_TEST(r.reason.rfind("connect failed: ", 0) == 0, r.reason);
    BOOST_TEST(env.client->stats().connect_failures >= 1u);
    BOOST_TEST(env.fake.count() == 0u);
}

BOOST_AUTO_TEST_CASE(refused_streams_are_resent_and_resets_are_bounded) {
    Env env;
    testing::Reply refuse;
    refuse.rst_stream_error = 7;  // REFUSED_STREAM, once
    env.fake.reply_for(token(1), refuse, 1);
    testing::Reply reset;
    reset.rst_stream_error = 2;  // INTERNAL_ERROR, always
    env.fake.reply_for(token(2), reset);
    std::vector<apns::Push> list{push_to(token(1)), push_to(token(2))};
    auto batch = env.send_all(std::move(list));
    BOOST_REQUIRE(batch.finished);
    BOOST_TEST(batch.results[0]->status == 200u);
    BOOST_TEST(batch.results[1]->status == 0u);
    BOOST_TEST(batch.results[1]->reason == "stream reset by server");
    std::size_t attempts = 0;
    for (const auto& p : env.fake.pushes()) {
        attempts += p.device_token == token(2) ? 1u : 0u;
    }
    BOOST_TEST(attempts == 4u);  // the first try and max_resends (3)
    const auto s = env.client->stats();
    BOOST_TEST(s.refused == 1u);
    BOOST_TEST(s.retried == 4u);
    BOOST_TEST(s.connects == 1u);
}

BOOST_AUTO_TEST_CASE(pushes_spread_over_several_connections) {
    Env env([](apns::ClientOptions& o) { o.connections = 4; });
    auto batch = env.send_all(pushes(4000));
    BOOST_REQUIRE(batch.finished);
    BOOST_TEST(batch.count(200) == 4000u);
    std::set<std::uint64_t> used;
    for (const auto& p : env.fake.pushes()) {
        used.insert(p.connection);
    }
    BOOST_TEST(used.size() >= 2u);
    const auto s = env.client->stats();
    BOOST_TEST(s.connects == 4u);
    BOOST_TEST(s.connections_up == 4u);
}

BOOST_AUTO_TEST_CASE(idle_connections_are_pinged_and_kept) {
    Env env([](apns::ClientOptions& o) {
        o.ping_interval = 20ms;
        o.ping_timeout = 200ms;
        o.request_timeout = 400ms;  // ticks every 50 ms
    });
    BOOST_TEST(env.send_one(push_to(token(1))).status == 200u);
    const auto until = Clock::now() + 400ms;
    env.run_until([&] { return Clock::now() >= until; }, 1s);
    BOOST_TEST(env.send_one(push_to(token(2))).status == 200u);
    const auto s = env.client->stats();
    BOOST_TEST(s.connects == 1u);
    BOOST_TEST(s.connections_up == 1u);
}

BOOST_AUTO_TEST_CASE(a_full_queue_pushes_back) {
    Env env([](apns::ClientOptions& o) {
        o.max_queued = 1;
        o.max_waiting = 1;
        o.request_timeout = 300ms;
    });
    env.fake.set_accepting(false);
    auto batch = std::make_shared<std::vector<apns::PushResult>>();
    for (std::size_t i = 0; i < 3; ++i) {
        env.client->async_push(push_to(token(i)),
                               [batch](apns::PushResult r) { batch->push_back(std::move(r)); });
    }
    const auto s = env.client->stats();
    BOOST_TEST(s.queued == 1u);
    BOOST_TEST(s.waiting == 1u);
    BOOST_REQUIRE(env.run_until([&] { return batch->size() == 1; }, 100ms));
    BOOST_TEST((*batch)[0].reason == "queue full");  // at once, before the timeouts
    BOOST_REQUIRE(env.run_until([&] { return batch->size() == 3; }, 2s));
    BOOST_TEST((*batch)[1].status == 0u);
    BOOST_TEST((*batch)[2].status == 0u);
}

BOOST_AUTO_TEST_CASE(graceful_shutdown_finishes_open_streams) {
    auto fake_opts = fake_options();
    fake_opts.max_concurrent_streams = 2;
    Env env({}, fake_opts);
    env.fake.set_delay(200ms);
    auto results = std::make_shared<std::vector<apns::PushResult>>();
    for (std::size_t i = 0; i < 5; ++i) {
        env.client->async_push(push_to(token(i)),
                               [results](apns::PushResult r) { results->push_back(r); });
    }
    BOOST_REQUIRE(env.run_until([&] { return env.client->stats().in_flight == 2; }, 5s));
    env.client->shutdown();
    env.client->async_push(push_to(token(9)),
                           [results](apns::PushResult r) { results->push_back(r); });
    BOOST_REQUIRE(env.run_until([&] { return results->size() == 6; }, 5s));
    std::size_t ok = 0;
    std::size_t shut = 0;
    for (const auto& r : *results) {
        ok += r.status == 200 ? 1u : 0u;
        shut += r.status == 0 && r.reason == "shutdown" ? 1u : 0u;
    }
    BOOST_TEST(ok == 2u);    // the two open streams
    BOOST_TEST(shut == 4u);  // three queued, one after shutdown
    BOOST_REQUIRE(env.run_until([&] { return env.fake.connections_open() == 0; }, 5s));
}

BOOST_AUTO_TEST_CASE(destroying_the_client_completes_pending_pushes) {
    Env env;
    env.fake.set_delay(2s);
    auto results = std::make_shared<std::vector<apns::PushResult>>();
    for (std::size_t i = 0; i < 3; ++i) {
        env.client->async_push(push_to(token(i)),
                               [results](apns::PushResult r) { results->push_back(r); });
    }
    BOOST_REQUIRE(env.run_until([&] { return env.client->stats().in_flight == 3; }, 5s));
    env.client.reset();
    BOOST_REQUIRE(env.run_until([&] { return results->size() == 3; }, 2s));
    for (const auto& r : *results) {
        BOOST_TEST(r.status == 0u);
        BOOST_TEST(r.reason == "shutdown");
    }
}

BOOST_AUTO_TEST_CASE(a_stopped_io_context_destroys_pending_handlers_uncalled) {
    testing::FakeApns fake(fake_options());
    fake.set_delay(2s);
    auto calls = std::make_shared<int>(0);
    {
        net::io_context ioc;
        auto client = std::make_unique<apns::Client>(
            ioc.get_executor(), client_options(fake.port()), pass_credentials());
        for (std::size_t i = 0; i < 3; ++i) {
            client->async_push(push_to(token(i)), [calls](apns::PushResult) { ++*calls; });
        }
        const auto deadline = Clock::now() + 5s;
        while (client->stats().in_flight < 3 && Clock::now() < deadline) {
            ioc.run_one_for(10ms);
        }
        BOOST_TEST(client->stats().in_flight == 3u);
        client.reset();
        // The io_context is destroyed without running again.
    }
    BOOST_TEST(*calls == 0);
    BOOST_TEST(calls.use_count() == 1);  // every handler was destroyed: nothing leaked
}

BOOST_AUTO_TEST_CASE(coroutines_and_other_threads_push_concurrently) {
    Env env([](apns::ClientOptions& o) { o.connections = 2; });
    constexpr std::size_t kCoroutines = 1000;
    constexpr std::size_t kPerThread = 500;
    constexpr std::size_t kTotal = kCoroutines + 2 * kPerThread;
    std::atomic<std::size_t> done{0};
    std::atomic<std::size_t> ok{0};
    std::promise<void> all_done;
    auto record = [&](const apns::PushResult& r) {
        ok += r.status == 200 ? 1u : 0u;
        if (++done == kTotal) {
            all_done.set_value();
        }
    };
    auto guard = net::make_work_guard(env.ioc);
    std::vector<std::thread> io_threads;
    for (int i = 0; i < 2; ++i) {
        io_threads.emplace_back([&] { env.ioc.run(); });
    }
    auto one = [&](apns::Push p) -> net::awaitable<void> {
        const apns::PushResult r =
            co_await env.client->async_push(std::move(p), net::use_awaitable);
        record(r);
    };
    for (std::size_t i = 0; i < kCoroutines; ++i) {
        net::co_spawn(env.ioc, one(push_to(token(i))), net::detached);
    }
    std::vector<std::thread> callers;
    for (std::size_t t = 0; t < 2; ++t) {
        callers.emplace_back([&, t] {
            for (std::size_t i = 0; i < kPerThread; ++i) {
                env.client->async_push(push_to(token(kCoroutines + t * kPerThread + i)), record);
            }
        });
    }
    for (auto& th : callers) {
        th.join();
    }
    const bool finished = all_done.get_future().wait_for(20s) == std::future_status::ready;
    BOOST_TEST(finished);
    BOOST_TEST(ok.load() == kTotal);
    env.client.reset();
    guard.reset();
    for (auto& th : io_threads) {
        th.join();
    }
    BOOST_TEST(env.fake.count_ok() == kTotal);
}

BOOST_AUTO_TEST_SUITE_END()
