// push::RelaySender against the fake relays (android-wallets.md §8.4, §8.6): Retry-After
// parsing, a 429 pausing only its lane (endpoint and key) with the pushes waiting instead
// of failing, the cap and the hold limits, X-Rate-Limit-Remaining: 0 slowing down, and the
// per-issuer keys (grouping, refresh, a missing key). Durations are kept short with
// max_pause; the waits are real but bounded (tens to hundreds of milliseconds).
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "fake_relay.hpp"
#include "http/client.hpp"
#include "push/relay_sender.hpp"

using namespace cardsmith;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr char kTopic[] = "pass.dev.cardsmith.loyalty";
constexpr char kOtherTopic[] = "pass.merchant.other";

// An io_context on its own thread, and the outcomes of the pushes sent through it.
struct Harness {
    net::io_context ioc;
    net::executor_work_guard<net::io_context::executor_type> work = net::make_work_guard(ioc);
    net::ssl::context tls = http_server::make_client_tls("");
    std::thread thread{[this] { ioc.run(); }};
    test::FakeRelay relay;

    explicit Harness(test::FakeRelayOptions o = {}) : relay(std::move(o)) {}

    struct Outcome {
        std::string token;
        apns::PushResult result;
        Clock::time_point at;
    };
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<Outcome> outcomes;

    ~Harness() {
        work.reset();
        ioc.stop();
        thread.join();
    }

    push::RelayOptions options(const std::string& kind = "walletunion_fcm") {
        push::RelayOptions o;
        o.kind = kind;
        o.url = kind == "walletpasses" ? relay.url("walletpasses") + "/api/v1/push"
                                       : relay.url("walletunion") + "/send";
        o.api_key = relay.options().walletunion_key;
        o.batch = 50;
        o.timeout = 2s;
        o.max_pause = 300ms;
        return o;
    }
    std::shared_ptr<push::RelaySender> sender(push::RelayOptions o,
                                              const std::string& topic = kTopic) {
        return std::make_shared<push::RelaySender>(ioc.get_executor(), tls, std::move(o), topic);
    }
    void send(push::RelaySender& s, const std::string& token, const std::string& topic = kTopic) {
        push::Delivery d;
        d.push.device_token = token;
        d.push.topic = topic;
        d.kind = "walletunion_fcm";
        s.send(std::move(d), [this, token](apns::PushResult r) {
            std::lock_guard lock(mutex);
            outcomes.push_back({token, std::move(r), Clock::now()});
            changed.notify_all();
        });
    }
    bool wait_for(std::size_t n, std::chrono::milliseconds timeout = 5s) {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, timeout, [&] { return outcomes.size() >= n; });
    }
    Outcome outcome(const std::string& token) {
        std::lock_guard lock(mutex);
        for (const auto& o : outcomes) {
            if (o.token == token) return o;
        }
        return {};
    }
};

long long ms(Clock::duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

std::string fcm(const std::string& name) { return "f" + name + ":APA91b-" + std::string(40, 'x'); }

}  // namespace

BOOST_AUTO_TEST_SUITE(relay_sender)

BOOST_AUTO_TEST_CASE(retry_after_takes_seconds_or_a_date) {
    const auto now = std::chrono::system_clock::from_time_t(1'445'412'480);  // 07:28:00
    using http_server::retry_after_delay;
    BOOST_TEST(retry_after_delay("2", now).value().count() == 2);
    BOOST_TEST(retry_after_delay(" 120 ", now).value().count() == 120);
    BOOST_TEST(retry_after_delay("0", now).value().count() == 0);
    BOOST_TEST(retry_after_delay("99999999999999999999", now).value().count() == 2147483647);
    BOOST_TEST(retry_after_delay("Wed, 21 Oct 2015 07:28:30 GMT", now).value().count() == 30);
    BOOST_TEST(retry_after_delay("Wed, 21 Oct 2015 07:00:00 GMT", now).value().count() == 0);
    for (const char* bad : {"", " ", "-1", "1.5", "soon", "0x10", "Wed, 21 Oct 2015"}) {
        BOOST_TEST(!retry_after_delay(bad, now).has_value(), bad);
    }
}

BOOST_AUTO_TEST_CASE(a_429_pauses_its_lane_and_the_pushes_wait) {
    Harness h;
    auto shared = std::make_shared<push::RelayThrottle>();
    auto o = h.options();
    o.throttle = shared;
    o.max_pause = 600ms;
    auto first = h.sender(o);
    auto same_key = h.sender(o, kOtherTopic);  // another pass type id, same relay and key
    h.relay.accept_key("walletunion", "issuer-key");
    auto other = o;
    other.api_key = "issuer-key";
    auto other_key = h.sender(other, kOtherTopic);

    h.relay.rate_limit("walletunion", 500ms, "1", h.relay.options().walletunion_key);
    const auto t0 = Clock::now();
    h.send(*first, fcm("a"));
    BOOST_REQUIRE(h.relay.wait_for_calls(1, 2s));
    std::this_thread::sleep_for(20ms);
    h.send(*same_key, fcm("b"));   // the lane is paused: waits, no request
    h.send(*other_key, fcm("c"));  // another key: goes at once
    BOOST_REQUIRE(h.wait_for(1, 2s));
    BOOST_TEST(h.outcome(fcm("c")).result.status == 200u);
    BOOST_TEST(ms(h.outcome(fcm("c")).at - t0) < 450);
    BOOST_REQUIRE(h.wait_for(3, 3s));
    for (const char* name : {"a", "b"}) {
        const auto out = h.outcome(fcm(name));
        BOOST_TEST(out.result.status == 200u, name);
        BOOST_TEST(ms(out.at - t0) >= 590, name);  // Retry-After 1 s, capped at 600 ms
    }
    // The 429, the other key's push, then one request per paused sender.
    const auto calls = h.relay.calls("walletunion");
    BOOST_REQUIRE_EQUAL(calls.size(), 4u);
    BOOST_TEST(calls[0].status == 429);
    BOOST_TEST(calls[1].key == "issuer-key");
    for (std::size_t i = 2; i < 4; ++i) {
        BOOST_TEST(calls[i].status == 200);
        BOOST_TEST(calls[i].key == "walletunion-test-key");
        BOOST_TEST(ms(calls[i].at - calls[0].at) >= 580);
    }
    BOOST_TEST(first->stats().rate_limited == 1u);
    BOOST_TEST(first->stats().not_sent == 0u);
}

BOOST_AUTO_TEST_CASE(without_retry_after_the_backoff_doubles_and_is_capped) {
    Harness h;
    auto o = h.options();
    o.rate_limit_backoff = 150ms;
    auto s = h.sender(o);
    test::FakeRelay::Failure limited;
    limited.mode = test::FakeRelay::FailMode::rate_limited;
    limited.retry_after = "";
    h.relay.fail_next(3, limited, "walletunion");
    h.send(*s, fcm("a"));
    BOOST_REQUIRE(h.wait_for(1, 3s));
    BOOST_TEST(h.outcome(fcm("a")).result.status == 200u);
    const auto calls = h.relay.calls("walletunion");
    BOOST_REQUIRE_EQUAL(calls.size(), 4u);
    // 150, 300, then 600 capped at max_pause (300).
    BOOST_TEST(ms(calls[1].at - calls[0].at) >= 145);
    BOOST_TEST(ms(calls[2].at - calls[1].at) >= 295);
    BOOST_TEST(ms(calls[3].at - calls[2].at) >= 295);
    BOOST_TEST(ms(calls[3].at - calls[2].at) < 550);
    BOOST_TEST(s->stats().rate_limited == 3u);
}

BOOST_AUTO_TEST_CASE(the_rest_of_a_split_request_waits_for_the_pause_too) {
    test::FakeRelayOptions ro;
    ro.fcm_max = 1;  // every request of two tokens: 413, then halves
    Harness h(ro);
    auto o = h.options();
    o.linger = 50ms;
    auto s = h.sender(o);
    h.relay.rate_limit("walletunion", 250ms, "1");
    h.send(*s, fcm("a"));
    h.send(*s, fcm("b"));
    BOOST_REQUIRE(h.wait_for(2, 3s));
    BOOST_TEST(h.outcome(fcm("a")).result.status == 200u);
    BOOST_TEST(h.outcome(fcm("b")).result.status == 200u);
    const auto calls = h.relay.calls("walletunion");
    // 413; 429 for the first half, the second half not sent; both after the pause.
    BOOST_REQUIRE_EQUAL(calls.size(), 4u);
    BOOST_TEST(calls[0].status == 413);
    BOOST_TEST(calls[1].status == 429);
    for (std::size_t i = 2; i < 4; ++i) {
        BOOST_TEST(calls[i].status == 200);
        BOOST_TEST(calls[i].tokens.size() == 1u);
        BOOST_TEST(ms(calls[i].at - calls[1].at) >= 280);
    }
    BOOST_TEST(s->stats().splits == 1u);
}

BOOST_AUTO_TEST_CASE(a_pause_beyond_max_hold_hands_the_pushes_back_unsent) {
    Harness h;
    auto o = h.options();
    o.max_pause = 10s;
    o.max_hold = 200ms;
    auto s = h.sender(o);
    h.relay.rate_limit("walletunion", 5s, "5");
    const auto t0 = Clock::now();
    h.send(*s, fcm("a"));
    BOOST_REQUIRE(h.wait_for(1, 2s));
    const auto out = h.outcome(fcm("a"));
    BOOST_TEST(out.result.status == 0u);  // not sent: the dispatcher retries, no attempt spent
    BOOST_TEST(out.result.reason.find("rate limit") != std::string::npos, out.result.reason);
    BOOST_TEST(ms(out.at - t0) < 1000);
    // While the lane is paused, new pushes make no request at all.
    h.send(*s, fcm("b"));
    BOOST_REQUIRE(h.wait_for(2, 2s));
    BOOST_TEST(h.outcome(fcm("b")).result.status == 0u);
    BOOST_TEST(h.relay.count() == 1u);
    BOOST_TEST(s->stats().not_sent == 2u);
}

BOOST_AUTO_TEST_CASE(the_hold_budget_is_shared) {
    Harness h;
    auto o = h.options();
    o.throttle = std::make_shared<push::RelayThrottle>(2);
    o.batch = 1;
    auto s = h.sender(o);
    h.relay.rate_limit("walletunion", 200ms, "1");
    h.send(*s, fcm("first"));
    BOOST_REQUIRE(h.relay.wait_for_calls(1, 2s));
    std::this_thread::sleep_for(20ms);
    for (const char* name : {"b", "c", "d"}) {
        h.send(*s, fcm(name));
    }
    BOOST_REQUIRE(h.wait_for(4, 3s));
    std::size_t sent = 0, unsent = 0;
    for (const char* name : {"first", "b", "c", "d"}) {
        const auto status = h.outcome(fcm(name)).result.status;
        (status == 200u ? sent : unsent) += 1;
        BOOST_TEST((status == 200u || status == 0u), name);
    }
    BOOST_TEST(sent == 2u);  // two held (the budget), delivered after the pause
    BOOST_TEST(unsent == 2u);
}

BOOST_AUTO_TEST_CASE(remaining_zero_slows_down_the_next_request) {
    Harness h;
    auto o = h.options();
    o.slow_down = 400ms;
    o.batch = 1;
    auto s = h.sender(o);
    h.relay.advertise_remaining("walletunion", 0);
    h.send(*s, fcm("a"));
    BOOST_REQUIRE(h.wait_for(1, 2s));
    BOOST_TEST(h.outcome(fcm("a")).result.status == 200u);  // delivered, then the pause
    h.relay.advertise_remaining("walletunion", 100);
    h.send(*s, fcm("b"));
    BOOST_REQUIRE(h.wait_for(2, 2s));
    const auto calls = h.relay.calls("walletunion");
    BOOST_REQUIRE_EQUAL(calls.size(), 2u);
    BOOST_TEST(ms(calls[1].at - calls[0].at) >= 390);
    // Plenty remaining: no pause.
    h.send(*s, fcm("c"));
    BOOST_REQUIRE(h.wait_for(3, 2s));
    BOOST_TEST(ms(h.outcome(fcm("c")).at - h.outcome(fcm("b")).at) < 300);
}

BOOST_AUTO_TEST_CASE(keys_come_from_the_identity_then_the_default) {
    Harness h;
    auto keys = std::make_shared<push::RelayKeys>();
    keys->set_default("walletunion", h.relay.options().walletunion_key);
    keys->set(kOtherTopic, {{"walletunion", "issuer-key"}, {"pass2u", "p2u-issuer"}});
    h.relay.accept_key("walletunion", "issuer-key");
    h.relay.accept_key("walletunion", "renewed-key");
    auto o = h.options();
    o.api_key.clear();
    o.keys = keys;
    auto server_pass = h.sender(o);
    auto merchant_pass = h.sender(o, kOtherTopic);
    h.send(*server_pass, fcm("a"));
    h.send(*merchant_pass, fcm("b"), kOtherTopic);
    BOOST_REQUIRE(h.wait_for(2, 2s));
    auto calls = h.relay.calls("walletunion");
    BOOST_REQUIRE_EQUAL(calls.size(), 2u);
    for (const auto& c : calls) {
        BOOST_TEST(c.status == 200);
        BOOST_TEST(c.key == (c.pass_type_id == kTopic ? "walletunion-test-key" : "issuer-key"));
    }

    // A new key is used from the next push on.
    keys->set(kOtherTopic, {{"walletunion", "renewed-key"}});
    h.send(*merchant_pass, fcm("c"), kOtherTopic);
    BOOST_REQUIRE(h.wait_for(3, 2s));
    BOOST_TEST(h.relay.calls().back().key == "renewed-key");

    // Keys never share a request: pushes queued before and after a change go apart.
    o.linger = 100ms;
    auto lingering = h.sender(o, kOtherTopic);
    h.send(*lingering, fcm("d"), kOtherTopic);
    std::this_thread::sleep_for(30ms);
    keys->set(kOtherTopic, {{"walletunion", "issuer-key"}});
    h.send(*lingering, fcm("e"), kOtherTopic);
    BOOST_REQUIRE(h.wait_for(5, 2s));
    calls = h.relay.calls("walletunion");
    BOOST_REQUIRE_EQUAL(calls.size(), 5u);
    BOOST_TEST(calls[3].tokens.size() == 1u);
    BOOST_TEST(calls[4].tokens.size() == 1u);
    BOOST_TEST(calls[3].key != calls[4].key);

    // Removed, with no default: as the relay would refuse it, without asking it.
    keys->set(kOtherTopic, {});
    keys->set_default("walletunion", "");
    h.send(*merchant_pass, fcm("f"), kOtherTopic);
    BOOST_REQUIRE(h.wait_for(6, 2s));
    BOOST_TEST(h.outcome(fcm("f")).result.status == 403u);
    BOOST_TEST(h.relay.calls().size() == 5u);
}

BOOST_AUTO_TEST_CASE(stored_keys_parse_as_an_object_of_strings) {
    auto k = push::RelayKeys::parse(R"({"walletunion":"a","pass2u":"b"})");
    BOOST_REQUIRE(k.has_value());
    BOOST_TEST(k->at("walletunion") == "a");
    BOOST_TEST(k->at("pass2u") == "b");
    BOOST_TEST(!push::RelayKeys::parse("[]").has_value());
    BOOST_TEST(!push::RelayKeys::parse(R"({"walletunion":1})").has_value());
    BOOST_TEST(!push::RelayKeys::parse("not json").has_value());
    BOOST_TEST(push::relay_of("walletunion_hms") == "walletunion");
    BOOST_TEST(push::relay_of("pass2u") == "pass2u");
    BOOST_TEST(push::relay_of("passwallet").empty());
}

BOOST_AUTO_TEST_SUITE_END()
