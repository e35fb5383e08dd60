// Campaigns end to end (issue 6): validation and lint, segment selection and its dry-run
// count, the offer on the pass with its lock-screen change message, delivery when the
// device fetches the pass, redemption, frequency cap, holdout, schedule in the program's
// time zone, quiet hours, rate limit, cancel and the offer's expiry.
#include <ctime>

#include "marketing_world.hpp"

using namespace cardsmith;
namespace json = boost::json;
using test::verb;
using namespace std::chrono_literals;

namespace {

using test::eventually;
using test::Holder;
using test::World;

// The pass a device fetches now (which counts as delivery): its field `key` in
// `section` (any section when empty), or nothing.
std::optional<json::object> find_field(World& w, const Holder& h, std::string_view key,
                                       std::string_view section = {}) {
    auto r = w.client->request(verb::get, "/apple/v1/passes/" + h.type + "/" + h.serial, "",
                               {{"Authorization", h.auth}});
    BOOST_REQUIRE_EQUAL(r.result_int(), 200);
    auto pj = json::parse(test::unzip(r.body())["pass.json"]).as_object();
    for (const auto& [name, fields] : pj.at("storeCard").as_object()) {
        if (!section.empty() && name != section) continue;
        for (const auto& f : fields.as_array()) {
            if (f.at("key").as_string() == key) return f.as_object();
        }
    }
    return std::nullopt;
}

json::object offer_field(World& w, const Holder& h) {
    auto f = find_field(w, h, "offer");
    BOOST_REQUIRE_MESSAGE(f, "no offer field");
    return *f;
}

void earn(World& w, const Holder& h, std::int64_t points) {
    auto r =
        w.call(verb::post, "/api/v1/cards/" + h.number + "/transactions", {{"points", points}});
    BOOST_REQUIRE_EQUAL(r.result_int(), 201);
}

json::object campaign(World& w, std::int64_t id) {
    auto r = w.call(verb::get, "/api/v1/campaigns/" + std::to_string(id));
    BOOST_REQUIRE_EQUAL(r.result_int(), 200);
    return test::json_of(r).as_object();
}

std::int64_t counter(World& w, std::int64_t id, const char* name) {
    return campaign(w, id).at(name).as_int64();
}

std::int64_t create(World& w, const json::object& body) {
    auto r = w.call(verb::post, "/api/v1/programs/bean/campaigns", body);
    BOOST_REQUIRE_MESSAGE(r.result_int() == 202, r.body());
    return test::json_of(r).at("id").as_int64();
}

// Local wall-clock text ("YYYY-MM-DDTHH:MM:SS") of a UTC instant at a fixed offset.
std::string local_text(std::time_t utc, int offset_seconds) {
    const std::time_t t = utc + offset_seconds;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    return buf;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(campaigns)

BOOST_AUTO_TEST_CASE(bad_campaigns_are_refused_and_change_nothing) {
    World w(0, 1);
    auto post = [&](const json::object& body) {
        return w.call(verb::post, "/api/v1/programs/bean/campaigns", body);
    };
    auto missing = post({{"segment", json::object{}}});
    BOOST_TEST(missing.result_int() == 422);
    BOOST_TEST(test::json_of(missing).at("error").at("field").as_string() == "message");
    auto tier = post({{"message", "Hi"}, {"segment", {{"tiers", {"Platinum"}}}}});
    BOOST_TEST(tier.result_int() == 422);
    BOOST_TEST(test::json_of(tier).at("error").at("field").as_string() == "segment.tiers");
    BOOST_TEST(post({{"message", "Hi"}, {"sendAt", "2020-01-01T10:00"}}).result_int() == 422);
    BOOST_TEST(post({{"message", "Hi"}, {"sendAt", "tomorrow"}}).result_int() == 422);
    BOOST_TEST(post({{"message", "Hi"}, {"quietHours", {{"start", "25:00"}, {"end", "09:00"}}}})
                   .result_int() == 422);
    BOOST_TEST(post({{"message", "Hi"}, {"holdoutPercent", 80}}).result_int() == 422);
    BOOST_TEST(post({{"message", "Hi"}, {"segment", {{"balanceMin", 10}, {"balanceMax", 5}}}})
                   .result_int() == 422);
    BOOST_TEST(post({{"message", "Hi"}, {"link", "javascript:alert(1)"}}).result_int() == 422);
    BOOST_TEST(post({{"message", "Hi"}, {"colour", "red"}}).result_int() == 422);
    // Lint: a lock-screen message too long for any lock screen.
    auto lint = post({{"message", std::string(600, 'a')}});
    BOOST_TEST(lint.result_int() == 422);
    BOOST_TEST(test::json_of(lint).at("error").at("code").as_string() == "lint_failed");
    auto m2 = w.client->post_json("/api/v1/merchants", {{"name", "Other"}}, w.server.admin_key());
    const std::string other(test::json_of(m2).at("apiKey").as_string());
    auto foreign =
        w.client->post_json("/api/v1/programs/bean/campaigns", {{"message", "Hi"}}, other);
    BOOST_TEST(foreign.result_int() == 404);
    auto list = test::json_of(w.call(verb::get, "/api/v1/programs/bean/campaigns"));
    BOOST_TEST(list.at("campaigns").as_array().empty());
    BOOST_TEST(w.pushes_to(w.cards[0].token) == 0u);
}

BOOST_AUTO_TEST_CASE(a_segment_gets_the_offer_on_the_lock_screen_and_its_effect_is_counted) {
    World w(0, 6);
    for (std::size_t i = 0; i < 3; ++i) earn(w, w.cards[i], 150);
    earn(w, w.cards[3], 2500);        // Gold
    std::vector<std::size_t> before;  // the transactions' pushes
    for (const auto& h : w.cards) {
        BOOST_TEST(
            eventually([&] { return w.pushes_to(h.token) == (&h < &w.cards[4] ? 1u : 0u); }));
        before.push_back(w.pushes_to(h.token));
    }
    BOOST_TEST(!offer_field(w, w.cards[0]).contains("changeMessage"));  // the default offer

    auto dry = w.call(
        verb::post, "/api/v1/programs/bean/campaigns",
        {{"message", "Double points today"}, {"segment", {{"balanceMin", 100}}}, {"dryRun", true}});
    BOOST_REQUIRE_EQUAL(dry.result_int(), 200);
    BOOST_TEST(test::json_of(dry).at("targeted").as_int64() == 4);
    auto gold = w.call(verb::post, "/api/v1/programs/bean/campaigns",
                       {{"message", "x"}, {"segment", {{"tiers", {"Gold"}}}}, {"dryRun", true}});
    BOOST_TEST(test::json_of(gold).at("targeted").as_int64() == 1);
    auto picked = w.call(verb::post, "/api/v1/programs/bean/campaigns",
                         {{"message", "x"},
                          {"segment", {{"cards", {w.cards[4].number, w.cards[5].number}}}},
                          {"dryRun", true}});
    BOOST_TEST(test::json_of(picked).at("targeted").as_int64() == 2);
    BOOST_TEST(test::json_of(w.call(verb::get, "/api/v1/programs/bean/campaigns"))
                   .at("campaigns")
                   .as_array()
                   .empty());

    const auto id = create(w, {{"message", "Double points today"},
                               {"segment", {{"balanceMin", 100}, {"balanceMax", 1000}}}});
    BOOST_TEST(eventually([&] { return campaign(w, id).at("state").as_string() == "done"; }));
    auto c = campaign(w, id);
    BOOST_TEST(c.at("targeted").as_int64() == 3);
    BOOST_TEST(c.at("sent").as_int64() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
        BOOST_TEST(eventually([&] { return w.pushes_to(w.cards[i].token) == before[i] + 1; }));
    }
    BOOST_TEST(w.pushes_to(w.cards[3].token) == before[3]);  // Gold: above balanceMax
    BOOST_TEST(w.pushes_to(w.cards[4].token) == before[4]);
    // The device fetches the pass: the offer with its change message, and delivered.
    BOOST_TEST(counter(w, id, "delivered") == 0);
    auto offer = offer_field(w, w.cards[0]);
    BOOST_TEST(offer.at("value").as_string() == "Double points today");
    BOOST_TEST(offer.at("changeMessage").as_string() == "%@");
    BOOST_TEST(counter(w, id, "delivered") == 1);
    // No offer, no back field; the campaign's back field ends with the offer.
    BOOST_TEST(!find_field(w, w.cards[4], "campaignOffer").has_value());
    auto back = find_field(w, w.cards[0], "campaignOffer", "backFields");
    BOOST_REQUIRE(back);
    BOOST_TEST(back->at("value").as_string() == "Double points today");
    BOOST_TEST(back->at("label").as_string() == "Offer");
    BOOST_TEST(!back->contains("changeMessage"));  // the front field notifies, once
    BOOST_TEST(find_field(w, w.cards[0], "campaignOfferEnds", "backFields").has_value());
    earn(w, w.cards[0], 10);
    BOOST_TEST(counter(w, id, "redeemed") == 1);
    const auto effect = campaign(w, id).at("effect").as_object();
    BOOST_TEST(effect.at("offered").as_int64() == 3);
    BOOST_TEST(effect.at("offeredRedeemed").as_int64() == 1);
    BOOST_TEST(offer_field(w, w.cards[4]).at("value").as_string() != "Double points today");

    // The frequency cap: the same cards again within a day are capped.
    const auto again = create(w, {{"message", "Another"}, {"segment", {{"balanceMin", 100}}}});
    BOOST_TEST(eventually([&] { return campaign(w, again).at("state").as_string() == "done"; }));
    auto capped = campaign(w, again);
    BOOST_TEST(capped.at("targeted").as_int64() == 4);
    BOOST_TEST(capped.at("capped").as_int64() == 3);
    BOOST_TEST(capped.at("sent").as_int64() == 1);  // the Gold card had no offer today
    const auto uncapped = create(
        w, {{"message", "Third"}, {"frequencyCapHours", 0}, {"segment", {{"tiers", {"Gold"}}}}});
    BOOST_TEST(eventually([&] { return campaign(w, uncapped).at("state").as_string() == "done"; }));
    BOOST_TEST(counter(w, uncapped, "sent") == 1);
}

BOOST_AUTO_TEST_CASE(holdout_cards_are_counted_but_not_sent) {
    World w(0, 20);
    const auto id = create(w, {{"message", "Half of you"},
                               {"header", "Weekend special"},
                               {"link", "https://bean.example/weekend"},
                               {"holdoutPercent", 50}});
    BOOST_TEST(eventually([&] { return campaign(w, id).at("state").as_string() == "done"; }));
    auto c = campaign(w, id);
    const auto held = c.at("heldOut").as_int64();
    BOOST_TEST(c.at("targeted").as_int64() == 20);
    BOOST_TEST(held > 0);
    BOOST_TEST(held < 20);
    BOOST_TEST(held + c.at("sent").as_int64() == 20);
    std::size_t pushed = 0;
    for (const auto& h : w.cards) {
        if (eventually([&] { return w.pushes_to(h.token) == 1; }, 300ms)) ++pushed;
    }
    BOOST_TEST(static_cast<std::int64_t>(pushed) == 20 - held);
    BOOST_TEST(c.at("holdoutRedemptionRate").as_double() == 0.0);
    // One purchase in each group: both count from the draw, delivered or not.
    const Holder* offered = nullptr;
    const Holder* holdout = nullptr;
    for (const auto& h : w.cards) {
        const bool got = w.pushes_to(h.token) == 1;
        if (got && !offered) offered = &h;
        if (!got && !holdout) holdout = &h;
    }
    BOOST_REQUIRE(offered && holdout);
    earn(w, *offered, 5);
    earn(w, *holdout, 5);
    const auto effect = campaign(w, id).at("effect").as_object();
    BOOST_TEST(effect.at("offered").as_int64() == 20 - held);
    BOOST_TEST(effect.at("offeredRedeemed").as_int64() == 1);
    BOOST_TEST(effect.at("heldOutRedeemed").as_int64() == 1);
    BOOST_TEST(effect.at("holdoutRate").as_double() == 1.0 / static_cast<double>(held));
    BOOST_TEST(counter(w, id, "redeemed") == 0);  // nobody fetched the pass yet
    // The header and link stay on the back of the pass (links there are tappable).
    auto back = find_field(w, *offered, "campaignOffer", "backFields");
    BOOST_REQUIRE(back);
    BOOST_TEST(back->at("label").as_string() == "Weekend special");
    BOOST_TEST(back->at("value").as_string() == "Half of you\nhttps://bean.example/weekend");
    BOOST_TEST(!find_field(w, *holdout, "campaignOffer").has_value());
}

BOOST_AUTO_TEST_CASE(schedule_in_the_program_time_zone_quiet_hours_rate_and_cancel) {
    World w(0, 5);
    // Tokyo has no daylight time: +09:00 all year.
    BOOST_REQUIRE_EQUAL(
        w.call(verb::patch, "/api/v1/programs/bean", {{"timeZone", "Asia/Tokyo"}}).result_int(),
        200);
    BOOST_TEST(
        w.call(verb::patch, "/api/v1/programs/bean", {{"timeZone", "Mars/Olympus"}}).result_int() ==
        422);
    const std::time_t now = std::time(nullptr);
    const auto id = create(w, {{"message", "Soon"}, {"sendAt", local_text(now + 3, 9 * 3600)}});
    auto scheduled = campaign(w, id);
    BOOST_TEST(scheduled.at("state").as_string() == "scheduled");
    // The local time was read in Tokyo: sendAt comes back as the UTC instant.
    BOOST_TEST(scheduled.at("sendAt").as_string() == local_text(now + 3, 0) + "Z");
    std::this_thread::sleep_for(1s);
    BOOST_TEST(counter(w, id, "sent") == 0);
    BOOST_TEST(eventually([&] { return campaign(w, id).at("state").as_string() == "done"; }, 15s));
    BOOST_TEST(counter(w, id, "sent") == 5);

    // Quiet hours around the current Tokyo time: nothing goes out; then cancel.
    auto hhmm = [&](std::time_t t) { return local_text(t, 9 * 3600).substr(11, 5); };
    const auto quiet =
        create(w, {{"message", "Not now"},
                   {"frequencyCapHours", 0},
                   {"quietHours", {{"start", hhmm(now - 3600)}, {"end", hhmm(now + 3600)}}}});
    std::this_thread::sleep_for(2500ms);
    BOOST_TEST(counter(w, quiet, "sent") == 0);
    auto cancel = w.call(verb::post, "/api/v1/campaigns/" + std::to_string(quiet) + "/cancel");
    BOOST_REQUIRE_EQUAL(cancel.result_int(), 200);
    BOOST_TEST(test::json_of(cancel).at("state").as_string() == "cancelled");
    BOOST_TEST(
        w.call(verb::post, "/api/v1/campaigns/" + std::to_string(quiet) + "/cancel").result_int() ==
        409);
    std::this_thread::sleep_for(1200ms);
    BOOST_TEST(counter(w, quiet, "sent") == 0);

    // A rate of 60 a minute: one card a second.
    const auto slow =
        create(w, {{"message", "Slowly"}, {"frequencyCapHours", 0}, {"ratePerMinute", 60}});
    std::this_thread::sleep_for(2500ms);
    const auto part = counter(w, slow, "sent");
    BOOST_TEST(part >= 1);
    BOOST_TEST(part <= 4);
    BOOST_TEST(
        eventually([&] { return campaign(w, slow).at("state").as_string() == "done"; }, 15s));
    BOOST_TEST(counter(w, slow, "sent") == 5);
}

BOOST_AUTO_TEST_CASE(an_offer_leaves_the_pass_silently_when_it_expires) {
    World w(0, 1);
    const std::time_t now = std::time(nullptr);
    const auto id =
        create(w, {{"message", "Today only"}, {"expiresAt", local_text(now + 3, 0) + "Z"}});
    BOOST_TEST(eventually([&] { return campaign(w, id).at("state").as_string() == "done"; }));
    BOOST_TEST(offer_field(w, w.cards[0]).at("value").as_string() == "Today only");
    BOOST_TEST(eventually([&] { return w.pushes_to(w.cards[0].token) == 1; }));
    // After the end: pushed again, the default offer without a change message.
    BOOST_TEST(eventually([&] { return w.pushes_to(w.cards[0].token) == 2; }, 10s));
    auto offer = offer_field(w, w.cards[0]);
    BOOST_TEST(offer.at("value").as_string() != "Today only");
    BOOST_TEST(!offer.contains("changeMessage"));
}

BOOST_AUTO_TEST_SUITE_END()
