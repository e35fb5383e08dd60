// Web service registrations, the ledger and the outbox on the SQLite store.
#include <sqlite3.h>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <thread>

#include "domain/design.hpp"
#include "storage/sql/sql_store.hpp"
#include "storage/store.hpp"
#include "test_one_card.hpp"

using namespace cardsmith;
using storage::LedgerStatus;

namespace {
struct Wallet : test::OneCard {
    Wallet() : OneCard("w.db", 8) {}
    // Another card of the program: 4000000000000002, serial "serial2".
    domain::Card second_card() {
        storage::NewCard nc;
        nc.program = card.program;
        nc.number = CardNumber("4000000000000002");
        nc.serial = SerialNumber("serial2");
        nc.auth_token = AuthToken(std::string(32, 'b'));
        nc.now = 1000;
        auto made = store->create_card(nc).value;
        BOOST_REQUIRE(made.has_value());
        return *made;
    }
    // Devices dev1..dev3 with push tokens tokA..tokC hold the card.
    void three_devices() {
        store->register_device("dev1", "tokA", "pass.x", SerialNumber("serial1"), 5000);
        store->register_device("dev2", "tokB", "pass.x", SerialNumber("serial1"), 5000);
        store->register_device("dev3", "tokC", "pass.x", SerialNumber("serial1"), 5000);
    }
    storage::LedgerOutcome tx(std::int64_t points, const std::string& key = "",
                              const std::string& hash = "h") {
        storage::NewTransaction t;
        t.card = card.id;
        t.merchant = merchant.id;
        t.idempotency_key = key;
        t.request_hash = hash;
        t.points = points;
        t.now_ms = 2'000'000;
        return store->apply_transaction(t);
    }
};
}  // namespace

BOOST_AUTO_TEST_SUITE(wallet_store)

BOOST_FIXTURE_TEST_CASE(register_list_unregister, Wallet) {
    using storage::RegisterStatus;
    BOOST_TEST((store->register_device("dev1", "tok1", "pass.x", SerialNumber("serial1"), 5000) ==
                RegisterStatus::created));
    BOOST_TEST((store->register_device("dev1", "tok1b", "pass.x", SerialNumber("serial1"), 6000) ==
                RegisterStatus::updated));
    BOOST_TEST((store->register_device("dev1", "tok1", "pass.x", SerialNumber("nope"), 6000) ==
                RegisterStatus::not_found));
    auto all = store->updated_serials("dev1", "pass.x", std::nullopt);
    BOOST_REQUIRE(all.serials.size() == 1u);
    BOOST_TEST(all.last_updated == card.update_seq);
    BOOST_TEST(store->updated_serials("dev1", "pass.x", all.last_updated).serials.empty());
    BOOST_TEST(store->updated_serials("dev1", "pass.other", std::nullopt).serials.empty());
    BOOST_TEST(store->updated_serials("dev2", "pass.x", std::nullopt).serials.empty());
    tx(10);
    auto after = store->updated_serials("dev1", "pass.x", all.last_updated);
    BOOST_TEST(after.serials.size() == 1u);
    BOOST_TEST(after.last_updated > all.last_updated);
    BOOST_TEST(store->unregister_device("dev1", "pass.x", SerialNumber("serial1"), 7000));
    BOOST_TEST(!store->unregister_device("dev1", "pass.x", SerialNumber("serial1"), 7000));
    BOOST_TEST(store->updated_serials("dev1", "pass.x", std::nullopt).serials.empty());
}

BOOST_FIXTURE_TEST_CASE(ledger_balance_lifetime_idempotency, Wallet) {
    auto a = tx(100, "k1", "hash-a");
    BOOST_TEST((a.status == LedgerStatus::applied));
    BOOST_TEST(a.card->balance == 100);
    BOOST_TEST(a.entry->balance_after == 100);
    BOOST_TEST(a.card->update_seq > card.update_seq);
    BOOST_TEST(a.card->modified_at > card.modified_at);
    auto replay = tx(100, "k1", "hash-a");
    BOOST_TEST((replay.status == LedgerStatus::replayed));
    BOOST_TEST(replay.entry->id == a.entry->id);
    BOOST_TEST(replay.card->balance == 100);
    BOOST_TEST((tx(5, "k1", "hash-b").status == LedgerStatus::key_reused));
    auto redeem = tx(-30);
    BOOST_TEST(redeem.card->balance == 70);
    BOOST_TEST(redeem.card->lifetime_points == 100);  // redemptions do not lower it
    auto too_much = tx(-71);
    BOOST_TEST((too_much.status == LedgerStatus::insufficient));
    BOOST_TEST(store->find_card(card.number)->balance == 70);
    auto list = store->list_transactions(card.id, 10, INT64_MAX);
    BOOST_TEST(list.size() == 2u);
    BOOST_TEST(list.front().points == -30);  // newest first
}

BOOST_FIXTURE_TEST_CASE(outbox_coalesces_claims_retries_and_survives_leases, Wallet) {
    store->register_device("dev1", "tokA", "pass.x", SerialNumber("serial1"), 5000);
    store->register_device("dev2", "tokB", "pass.x", SerialNumber("serial1"), 5000);
    for (int i = 0; i < 10; ++i) {
        tx(1);
    }
    auto counts = store->outbox_counts();
    BOOST_TEST(counts.pending == 2);  // ten changes, one pending push per device
    auto claimed = store->claim_outbox(10, 3'000'000, 30'000, "i1");
    BOOST_REQUIRE(claimed.size() == 2u);
    BOOST_TEST(store->claim_outbox(10, 3'000'001, 30'000, "i1").empty());  // leased
    tx(1);  // a change while the push is in flight makes a new pending row
    BOOST_TEST(store->outbox_counts().pending == 2);
    store->finish_outbox(claimed[0].id, claimed[0].lease_until_ms, 3'000'100);
    store->retry_outbox(claimed[1].id, claimed[1].lease_until_ms, 3'500'000, "503", false,
                        3'000'100);
    // The retried row merged into the newer pending row for the same token.
    auto c2 = store->outbox_counts();
    BOOST_TEST(c2.done == 0);  // delivered rows are deleted
    BOOST_TEST(c2.pending == 2);
    BOOST_TEST(c2.sending == 0);
    // A process that dies while sending: the lease runs out and the row is claimed again.
    auto again = store->claim_outbox(10, 4'000'000, 1000, "i1");
    BOOST_TEST(again.size() == 2u);
    auto reclaimed = store->claim_outbox(10, 4'002'000, 1000, "i1");
    BOOST_TEST(reclaimed.size() == 2u);
    // The first claim's answer arriving late leaves the newer claim alone.
    store->finish_outbox(again[0].id, again[0].lease_until_ms, 4'002'050);
    BOOST_TEST(store->outbox_counts().sending == 2);
    store->retry_outbox(reclaimed[0].id, reclaimed[0].lease_until_ms, 0, "BadTopic", true,
                        4'002'100);
    BOOST_TEST(store->outbox_counts().dead == 1);
}

BOOST_FIXTURE_TEST_CASE(settle_batches_release_claims_and_retry_dead, Wallet) {
    using K = storage::OutboxSettlement::Kind;
    three_devices();
    tx(1);
    auto claimed = store->claim_outbox(10, 3'000'000, 60'000, "i1");
    BOOST_REQUIRE(claimed.size() == 3u);
    std::map<std::string, std::int64_t> id;
    for (const auto& item : claimed) id[item.target] = item.id;
    std::map<std::string, std::int64_t> claim;
    for (const auto& item : claimed) claim[item.target] = item.lease_until_ms;
    // A dead token reported by another wallet's channel leaves this registration alone.
    store->settle_outbox({{id["tokB"], claim["tokB"], K::drop_token, 0, "Unregistered", "tokB",
                           "pass.x", 6000, "walletpasses", 0, ""}},
                         3'000'400);
    BOOST_TEST(store->updated_serials("dev2", "pass.x", std::nullopt).serials.size() == 1u);
    // Every row knows the program whose change queued it: the day's push counts.
    const std::int64_t program = claimed[0].program_id;
    BOOST_TEST(program > 0);
    store->settle_outbox(
        {{id["tokA"], claim["tokA"], K::done, 0, "", "", "", 0, "", program, "apple"},
         {id["tokB"], claim["tokB"], K::drop_token, 0, "Unregistered", "tokB", "pass.x", 6000,
          "apple", program, "apple"},
         {id["tokC"], claim["tokC"], K::retry, 3'100'000, "503 ServiceUnavailable", "", "", 0, "",
          program, "apple"}},
        3'000'500);
    {
        auto days = store->daily_stats(ProgramId(program), 0, 0);
        BOOST_REQUIRE(days.size() == 1u);
        BOOST_TEST(days[0].pushes["delivered"]["apple"] == 1);
        BOOST_TEST(days[0].pushes["unregistered"]["apple"] == 1);
        BOOST_TEST(days[0].pushes["retried"]["apple"] == 1);
        BOOST_TEST(days[0].pushes.count("failed") == 0u);
    }
    auto counts = store->outbox_counts();
    BOOST_TEST(counts.done == 0);
    BOOST_TEST(counts.pending == 1);
    BOOST_TEST(store->updated_serials("dev2", "pass.x", std::nullopt).serials.empty());
    BOOST_TEST(store->updated_serials("dev1", "pass.x", std::nullopt).serials.size() == 1u);
    BOOST_TEST(store->claim_outbox(10, 3'099'999, 60'000, "i1").empty());  // not due yet

    // A process killed while sending: at its next start the claims are released at once.
    auto retry = store->claim_outbox(10, 3'100'000, 60'000, "i1");
    BOOST_REQUIRE(retry.size() == 1u);
    BOOST_TEST(retry[0].attempts == 1);
    tx(1);  // meanwhile a new change queued pending rows for tokA and tokC
    BOOST_TEST(store->release_outbox_claims(3'200'000, "i1") ==
               0);  // tokC already has a pending row
    BOOST_TEST(store->outbox_counts().sending == 0);
    BOOST_TEST(store->outbox_counts().pending == 2);

    // Deferral (identity paused) does not count as an attempt; dead rows can be revived.
    auto both = store->claim_outbox(10, 3'300'000, 60'000, "i1");
    BOOST_REQUIRE(both.size() == 2u);
    store->settle_outbox(
        {{both[0].id, both[0].lease_until_ms, K::defer, 3'400'000, "paused", "", "", 0, "", 0, ""},
         {both[1].id, both[1].lease_until_ms, K::dead, 0, "BadTopic", "", "", 0, "", 0, ""}},
        3'300'100);
    auto deferred = store->claim_outbox(10, 3'400'000, 60'000, "i1");
    BOOST_REQUIRE(deferred.size() == 1u);
    BOOST_TEST(deferred[0].attempts == 0);
    BOOST_TEST(store->outbox_counts().dead == 1);
    BOOST_TEST(store->retry_dead_outbox(3'500'000) == 1);
    BOOST_TEST(store->outbox_counts().dead == 0);
    BOOST_TEST(store->release_outbox_claims(3'500'000, "i1") == 1);
    BOOST_TEST(store->outbox_counts().pending == 2);
}

// One settle holds rows of several claims, and late answers for rows claimed again: each
// row goes only under its own claim.
BOOST_FIXTURE_TEST_CASE(a_settle_batch_removes_rows_by_their_claim_only, Wallet) {
    using K = storage::OutboxSettlement::Kind;
    three_devices();
    tx(1);
    auto first = store->claim_outbox(2, 3'000'000, 1000, "i1");   // lease ends 3'001'000
    auto second = store->claim_outbox(2, 3'000'500, 3000, "i1");  // 3'003'500
    BOOST_REQUIRE(first.size() == 2u);
    BOOST_REQUIRE(second.size() == 1u);
    // The first claim's lease ran out: its rows are claimed again.
    auto again = store->claim_outbox(10, 3'002'000, 1000, "i1");
    BOOST_REQUIRE(again.size() == 2u);
    const auto done = [](const storage::OutboxItem& item) {
        return storage::OutboxSettlement{
            item.id, item.lease_until_ms, K::done, 0, "", "", "", 0, "", 0, ""};
    };
    // Late answers for the first claim, and the second claim's answer, in one batch.
    store->settle_outbox({done(first[0]), done(first[1]), done(second[0])}, 3'002'100);
    BOOST_TEST(store->outbox_counts().sending == 2);  // the newer claim's rows stay
    store->settle_outbox({done(again[0]), done(again[1])}, 3'002'200);
    const auto left = store->outbox_counts();
    BOOST_TEST(left.sending == 0);
    BOOST_TEST(left.pending == 0);
}

// Several instances on one database: a restarted instance takes back only its own claims
// at once; a dead peer's claims are claimed again by anyone when their lease runs out.
BOOST_FIXTURE_TEST_CASE(instances_release_only_their_own_claims, Wallet) {
    store->register_device("dev1", "tokA", "pass.x", SerialNumber("serial1"), 5000);
    store->register_device("dev2", "tokB", "pass.x", SerialNumber("serial1"), 5000);
    tx(1);
    auto mine = store->claim_outbox(1, 3'000'000, 60'000, "host-a:8080");
    auto theirs = store->claim_outbox(1, 3'000'000, 60'000, "host-b:8080");
    BOOST_REQUIRE(mine.size() == 1u);
    BOOST_REQUIRE(theirs.size() == 1u);
    BOOST_TEST(mine[0].target != theirs[0].target);
    BOOST_TEST(store->claim_outbox(10, 3'000'001, 60'000, "host-b:8080").empty());
    // host-a restarts: its row is due again now, host-b's stays claimed.
    BOOST_TEST(store->release_outbox_claims(3'000'100, "host-a:8080") == 1);
    auto counts = store->outbox_counts();
    BOOST_TEST(counts.pending == 1);
    BOOST_TEST(counts.sending == 1);
    auto again = store->claim_outbox(10, 3'000'200, 60'000, "host-a:8080");
    BOOST_REQUIRE(again.size() == 1u);
    BOOST_TEST(again[0].target == mine[0].target);
    // host-b died: when its lease runs out, host-a claims its row.
    BOOST_TEST(store->claim_outbox(10, 3'059'999, 60'000, "host-a:8080").empty());
    auto taken = store->claim_outbox(10, 3'060'000, 60'000, "host-a:8080");
    BOOST_REQUIRE(taken.size() == 1u);
    BOOST_TEST(taken[0].target == theirs[0].target);
    // A late answer to host-b's old claim changes nothing; host-b's restart releases nothing.
    store->finish_outbox(theirs[0].id, theirs[0].lease_until_ms, 3'060'100);
    BOOST_TEST(store->outbox_counts().sending == 2);
    BOOST_TEST(store->release_outbox_claims(3'060'200, "host-b:8080") == 0);
    BOOST_TEST(store->outbox_counts().sending == 2);
}

#if CARDSMITH_TEST_POSTGRES
// Another instance posts the same idempotency key for another card (so no card lock
// orders them) and commits while this posting waits on the key: the answer is the 409 of
// a reused key, not a failure.
BOOST_FIXTURE_TEST_CASE(a_key_another_instance_commits_meanwhile_is_seen, Wallet) {
    auto first = tx(1);
    BOOST_REQUIRE(first.entry.has_value());
    storage::postgres::PgConnection other(database.url());
    other.begin();
    other
        .prepare(
            "INSERT INTO idempotency_keys (merchant_id, key, request_hash, transaction_id, "
            "created_at) VALUES (?1, 'shared', 'their-hash', ?2, 1)")
        .bind(1, merchant.id.value())
        .bind(2, first.entry->id)
        .run();
    std::optional<storage::LedgerOutcome> mine;
    std::thread posting([&] { mine = tx(7, "shared", "my-hash"); });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // waits on the key
    other.commit();
    posting.join();
    BOOST_REQUIRE(mine.has_value());
    BOOST_TEST((mine->status == LedgerStatus::key_reused));
    BOOST_TEST(store->find_card(card.number)->balance == 1);
}

// A rollout step or campaign batch holds the update-tag counter and then wants this card,
// while this posting holds the card and waits for the counter: PostgreSQL breaks the
// deadlock by aborting one of them. When that is the posting it runs again, once.
BOOST_FIXTURE_TEST_CASE(a_posting_aborted_to_break_a_deadlock_runs_again, Wallet) {
    storage::postgres::PgConnection other(database.url());
    other.begin();
    other.prepare("UPDATE counters SET value = value + 1 WHERE name = 'pass_update_seq'").run();
    std::optional<storage::LedgerOutcome> mine;
    std::exception_ptr failure;
    std::thread posting([&] {
        try {
            mine = tx(5, "deadlock", "h");
        } catch (...) {
            failure = std::current_exception();
        }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the posting waits on it
    // Now the other side wants the posting's card. PostgreSQL looks for a deadlock
    // deadlock_timeout (1 s) after a wait begins and aborts the one that finds it: the
    // posting, which began waiting first.
    other.prepare("SELECT id FROM cards WHERE id = ?1 FOR UPDATE").bind(1, card.id.value()).run();
    other.commit();
    posting.join();
    BOOST_REQUIRE_MESSAGE(!failure, "the posting failed instead of running again");
    BOOST_REQUIRE(mine.has_value());
    BOOST_TEST((mine->status == LedgerStatus::applied));
    BOOST_TEST(store->find_card(card.number)->balance == 5);
    BOOST_TEST(store->list_transactions(card.id, 10, INT64_MAX).size() == 1u);
}

// One lock order: whatever changes cards takes them before the update-tag counter, as a
// posting does (rows.hpp, next_update_seq). Here a posting holds its card and, while `work`
// runs in another thread, takes the counter. With one order `work` waits for the card
// without holding the counter and both go through; with the opposite order they deadlock
// and PostgreSQL aborts `work` after deadlock_timeout (1 s), as it began waiting first.
template <typename Work>
void runs_beside_a_posting(const std::string& url, std::int64_t card_id, Work work) {
    storage::postgres::PgConnection posting(url);
    posting.begin();
    posting.prepare("SELECT id FROM cards WHERE id = ?1 FOR UPDATE").bind(1, card_id).run();
    std::exception_ptr failure;
    std::thread other([&] {
        try {
            work();
        } catch (...) {
            failure = std::current_exception();
        }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // `work` waits on the card
    bool posted = true;
    try {
        posting.prepare("UPDATE counters SET value = value + 1 WHERE name = 'pass_update_seq'")
            .run();
        posting.commit();
    } catch (const std::exception& e) {
        posted = false;
        BOOST_TEST_MESSAGE("the posting failed: " << e.what());
        posting.rollback();
    }
    other.join();
    BOOST_TEST(posted);
    std::string why;
    if (failure) {
        try {
            std::rethrow_exception(failure);
        } catch (const std::exception& e) {
            why = e.what();
        }
    }
    BOOST_TEST(why.empty(), "it failed beside the posting: " << why);
}

BOOST_FIXTURE_TEST_CASE(touches_and_rollout_steps_never_deadlock_with_a_posting, Wallet) {
    store->register_device("dev1", "tokA", "pass.x", SerialNumber("serial1"), 5000);
    const auto id = card.id.value();
    runs_beside_a_posting(database.url(), id, [&] { store->touch_card(card.id, 6000); });
    runs_beside_a_posting(database.url(), id, [&] { store->touch_program(card.program, 7000); });
    storage::NewDesignVersion v;
    v.program = card.program;
    v.base_version = 1;
    v.design_json = store->find_design_version(card.program, 1)->design_json;
    v.now_ms = 8000;
    const auto version = store->add_design_version(v);
    const auto rollout = store->start_rollout(card.program, version, 0, 8000);
    std::optional<storage::Rollout> stepped;
    runs_beside_a_posting(database.url(), id,
                          [&] { stepped = store->rollout_step(rollout.id, 10, 9000); });
    BOOST_REQUIRE(stepped.has_value());
    BOOST_TEST(stepped->state == "done");
    BOOST_TEST(store->find_card(card.number)->design_version == version);
    // Offers running out on two cards, the posting on the second: without the cards locked
    // first, the first card's update takes the counter (campaign batches lock the same way).
    const auto second = second_card();
    storage::postgres::PgConnection setup(database.url());
    setup.exec("UPDATE cards SET offer = 'x', offer_expires_at = 9500");
    int expired = 0;
    runs_beside_a_posting(database.url(), second.id.value(),
                          [&] { expired = store->expire_offers(10'000, 10); });
    BOOST_TEST(expired == 2);
}
#endif

#if !CARDSMITH_TEST_POSTGRES  // SQLite's query plan
BOOST_FIXTURE_TEST_CASE(claim_finds_in_flight_rows_by_index, Wallet) {
    sqlite3* db = nullptr;
    BOOST_REQUIRE(sqlite3_open((database.dir().path() / "w.db").c_str(), &db) == SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    const std::string sql = std::string("EXPLAIN QUERY PLAN ") + storage::sql::kClaimOutboxSql;
    BOOST_REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
    std::string plan;
    while (sqlite3_step(st) == SQLITE_ROW) {
        plan += reinterpret_cast<const char*>(sqlite3_column_text(st, 3));
        plan += '\n';
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    // Without it every claim walks all rows in flight for every due row (2,500 vs 47,000
    // pushes/s in bench/push_bench).
    BOOST_TEST(plan.find("outbox_target") != std::string::npos, plan);
}
#endif

BOOST_FIXTURE_TEST_CASE(drop_token_respects_reregistration, Wallet) {
    store->register_device("dev1", "tokA", "pass.x", SerialNumber("serial1"), 5000);
    (void)second_card();
    // The same device holds a pass of another type with the same token.
    BOOST_TEST((store->register_device("dev1", "tokA", "pass.other", SerialNumber("serial2"),
                                       5000) == storage::RegisterStatus::created));
    // registered after 410's time: kept
    BOOST_TEST(store->drop_push_token("tokA", "pass.x", 4000, 9000) == 0);
    BOOST_TEST(store->drop_push_token("tokA", "pass.x", 6000, 9000) == 1);
    // Only the topic APNs named lost its registration.
    BOOST_TEST(store->updated_serials("dev1", "pass.other", std::nullopt).serials.size() == 1u);
    BOOST_TEST(store->updated_serials("dev1", "pass.x", std::nullopt).serials.empty());
}

BOOST_FIXTURE_TEST_CASE(concurrent_transactions_lose_nothing, Wallet) {
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([this, t] {
            for (int i = 0; i < 50; ++i) {
                std::string key = "t";
                key += std::to_string(t);
                key += '-';
                key += std::to_string(i);
                BOOST_REQUIRE((tx(3, key, key).status == LedgerStatus::applied));
                BOOST_REQUIRE((tx(3, key, key).status == LedgerStatus::replayed));
            }
        });
    }
    for (auto& th : threads) th.join();
    BOOST_TEST(store->find_card(card.number)->balance == 8 * 50 * 3);
    BOOST_TEST(store->list_transactions(card.id, 1000, INT64_MAX).size() == 400u);
}

BOOST_AUTO_TEST_SUITE_END()
