// The operator's outbox queries (`cardsmith outbox status`) on both backends.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "storage/store.hpp"
#include "test_one_card.hpp"

using namespace cardsmith;

namespace {
struct Outbox : test::OneCard {
    Outbox() : OneCard("o.db", 2) {}
    // A change of the card at `now_ms`: one pending push per registered device.
    void touch(std::int64_t now_ms) { (void)store->touch_card(card.id, now_ms); }
};
}  // namespace

BOOST_AUTO_TEST_SUITE(ops_store)

BOOST_FIXTURE_TEST_CASE(empty_outbox, Outbox) {
    BOOST_TEST(store->outbox_groups(1'000'000).empty());
    BOOST_TEST(store->dead_outbox(10).empty());
}

BOOST_FIXTURE_TEST_CASE(groups_by_kind_and_state_with_due_and_oldest, Outbox) {
    using K = storage::OutboxSettlement::Kind;
    store->register_device("dev1", "tokA", "pass.x", SerialNumber("serial1"), 5000);
    store->register_device("dev2", "tokB", "pass.x", SerialNumber("serial1"), 5000);
    store->register_device("dev3", "tokC", "pass.x", SerialNumber("serial1"), 5000);
    touch(2'000'000);
    auto claimed = store->claim_outbox(10, 2'000'000, 60'000, "i1");
    BOOST_REQUIRE(claimed.size() == 3u);
    // tokA dies, tokB waits for a retry later, tokC stays claimed ('sending').
    std::vector<storage::OutboxSettlement> results;
    for (const auto& item : claimed) {
        storage::OutboxSettlement s;
        s.id = item.id;
        s.lease_until_ms = item.lease_until_ms;
        if (item.target == "tokA") {
            s.kind = K::dead;
            s.error = "400 BadTopic";
        } else if (item.target == "tokB") {
            s.kind = K::retry;
            s.not_before_ms = 9'000'000;
            s.error = "503";
        } else {
            continue;
        }
        results.push_back(std::move(s));
    }
    store->settle_outbox(results, 2'000'500);
    touch(2'500'000);  // a new pending row for tokA and tokC; tokB's is merged into its retry

    const auto groups = store->outbox_groups(3'000'000);
    std::map<std::string, storage::OutboxGroup> by_state;
    for (const auto& g : groups) {
        BOOST_TEST(g.kind == "apns");
        by_state[g.state] = g;
    }
    BOOST_TEST(groups.size() == 3u);
    BOOST_TEST(by_state["dead"].rows == 1);
    BOOST_TEST(by_state["dead"].due == 0);
    BOOST_TEST(by_state["sending"].rows == 1);
    BOOST_TEST(by_state["sending"].instance == "i1");  // who holds the claim
    BOOST_TEST(by_state["pending"].instance == "");
    BOOST_TEST(by_state["pending"].rows == 3);  // tokA, tokC new; tokB waiting
    BOOST_TEST(by_state["pending"].due == 2);   // tokB is not due before 9'000'000
    BOOST_TEST(by_state["pending"].oldest_created_ms == 2'000'000);  // tokB's row
    BOOST_TEST(store->outbox_groups(9'000'000)[1].due == 3);         // pending sorts 2nd

    const auto dead = store->dead_outbox(10);
    BOOST_REQUIRE(dead.size() == 1u);
    BOOST_TEST(dead[0].kind == "apns");
    BOOST_TEST(dead[0].topic == "pass.x");
    BOOST_TEST(dead[0].target == "tokA");
    BOOST_TEST(dead[0].last_error == "400 BadTopic");
    BOOST_TEST(dead[0].created_at_ms == 2'000'000);
    BOOST_TEST(dead[0].updated_at_ms == 2'000'500);
    BOOST_TEST(store->dead_outbox(0).empty());
}

BOOST_AUTO_TEST_SUITE_END()
