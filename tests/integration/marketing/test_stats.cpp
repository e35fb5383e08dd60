// The console's data (issue 6): per-day series and card search.
#include "marketing_world.hpp"

using namespace cardsmith;
namespace json = boost::json;
using test::verb;

BOOST_AUTO_TEST_SUITE(stats)

BOOST_AUTO_TEST_CASE(daily_series_count_cards_installs_and_the_ledger_of_today) {
    test::World w(0, 3);
    auto tx = [&](std::int64_t points) {
        auto r = w.call(verb::post, "/api/v1/cards/" + w.cards[0].number + "/transactions",
                        {{"points", points}});
        BOOST_REQUIRE_EQUAL(r.result_int(), 201);
    };
    tx(50);
    tx(-20);
    auto r = w.call(verb::get, "/api/v1/programs/bean/stats/daily?days=7");
    BOOST_REQUIRE_EQUAL(r.result_int(), 200);
    auto days = test::json_of(r).at("days").as_array();
    BOOST_REQUIRE_EQUAL(days.size(), 7u);
    const auto& today = days.back().as_object();
    BOOST_TEST(today.at("cardsIssued").as_int64() == 3);
    BOOST_TEST(today.at("cardsBySource").at("api").as_int64() == 3);
    BOOST_TEST(today.at("installs").at("apple").as_int64() == 3);
    BOOST_TEST(today.at("transactions").as_int64() == 2);
    BOOST_TEST(today.at("pointsEarned").as_int64() == 50);
    BOOST_TEST(today.at("pointsRedeemed").as_int64() == 20);
    BOOST_TEST(days.front().at("cardsIssued").as_int64() == 0);
    // Pushes by outcome: the transactions' pushes, counted when APNs answered.
    BOOST_TEST(test::eventually([&] {
        auto d = test::json_of(w.call(verb::get, "/api/v1/programs/bean/stats/daily?days=1"));
        const auto& p = d.at("days").as_array().back().at("pushes");
        const auto* apple = p.at("delivered").as_object().if_contains("apple");
        return apple != nullptr && apple->as_int64() > 0 &&
               static_cast<std::size_t>(apple->as_int64()) == w.pushes_to(w.cards[0].token);
    }));
    w.apns.reply_for(w.cards[1].token, {410, "Unregistered", std::nullopt, 0});
    BOOST_REQUIRE_EQUAL(
        w.call(verb::post, "/api/v1/cards/" + w.cards[1].number + "/transactions", {{"points", 7}})
            .result_int(),
        201);
    BOOST_TEST(test::eventually([&] {
        auto d = test::json_of(w.call(verb::get, "/api/v1/programs/bean/stats/daily?days=1"));
        const auto& p = d.at("days").as_array().back().at("pushes");
        const auto* gone = p.at("unregistered").as_object().if_contains("apple");
        return gone != nullptr && gone->as_int64() == 1;
    }));
    const bool ordered = days.front().at("date").as_string() < today.at("date").as_string();
    BOOST_TEST(ordered);
    BOOST_TEST(w.call(verb::get, "/api/v1/programs/bean/stats/daily?days=0").result_int() == 422);
    BOOST_TEST(w.call(verb::get, "/api/v1/programs/bean/stats/daily?days=x").result_int() == 422);
}

BOOST_AUTO_TEST_CASE(card_search_by_number_and_holder_within_the_program) {
    test::World w(0, 3);
    auto search = [&](const std::string& q) {
        auto r = w.call(verb::get, "/api/v1/programs/bean/cards?q=" + q);
        BOOST_REQUIRE_EQUAL(r.result_int(), 200);
        std::vector<std::string> numbers;
        const auto body = test::json_of(r);
        for (const auto& c : body.at("cards").as_array()) {
            numbers.emplace_back(c.at("cardNumber").as_string());
        }
        return numbers;
    };
    auto by_number = search(w.cards[0].number.substr(0, 16));
    const bool found =
        std::find(by_number.begin(), by_number.end(), w.cards[0].number) != by_number.end();
    BOOST_TEST(found);
    auto by_name = search("Holder%201");
    BOOST_REQUIRE_EQUAL(by_name.size(), 1u);
    BOOST_TEST(by_name[0] == w.cards[1].number);
    BOOST_TEST(search("holder").size() == 3u);  // case-insensitive
    BOOST_TEST(search("%25").empty());          // a literal %, not a wildcard
    auto all = search("");
    BOOST_REQUIRE_EQUAL(all.size(), 3u);
    BOOST_TEST(all[0] == w.cards[2].number);  // newest first
    BOOST_TEST(w.call(verb::get, "/api/v1/programs/bean/cards?limit=500").result_int() == 422);
    auto m2 = w.client->post_json("/api/v1/merchants", {{"name", "Other"}}, w.server.admin_key());
    const std::string other(test::json_of(m2).at("apiKey").as_string());
    BOOST_TEST(w.client->get("/api/v1/programs/bean/cards?q=Holder", other).result_int() == 404);
}

BOOST_AUTO_TEST_SUITE_END()
