// Webhooks and the event feed (issue 6): signed JSON calls to a local receiver for the
// subscribed events, retries with backoff (also across kill -9), the delivery log, the
// pull mode, and merchants kept apart.
#include "marketing_world.hpp"
#include "webhook_receiver.hpp"

using namespace cardsmith;
namespace json = boost::json;
using test::verb;
using namespace std::chrono_literals;

namespace {

using test::eventually;
using test::World;

struct Hooked {
    World w{0, 1};
    test::WebhookReceiver receiver{"unused"};
    std::int64_t id = 0;
    std::string secret;

    explicit Hooked(const json::array& events) {
        json::object body{{"url", receiver.url("/crm")}};
        if (!events.empty()) body["events"] = events;
        auto r = w.call(verb::post, "/api/v1/webhooks", body);
        BOOST_REQUIRE_MESSAGE(r.result_int() == 201, r.body());
        auto v = test::json_of(r).as_object();
        id = v.at("id").as_int64();
        secret = std::string(v.at("secret").as_string());
    }
    std::string new_card(const std::string& name) {
        auto c = w.call(verb::post, "/api/v1/programs/bean/cards", {{"holder", {{"name", name}}}});
        BOOST_REQUIRE_EQUAL(c.result_int(), 201);
        return std::string(test::json_of(c).at("cardNumber").as_string());
    }
    json::array deliveries() {
        auto r = w.call(verb::get, "/api/v1/webhooks/" + std::to_string(id) + "/deliveries");
        BOOST_REQUIRE_EQUAL(r.result_int(), 200);
        return test::json_of(r).at("deliveries").as_array();
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(webhooks)

BOOST_AUTO_TEST_CASE(subscribed_events_arrive_signed_and_are_logged) {
    Hooked h(json::array{"card.created", "transaction.created"});
    const auto number = h.new_card("Ana");
    auto calls = h.receiver.wait_for(1);
    BOOST_REQUIRE_EQUAL(calls.size(), 1u);
    const auto& call = calls[0];
    BOOST_TEST(call.method == "POST");
    BOOST_TEST(call.target == "/crm");
    BOOST_TEST(call.headers.at("cardsmith-event") == "card.created");
    BOOST_TEST(test::check_signature(h.secret, call.headers.at("cardsmith-signature"), call.body));
    BOOST_TEST(
        !test::check_signature(h.secret + "x", call.headers.at("cardsmith-signature"), call.body));
    auto body = json::parse(call.body).as_object();
    BOOST_TEST(body.at("type").as_string() == "card.created");
    BOOST_TEST(body.at("data").at("cardNumber").as_string() == number);
    BOOST_TEST(body.at("data").at("program").as_string() == "bean");

    auto t = h.w.call(verb::post, "/api/v1/cards/" + number + "/transactions", {{"points", 7}});
    BOOST_REQUIRE_EQUAL(t.result_int(), 201);
    calls = h.receiver.wait_for(2);
    BOOST_REQUIRE_EQUAL(calls.size(), 2u);
    auto tx = json::parse(calls[1].body).as_object();
    BOOST_TEST(tx.at("type").as_string() == "transaction.created");
    BOOST_TEST(tx.at("data").at("points").as_int64() == 7);
    BOOST_TEST(tx.at("data").at("balance").as_int64() == 7);
    // A card with a device: card.created goes out, pass.installed (not subscribed) does not.
    h.w.add_card(5);
    BOOST_TEST(h.receiver.wait_for(3).size() == 3u);
    std::this_thread::sleep_for(1500ms);
    BOOST_TEST(h.receiver.calls().size() == 3u);
    for (const auto& c : h.receiver.calls()) {
        BOOST_TEST(c.headers.at("cardsmith-event") != "pass.installed");
    }

    auto log = h.deliveries();
    BOOST_REQUIRE_EQUAL(log.size(), 3u);
    BOOST_TEST(log[0].at("state").as_string() == "delivered");
    BOOST_TEST(log[0].at("lastStatus").as_int64() == 200);
    BOOST_TEST(h.w.server.log().find(h.secret) == std::string::npos);

    // The list never shows the secret; another merchant sees none of it.
    auto list = h.w.call(verb::get, "/api/v1/webhooks");
    BOOST_TEST(list.body().find(h.secret) == std::string::npos);
    auto m2 =
        h.w.client->post_json("/api/v1/merchants", {{"name", "Other"}}, h.w.server.admin_key());
    const std::string other(test::json_of(m2).at("apiKey").as_string());
    BOOST_TEST(h.w.client->get("/api/v1/webhooks/" + std::to_string(h.id) + "/deliveries", other)
                   .result_int() == 404);
    BOOST_TEST(test::json_of(h.w.client->get("/api/v1/webhooks", other))
                   .at("webhooks")
                   .as_array()
                   .empty());
    BOOST_TEST(
        test::json_of(h.w.client->get("/api/v1/events", other)).at("events").as_array().empty());
}

BOOST_AUTO_TEST_CASE(failed_calls_are_retried_with_backoff_even_across_a_crash) {
    Hooked h(json::array{});  // every event
    h.receiver.set_status(500);
    h.new_card("Bo");
    BOOST_TEST(h.receiver.wait_for(2, 10s).size() >= 2u);  // retried
    auto log = h.deliveries();
    BOOST_TEST(log[0].at("state").as_string() == "pending");
    BOOST_TEST(log[0].at("lastStatus").as_int64() == 500);
    BOOST_TEST(log[0].at("attempts").as_int64() >= 2);
    // kill -9 while it is still failing; the next start delivers it.
    h.w.server.kill_hard();
    h.receiver.set_status(200);
    const auto before = h.receiver.calls().size();
    h.w.server.start();
    h.w.reconnect();
    BOOST_TEST(
        eventually([&] { return h.deliveries()[0].at("state").as_string() == "delivered"; }, 30s));
    BOOST_TEST(h.receiver.calls().size() > before);
    // The receiver got the same event id each time: the CRM can deduplicate.
    std::set<std::string> ids;
    for (const auto& c : h.receiver.calls()) {
        ids.insert(json::serialize(json::parse(c.body).at("id")));
    }
    BOOST_TEST(ids.size() == 1u);
}

BOOST_AUTO_TEST_CASE(the_event_feed_pages_by_id_and_bad_requests_change_nothing) {
    Hooked h(json::array{"campaign.finished"});
    h.new_card("Cy");
    auto first = h.w.call(verb::get, "/api/v1/events?limit=2");
    BOOST_REQUIRE_EQUAL(first.result_int(), 200);
    auto page = test::json_of(first).as_object();
    // World made a card and registered its device; then Cy's card.
    BOOST_TEST(page.at("events").as_array().size() == 2u);
    BOOST_TEST(page.at("events").as_array()[0].at("type").as_string() == "card.created");
    BOOST_TEST(page.at("events").as_array()[1].at("type").as_string() == "pass.installed");
    const auto last = page.at("last").as_int64();
    auto rest = test::json_of(h.w.call(verb::get, "/api/v1/events?after=" + std::to_string(last)));
    BOOST_TEST(rest.at("events").as_array().size() == 1u);
    BOOST_TEST(rest.at("events").as_array()[0].at("data").at("cardNumber").is_string());
    BOOST_TEST(h.w.call(verb::get, "/api/v1/events?after=abc").result_int() == 422);
    BOOST_TEST(h.w.call(verb::get, "/api/v1/events?limit=0").result_int() == 422);
    BOOST_TEST(h.w.client->get("/api/v1/events", h.w.server.admin_key()).result_int() == 422);

    BOOST_TEST(h.w.call(verb::post, "/api/v1/webhooks", {{"url", "ftp://x"}}).result_int() == 422);
    BOOST_TEST(h.w.call(verb::post, "/api/v1/webhooks",
                        {{"url", "https://crm.example.com"}, {"events", {"card.deleted"}}})
                   .result_int() == 422);
    BOOST_TEST(
        test::json_of(h.w.call(verb::get, "/api/v1/webhooks")).at("webhooks").as_array().size() ==
        1u);
    // campaign.finished only: a campaign's end is announced once.
    auto c = h.w.call(verb::post, "/api/v1/programs/bean/campaigns", {{"message", "Hello"}});
    BOOST_REQUIRE_EQUAL(c.result_int(), 202);
    auto calls = h.receiver.wait_for(1);
    BOOST_REQUIRE_EQUAL(calls.size(), 1u);
    auto body = json::parse(calls[0].body).as_object();
    BOOST_TEST(body.at("type").as_string() == "campaign.finished");
    BOOST_TEST(body.at("data").at("targeted").as_int64() == 2);
    // Deleted: no more calls.
    BOOST_TEST(h.w.call(verb::delete_, "/api/v1/webhooks/" + std::to_string(h.id)).result_int() ==
               204);
    BOOST_TEST(h.w.call(verb::get, "/api/v1/webhooks/" + std::to_string(h.id) + "/deliveries")
                   .result_int() == 404);
}

BOOST_AUTO_TEST_SUITE_END()
