// The storage suite: runs against every backend compiled in (SQLite for now), each test
// on a fresh schema made by the real migrations.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <thread>

#include "domain/design.hpp"
#include "storage/database.hpp"
#include "storage/store.hpp"
#include "test_database.hpp"
#include "test_program.hpp"

using namespace cardsmith;

namespace {
struct Fixture {
    test::TestDatabase database{"t.db"};
    std::unique_ptr<storage::Store> store = database.open(4, 5000);
    Fixture() { store->migrate(); }

    domain::Program program(const std::string& slug, MerchantId m) {
        storage::NewProgram np = test::new_program(slug, m);
        np.images["icon"] = {"aa", "PNGBYTES"};
        np.images["icon@2x"] = {"aa", "PNGBYTES"};  // same content: stored once
        return test::create_program(*store, np);
    }
    storage::NewCard card(ProgramId p, const std::string& number, const std::string& serial) {
        storage::NewCard n;
        n.program = p;
        n.number = CardNumber(number);
        n.serial = SerialNumber(serial);
        n.auth_token = AuthToken(std::string(32, 't'));
        n.holder = {"Ann", "+4915112345678", ""};
        n.balance = 5;
        n.now = 200;
        return n;
    }
};
}  // namespace

BOOST_AUTO_TEST_SUITE(sqlite_store)

BOOST_FIXTURE_TEST_CASE(migrations_are_idempotent, Fixture) {
    BOOST_TEST(store->schema_version() >= 1);
    int v = store->schema_version();
    BOOST_TEST(store->migrate() == v);
    BOOST_TEST(store->ping());
}

BOOST_FIXTURE_TEST_CASE(keys_and_merchants, Fixture) {
    BOOST_TEST(!store->has_admin_key(1));
    store->add_admin_key("adminhash", "csk_abcd", 1);
    BOOST_TEST(store->has_admin_key(1));
    auto m = store->create_merchant("Bean There", "merchanthash", "csk_wxyz", 2);
    auto admin = store->find_api_key("adminhash", 3);
    BOOST_REQUIRE(admin.has_value());
    BOOST_TEST(admin->admin);
    auto mk = store->find_api_key("merchanthash", 3);
    BOOST_REQUIRE(mk.has_value());
    BOOST_TEST(!mk->admin);
    BOOST_TEST(mk->merchant == m.id);
    BOOST_TEST(!store->find_api_key("unknown", 3));
    BOOST_TEST(store->find_merchant(m.id)->name == "Bean There");
}

BOOST_FIXTURE_TEST_CASE(programs_slugs_and_images, Fixture) {
    auto m = store->create_merchant("M", "h1", "p", 1);
    auto p = program("bean-there", m.id);
    BOOST_TEST(p.slug == "bean-there");
    BOOST_TEST(p.design_version == 1);
    BOOST_TEST(p.design.organization_name == "O");
    storage::NewProgram dup;
    dup.merchant = m.id;
    dup.slug = "bean-there";
    dup.design_json = "{}";
    BOOST_TEST((store->create_program(dup).status == storage::StoreStatus::conflict));
    auto images = store->design_images(p.id, 1);
    BOOST_TEST(images.size() == 2u);
    BOOST_TEST(images["icon@2x"] == "PNGBYTES");
    BOOST_TEST(store->find_program("bean-there")->id == p.id);
    BOOST_TEST(!store->find_program("nope"));
}

BOOST_FIXTURE_TEST_CASE(cards_unique_and_update_tags_increase, Fixture) {
    auto m = store->create_merchant("M", "h1", "p", 1);
    auto p = program("shop", m.id);
    auto a = store->create_card(card(p.id, "4111111111111111", "serialA"));
    BOOST_REQUIRE(a.status == storage::StoreStatus::ok);
    BOOST_TEST(a.value->balance == 5);
    BOOST_TEST(a.value->holder.phone == "+4915112345678");
    BOOST_TEST(a.value->holder.email == "");
    auto same_number = store->create_card(card(p.id, "4111111111111111", "serialB"));
    BOOST_TEST((same_number.status == storage::StoreStatus::conflict));
    auto same_serial = store->create_card(card(p.id, "5555555555554444", "serialA"));
    BOOST_TEST((same_serial.status == storage::StoreStatus::conflict));
    auto b = store->create_card(card(p.id, "5555555555554444", "serialB"));
    BOOST_REQUIRE(b.status == storage::StoreStatus::ok);
    BOOST_TEST(b.value->update_seq > a.value->update_seq);
    BOOST_TEST(store->count_cards(p.id) == 2);
    BOOST_TEST(store->find_card(CardNumber("5555555555554444"))->serial.value() == "serialB");
    BOOST_TEST(store->find_card(SerialNumber("serialA"))->number.value() == "4111111111111111");
    auto orphan = store->create_card(card(ProgramId(9999), "4012888888881881", "serialC"));
    BOOST_TEST((orphan.status == storage::StoreStatus::not_found));
}

BOOST_FIXTURE_TEST_CASE(a_rollout_counts_only_its_running_time, Fixture) {
    auto m = store->create_merchant("M", "h1", "p", 1);
    auto p = program("shop", m.id);
    BOOST_REQUIRE(store->create_card(card(p.id, "4111111111111111", "serialA")).status ==
                  storage::StoreStatus::ok);
    BOOST_REQUIRE(store->create_card(card(p.id, "5555555555554444", "serialB")).status ==
                  storage::StoreStatus::ok);
    storage::NewDesignVersion v;
    v.program = p.id;
    v.base_version = p.design_version;
    v.design_json = store->find_design_version(p.id, p.design_version)->design_json;
    v.now_ms = 1'000;
    const auto version = store->add_design_version(v);
    auto r = store->start_rollout(p.id, version, 0, 10'000);
    BOOST_TEST(r.state == "running");
    BOOST_TEST(r.running_since == 10'000);
    // Paused from 12 s to 70 s: those 58 s are not running time.
    auto paused = store->control_rollout(r.id, storage::RolloutAction::pause, 12'000);
    BOOST_REQUIRE(paused.rollout);
    BOOST_TEST(paused.rollout->active_ms == 2'000);
    BOOST_TEST(paused.rollout->running_since == 0);
    auto resumed = store->control_rollout(r.id, storage::RolloutAction::resume, 70'000);
    BOOST_TEST(resumed.rollout->running_since == 70'000);
    auto step = store->rollout_step(r.id, 1, 71'000);
    BOOST_REQUIRE(step);
    BOOST_TEST(step->state == "running");
    BOOST_TEST(step->running_since == 70'000);
    auto done = store->rollout_step(r.id, 10, 73'000);
    BOOST_REQUIRE(done);
    BOOST_TEST(done->state == "done");
    BOOST_TEST(done->active_ms == 5'000);  // 2 s before the pause, 3 s after
    BOOST_TEST(done->running_since == 0);

    // Cancel a half-done rollout: a revert brings the moved card back; the revert itself
    // cannot be cancelled (that would publish the cancelled version again).
    v.now_ms = 80'000;
    const auto next = store->add_design_version(v);
    auto r2 = store->start_rollout(p.id, next, 0, 80'000);
    BOOST_REQUIRE(store->rollout_step(r2.id, 1, 81'000));
    auto cancelled = store->control_rollout(r2.id, storage::RolloutAction::cancel, 82'000);
    BOOST_TEST((cancelled.status == storage::StoreStatus::ok));
    BOOST_REQUIRE(cancelled.revert);
    BOOST_TEST(cancelled.revert->reverts == r2.id);
    BOOST_TEST(cancelled.revert->version == version);
    auto again =
        store->control_rollout(cancelled.revert->id, storage::RolloutAction::cancel, 83'000);
    BOOST_TEST((again.status == storage::StoreStatus::conflict));
    BOOST_TEST(store->control_rollout(cancelled.revert->id, storage::RolloutAction::pause, 83'000)
                   .rollout->state == "paused");
}

BOOST_FIXTURE_TEST_CASE(segments_select_cards_and_a_campaign_walks_them, Fixture) {
    auto m = store->create_merchant("M", "h1", "p", 1);
    auto p = program("seg", m.id);
    auto a = card(p.id, "4111111111111111", "serialA");
    a.balance = 50;
    auto b = card(p.id, "5555555555554444", "serialB");
    b.balance = 500;
    b.source = "poster";
    BOOST_REQUIRE(store->create_card(a).status == storage::StoreStatus::ok);
    BOOST_REQUIRE(store->create_card(b).status == storage::StoreStatus::ok);
    storage::SegmentFilter all;
    BOOST_TEST(store->count_segment(p.id, all) == 2);
    storage::SegmentFilter rich;
    rich.balance_min = 100;
    BOOST_TEST(store->count_segment(p.id, rich) == 1);
    storage::SegmentFilter poster;
    poster.channels_json = R"(["poster", "join"])";
    BOOST_TEST(store->count_segment(p.id, poster) == 1);
    storage::SegmentFilter picked;
    picked.cards_json = R"(["4111111111111111"])";
    BOOST_TEST(store->count_segment(p.id, picked) == 1);
    storage::SegmentFilter tiers;  // lifetime points in [100, 1000): card B only
    tiers.lifetime_ranges_json = "[[100, 1000], [5000, 9000]]";
    BOOST_TEST(store->count_segment(p.id, tiers) == 1);

    storage::NewCampaign nc;
    nc.program = p.id;
    nc.message = "Double points";
    nc.segment_json = "{}";
    nc.options_json = "{}";
    nc.send_at_ms = 1'000;
    nc.expires_at_ms = 90'000'000;
    nc.now_ms = 1'000;
    const auto id = store->create_campaign(nc);
    BOOST_TEST(store->due_campaigns(2'000).size() == 1u);
    storage::CampaignStep step;
    step.limit = 10;
    step.now_ms = 2'000;
    auto after = store->campaign_step(id, rich, step);
    BOOST_REQUIRE(after);
    BOOST_TEST(after->state == "done");
    BOOST_TEST(after->targeted == 1);
    BOOST_TEST(after->unreachable == 1);  // no device, not in Google Wallet
    BOOST_TEST(store->find_card(CardNumber("5555555555554444"))->offer == "Double points");
    BOOST_TEST(store->find_card(CardNumber("4111111111111111"))->offer.empty());
}

BOOST_FIXTURE_TEST_CASE(concurrent_writers_on_the_pool, Fixture) {
    auto m = store->create_merchant("M", "h1", "p", 1);
    auto p = program("busy", m.id);
    storage::Database db(std::move(store), 4);
    net::io_context ioc;
    int done = 0;
    for (int i = 0; i < 40; ++i) {
        net::co_spawn(
            ioc,
            [&, i]() -> net::awaitable<void> {
                auto n =
                    card(p.id, std::to_string(4000000000000000LL + i), "s" + std::to_string(i));
                auto out = co_await db.run([&](storage::Store& s) { return s.create_card(n); });
                BOOST_TEST((out.status == storage::StoreStatus::ok));
                ++done;
            },
            net::detached);
    }
    ioc.run();
    BOOST_TEST(done == 40);
    auto count = db.store().count_cards(p.id);
    BOOST_TEST(count == 40);
}

BOOST_AUTO_TEST_SUITE_END()
