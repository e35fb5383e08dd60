// Several instances on one PostgreSQL database (issue 7): two real server processes share
// the database the tests' throwaway cluster holds. Postings through both at once end in
// exact balances and one ledger row each (idempotency keys hold across instances); a
// rollout finishes and reaches every device although the instance running it is killed;
// a campaign scheduled while both run goes out once, at its rate; an identity uploaded
// through one instance signs passes on the other.
#include <atomic>
#include <thread>

#include "marketing_world.hpp"
#include "pass_cert.hpp"
#include "test_db.hpp"

using namespace cardsmith;
namespace json = boost::json;
using test::verb;
using namespace std::chrono_literals;

namespace {

using test::eventually;
using test::Holder;
using test::World;

// Instance "a" (the World: fake APNs, merchant, program "bean", cards with devices) and
// instance "b" on a's database, certificates, server key and configuration. Short claim
// leases: a dead instance's pushes are taken over within seconds.
std::map<std::string, std::string> instance_env(const std::string& name,
                                                std::map<std::string, std::string> more) {
    more["CARDSMITH_SERVER_INSTANCE"] = name;
    more["CARDSMITH_APNS_CLAIM_LEASE_MS"] = "3000";
    more["CARDSMITH_APNS_TIMEOUT_MS"] = "1000";
    more["CARDSMITH_SERVER_SYNC_INTERVAL"] = "1";
    return more;
}

struct Pair {
    World a;
    test::ServerProcess b;
    std::unique_ptr<test::Client> bc;

    explicit Pair(int cards_per_second, int n, const std::map<std::string, std::string>& env = {})
        : a(cards_per_second, n, "", instance_env("a", env)),
          b(test::config_toml(a.apns.port(), cards_per_second),
            instance_env("b",
                         [&] {
                             auto e = env;
                             e["CARDSMITH_STORAGE_URL"] = a.server.storage_url();
                             e["CARDSMITH_SERVER_SECRET_KEY_FILE"] =
                                 (a.server.dir() / "var/secret.key").string();
                             return e;
                         }()),
            test::DevPki::shared().dir.path()),
          bc(std::make_unique<test::Client>(b.port())) {}

    test::Response call_b(verb method, const std::string& target,
                          const json::value& body = nullptr) {
        return bc->request(
            method, target, body.is_null() ? "" : json::serialize(body),
            {{"Authorization", "Bearer " + a.key}, {"Content-Type", "application/json"}});
    }
};

std::int64_t balance(test::Client& c, const std::string& key, const Holder& h) {
    auto r = c.get("/api/v1/cards/" + h.number, key);
    BOOST_REQUIRE_EQUAL(r.result_int(), 200);
    return test::json_of(r).at("balance").as_int64();
}

test::Response post(test::Client& c, const std::string& key, const Holder& h, std::int64_t points,
                    const std::string& idempotency_key) {
    return c.request(verb::post, "/api/v1/cards/" + h.number + "/transactions",
                     json::serialize(json::object{{"points", points}}),
                     {{"Authorization", "Bearer " + key},
                      {"Content-Type", "application/json"},
                      {"Idempotency-Key", idempotency_key}});
}

}  // namespace

BOOST_AUTO_TEST_SUITE(instances)

BOOST_AUTO_TEST_CASE(postings_through_both_instances_end_in_exact_balances) {
    Pair p(0, 4);
    const auto& cards = p.a.cards;
    constexpr std::size_t kThreads = 4;
    constexpr std::size_t kEach = 40;
    std::vector<std::array<std::int64_t, 4>> expected(kThreads);
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            // Threads 0 and 2 post through a, 1 and 3 through b; every fifth posting is sent
            // again through the other instance, which must answer the stored result.
            test::Client mine(t % 2 == 0 ? p.a.server.port() : p.b.port());
            test::Client other(t % 2 == 0 ? p.b.port() : p.a.server.port());
            for (std::size_t i = 0; i < kEach; ++i) {
                const std::size_t card = (t + i) % 4;
                const auto points = static_cast<std::int64_t>(1 + (t * kEach + i) % 9);
                const auto key = "t" + std::to_string(t) + "-" + std::to_string(i);
                auto r = post(mine, p.a.key, cards[card], points, key);
                if (r.result_int() != 201) {
                    ++failures;
                    continue;
                }
                expected[t][card] += points;
                if (i % 5 == 0) {
                    auto again = post(other, p.a.key, cards[card], points, key);
                    const bool same = again.result_int() == 201 &&
                                      again["Idempotent-Replayed"] == "true" &&
                                      test::json_of(again).at("transaction").at("id") ==
                                          test::json_of(r).at("transaction").at("id");
                    if (!same) {
                        ++failures;
                    }
                }
            }
        });
    }
    for (auto& th : threads) th.join();
    BOOST_TEST(failures.load() == 0);

    std::int64_t rows = 0;
    for (std::size_t card = 0; card < 4; ++card) {
        std::int64_t want = 0;
        for (std::size_t t = 0; t < kThreads; ++t) want += expected[t][card];
        BOOST_TEST(balance(*p.a.client, p.a.key, cards[card]) == want);
        BOOST_TEST(balance(*p.bc, p.a.key, cards[card]) == want);
        auto list =
            p.call_b(verb::get, "/api/v1/cards/" + cards[card].number + "/transactions?limit=500");
        rows += static_cast<std::int64_t>(test::json_of(list).at("transactions").as_array().size());
    }
    BOOST_TEST(rows == static_cast<std::int64_t>(kThreads * kEach));  // replays added nothing

    // One key sent at once through both instances for two different cards: one applies,
    // the other is the 409 of a reused key, whichever instance wins.
    test::Client via_a(p.a.server.port());
    test::Client via_b(p.b.port());
    for (int k = 0; k < 20; ++k) {
        const auto key = "race-" + std::to_string(k);
        test::Response ra, rb;
        std::atomic<int> ready{0};
        const auto go = [&ready] {
            ready.fetch_add(1);
            while (ready.load() < 2) {
            }
        };
        std::thread ta([&] {
            go();
            ra = post(via_a, p.a.key, cards[0], 1, key);
        });
        std::thread tb([&] {
            go();
            rb = post(via_b, p.a.key, cards[1], 1, key);
        });
        ta.join();
        tb.join();
        std::multiset<unsigned> statuses{ra.result_int(), rb.result_int()};
        BOOST_TEST((statuses == std::multiset<unsigned>{201, 409}), ra.body()
                                                                        << " / " << rb.body());
    }

    // Every phone heard about its card.
    for (const auto& c : cards) {
        BOOST_TEST(eventually([&] { return p.a.pushes_to(c.token) >= 1; }));
    }
}

BOOST_AUTO_TEST_CASE(a_rollout_finishes_when_the_instance_running_it_is_killed) {
    // 20 cards at 4 a second per instance, two cards per step: several seconds of rollout.
    Pair p(4, 20, {{"CARDSMITH_ROLLOUTS_CHUNK", "2"}});
    auto r = p.a.call(verb::patch, "/api/v1/programs/bean/design",
                      {{"colors", {{"background", "#336699"}}}});
    BOOST_REQUIRE_EQUAL(r.result_int(), 200);
    const auto id = test::json_of(r).at("rollout").at("id").as_int64();
    BOOST_TEST(eventually([&] { return p.a.rollout(id).at("cardsDone").as_int64() >= 4; }));
    p.a.server.kill_hard();  // b carries on from the last committed chunk

    const auto rollout = [&] {
        auto got = p.call_b(verb::get, "/api/v1/rollouts/" + std::to_string(id));
        BOOST_REQUIRE_EQUAL(got.result_int(), 200);
        return test::json_of(got).as_object();
    };
    BOOST_TEST(eventually([&] { return rollout().at("state").as_string() == "done"; }, 30s));
    BOOST_TEST(rollout().at("cardsDone").as_int64() == 20);
    // Pushes a queued or claimed before it died are sent by b (after the lease).
    for (const auto& c : p.a.cards) {
        BOOST_TEST(eventually([&] { return p.a.pushes_to(c.token) >= 1; }, 20s), c.token);
        auto pass = p.bc->request(verb::get, "/apple/v1/passes/" + c.type + "/" + c.serial, "",
                                  {{"Authorization", c.auth}});
        BOOST_REQUIRE_EQUAL(pass.result_int(), 200);
        auto pj = json::parse(test::unzip(pass.body())["pass.json"]).as_object();
        BOOST_TEST(pj.at("backgroundColor").as_string() == "rgb(51, 102, 153)");
    }
    BOOST_TEST(test::query_text(p.b.storage_url(),
                                "SELECT COUNT(*) FROM outbox WHERE state <> 'dead'") == "0");
}

BOOST_AUTO_TEST_CASE(a_campaign_scheduled_while_both_run_goes_out_once_at_its_rate) {
    Pair p(0, 12);
    // Due in two seconds (absolute instant), 360 a minute = 6 cards a second in all.
    const auto at = std::chrono::system_clock::now() + 2s;
    const std::time_t t = std::chrono::system_clock::to_time_t(at);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char send_at[32];
    std::strftime(send_at, sizeof send_at, "%Y-%m-%dT%H:%M:%SZ", &tm);
    auto created = p.call_b(verb::post, "/api/v1/programs/bean/campaigns",
                            {{"message", "Two for one on Friday"},
                             {"sendAt", send_at},
                             {"ratePerMinute", 360},
                             {"frequencyCapHours", 0}});
    BOOST_REQUIRE_MESSAGE(created.result_int() == 202, created.body());
    const auto id = test::json_of(created).at("id").as_int64();
    const auto campaign = [&] {
        auto got = p.a.call(verb::get, "/api/v1/campaigns/" + std::to_string(id));
        BOOST_REQUIRE_EQUAL(got.result_int(), 200);
        return test::json_of(got).as_object();
    };
    BOOST_TEST(eventually([&] { return campaign().at("state").as_string() == "sending"; }, 10s));
    const auto started = std::chrono::steady_clock::now();
    BOOST_TEST(eventually([&] { return campaign().at("state").as_string() == "done"; }, 20s));
    // 12 cards at 6 a second: two seconds' shares, whichever instance steps it.
    BOOST_TEST((std::chrono::steady_clock::now() - started) >= 1s);
    auto done = campaign();
    BOOST_TEST(done.at("targeted").as_int64() == 12);
    BOOST_TEST(done.at("sent").as_int64() == 12);
    BOOST_TEST(test::query_text(p.b.storage_url(),
                                "SELECT COUNT(*) FROM campaign_recipients WHERE campaign_id = " +
                                    std::to_string(id)) == "12");
    // Never more than the second's share drawn in one second, by both together.
    BOOST_TEST(test::query_text(
                   p.b.storage_url(),
                   "SELECT MAX(n) FROM (SELECT created_at / 1000 AS s, COUNT(*) AS n FROM "
                   "campaign_recipients WHERE campaign_id = " +
                       std::to_string(id) + " GROUP BY created_at / 1000) AS per_second") == "6");
    for (const auto& c : p.a.cards) {
        BOOST_TEST(eventually([&] { return p.a.pushes_to(c.token) == 1u; }), c.token);
    }
    std::this_thread::sleep_for(1500ms);  // nothing more arrives from the other instance
    for (const auto& c : p.a.cards) {
        BOOST_TEST(p.a.pushes_to(c.token) == 1u, c.token);
    }
}

BOOST_AUTO_TEST_CASE(an_identity_uploaded_through_one_instance_signs_and_pushes_on_the_other) {
    Pair p(0, 0);
    const auto own = test::issue("pass.merchant.multi", "TEAMMULTI", "wwdr");
    auto up = p.a.client->post_json("/api/v1/identities",
                                    {{"certificate", own.cert_pem}, {"privateKey", own.key_pem}},
                                    p.a.key);
    BOOST_REQUIRE_MESSAGE(up.result_int() == 201, up.body());
    const auto identity = test::json_of(up).at("id").as_int64();
    auto prog = p.a.call(
        verb::post, "/api/v1/programs",
        {{"slug", "multi"}, {"name", "Multi"}, {"template", "coffee"}, {"identity", identity}});
    BOOST_REQUIRE_MESSAGE(prog.result_int() == 201, prog.body());

    // b loads the identity from the database (server.sync_interval) and signs with it.
    auto made = p.call_b(verb::post, "/api/v1/programs/multi/cards",
                         {{"holder", {{"name", "Multi Holder"}}}});
    BOOST_REQUIRE_MESSAGE(made.result_int() == 201, made.body());
    const auto link = std::string(test::json_of(made).at("links").at("pkpass").as_string());
    test::Response bytes;
    BOOST_TEST(eventually(
        [&] {
            bytes = p.bc->get(test::path_of(link));
            return bytes.result_int() == 200;
        },
        10s));
    auto files = test::unzip(bytes.body());
    auto pass = json::parse(files["pass.json"]).as_object();
    BOOST_TEST(pass.at("passTypeIdentifier").as_string() == "pass.merchant.multi");
    auto sig = test::verify_signature(files["signature"], files["manifest.json"],
                                      test::DevPki::shared().root());
    BOOST_TEST(sig.verified, sig.error);
    BOOST_TEST(sig.signer_subject.find("pass.merchant.multi") != std::string::npos);

    // A device registered through b; a purchase through b pushes with the merchant's topic.
    const std::string serial(pass.at("serialNumber").as_string());
    const std::string token(64, 'f');
    auto reg = p.bc->request(
        verb::post, "/apple/v1/devices/devm/registrations/pass.merchant.multi/" + serial,
        json::serialize(json::object{{"pushToken", token}}),
        {{"Authorization", "ApplePass " + std::string(pass.at("authenticationToken").as_string())},
         {"Content-Type", "application/json"}});
    BOOST_REQUIRE_EQUAL(reg.result_int(), 201);
    const auto number = std::string(test::json_of(made).at("cardNumber").as_string());
    BOOST_REQUIRE_EQUAL(
        p.call_b(verb::post, "/api/v1/cards/" + number + "/transactions", {{"points", 5}})
            .result_int(),
        201);
    BOOST_TEST(eventually([&] {
        for (const auto& push : p.a.apns.pushes()) {
            if (push.device_token == token && push.topic == "pass.merchant.multi" &&
                push.status == 200) {
                return true;
            }
        }
        return false;
    }));
}

BOOST_AUTO_TEST_SUITE_END()
