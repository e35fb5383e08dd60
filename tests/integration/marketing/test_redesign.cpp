// Redesign end to end (issue 6): design validation and lint over the API, versions,
// rollouts that re-tag every card and push every device (fake APNs), the pass each device
// then fetches, canary, pause/resume, cancel, roll back, and a rollout resumed after
// kill -9.
#include "marketing_world.hpp"

using namespace cardsmith;
namespace json = boost::json;
using test::verb;
using namespace std::chrono_literals;

namespace {

using test::eventually;
using test::Holder;
using test::read_file;
using test::World;

std::int64_t rollout_id(const test::Response& r) {
    return test::json_of(r).at("rollout").at("id").as_int64();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(redesign)

BOOST_AUTO_TEST_CASE(bad_designs_are_refused_naming_the_field_and_change_nothing) {
    World w(0, 1);
    auto bad = w.call(verb::patch, "/api/v1/programs/bean/design",
                      {{"colors", {{"background", "#12345"}}}});
    BOOST_TEST(bad.result_int() == 422);
    auto err = test::json_of(bad).at("error").as_object();
    BOOST_TEST(err.at("code").as_string() == "validation_failed");
    BOOST_TEST(std::string(err.at("field").as_string()).find("background") != std::string::npos);

    // Lint: the offer field without a change message would make offers arrive silently.
    auto program = test::json_of(w.call(verb::get, "/api/v1/programs/bean")).as_object();
    auto fields = program.at("design").at("fields").as_object();
    for (auto& [group, list] : fields) {
        for (auto& f : list.as_array()) {
            if (f.as_object().at("key").as_string() == "offer") {
                f.as_object().erase("changeMessage");
            }
        }
    }
    auto lint = w.call(verb::patch, "/api/v1/programs/bean/design", {{"fields", fields}});
    BOOST_TEST(lint.result_int() == 422);
    auto lerr = test::json_of(lint).at("error").as_object();
    BOOST_TEST(lerr.at("code").as_string() == "lint_failed");
    BOOST_TEST(!lerr.at("lint").at("errors").as_array().empty());

    auto unknown = w.call(verb::patch, "/api/v1/programs/bean/design", {{"colour", "red"}});
    BOOST_TEST(unknown.result_int() == 422);
    auto not_json = w.client->request(
        verb::patch, "/api/v1/programs/bean/design", "{",
        {{"Authorization", "Bearer " + w.key}, {"Content-Type", "application/json"}});
    BOOST_TEST(not_json.result_int() == 400);

    // Images: unknown name, not a PNG, wrong size, too large.
    const std::string dir = std::string(CARDSMITH_SOURCE_DIR) + "/templates/coffee/";
    auto put = [&](const std::string& name, const std::string& bytes) {
        return w.client->request(
            verb::put, "/api/v1/programs/bean/images/" + name, bytes,
            {{"Authorization", "Bearer " + w.key}, {"Content-Type", "image/png"}});
    };
    BOOST_TEST(put("background", read_file(dir + "icon.png")).result_int() == 404);
    BOOST_TEST(put("logo", "GIF89a not a png").result_int() == 422);
    auto wrong = put("icon", read_file(dir + "strip.png"));
    BOOST_TEST(wrong.result_int() == 422);
    BOOST_TEST(test::json_of(wrong).at("error").at("field").as_string() == "icon");
    // Over the kind's limit: 422 naming it; over server.image_body_limit: 413 unread.
    auto big = put("logo", std::string(1024 * 1024 + 10, 'x'));
    BOOST_TEST(big.result_int() == 422);
    BOOST_TEST(test::json_of(big).at("error").at("field").as_string() == "logo");
    BOOST_TEST(put("logo", std::string(4 * 1024 * 1024 + 10, 'x')).result_int() == 413);

    // A dry run lints a valid change and saves nothing (the version count below).
    auto dry = w.call(verb::patch, "/api/v1/programs/bean/design?dryRun=true",
                      {{"colors", {{"background", "#102030"}}}});
    BOOST_REQUIRE_EQUAL(dry.result_int(), 200);
    BOOST_TEST(test::json_of(dry).at("dryRun").as_bool());
    BOOST_TEST(test::json_of(dry).at("design").at("colors").at("background").as_string() ==
               "#102030");
    BOOST_TEST(test::json_of(dry).at("lint").is_object());

    // Another merchant sees nothing.
    auto m2 = w.client->post_json("/api/v1/merchants", {{"name", "Other"}}, w.server.admin_key());
    const std::string other(test::json_of(m2).at("apiKey").as_string());
    auto foreign = w.client->request(
        verb::patch, "/api/v1/programs/bean/design",
        json::serialize(json::object{{"logoText", "Mine"}}),
        {{"Authorization", "Bearer " + other}, {"Content-Type", "application/json"}});
    BOOST_TEST(foreign.result_int() == 404);
    BOOST_TEST(w.call(verb::get, "/api/v1/programs/bean/designs").result_int() == 200);
    BOOST_TEST(w.client->get("/api/v1/programs/bean/designs", other).result_int() == 404);

    auto versions = test::json_of(w.call(verb::get, "/api/v1/programs/bean/designs"));
    BOOST_TEST(versions.at("versions").as_array().size() == 1u);
    BOOST_TEST(w.pushes_to(w.cards[0].token) == 0u);
}

BOOST_AUTO_TEST_CASE(a_design_change_reaches_every_device_and_rolls_back) {
    World w;
    const std::string before = w.background(w.cards[0]);
    auto r = w.call(verb::patch, "/api/v1/programs/bean/design",
                    {{"colors", {{"background", "#0A5C36"}}}});
    BOOST_REQUIRE_MESSAGE(r.result_int() == 200, r.body() + w.server.log());
    auto body = test::json_of(r).as_object();
    BOOST_TEST(body.at("version").as_int64() == 2);
    BOOST_TEST(body.at("designVersion").as_int64() == 2);
    BOOST_TEST(body.at("lint").at("errors").as_array().empty());
    const auto id = rollout_id(r);
    BOOST_TEST(eventually([&] { return w.state(id) == "done"; }));
    auto done = w.rollout(id);
    BOOST_TEST(done.at("cardsDone").as_int64() == 6);
    BOOST_TEST(done.at("cardsTotal").as_int64() == 6);
    BOOST_TEST(done.at("progress").as_double() == 1.0);
    for (const auto& c : w.cards) {
        BOOST_TEST(eventually([&] { return w.pushes_to(c.token) == 1; }));
        BOOST_TEST(w.background(c) == "rgb(10, 92, 54)");
    }

    // The same change again makes no version and pushes nobody.
    auto same = w.call(verb::patch, "/api/v1/programs/bean/design",
                       {{"colors", {{"background", "#0A5C36"}}}});
    BOOST_TEST(test::json_of(same).at("unchanged").as_bool());

    // Versions, a preview of the first, and a roll back to it.
    auto versions = test::json_of(w.call(verb::get, "/api/v1/programs/bean/designs"));
    BOOST_TEST(versions.at("versions").as_array().size() == 2u);
    auto preview = test::json_of(w.call(verb::get, "/api/v1/programs/bean/designs/1/preview"));
    BOOST_TEST(preview.at("colors").at("background").as_string() != "#0A5C36");
    BOOST_TEST(!preview.at("fields").at("primary").as_array().empty());
    auto back = w.call(verb::post, "/api/v1/programs/bean/designs/1/publish");
    BOOST_REQUIRE_MESSAGE(back.result_int() == 200, back.body());
    const auto back_id = rollout_id(back);
    BOOST_TEST(eventually([&] { return w.state(back_id) == "done"; }));
    for (const auto& c : w.cards) {
        BOOST_TEST(eventually([&] { return w.pushes_to(c.token) == 2; }));
        BOOST_TEST(w.background(c) == before);
    }
    BOOST_TEST(w.call(verb::post, "/api/v1/programs/bean/designs/9/publish").result_int() == 404);

    // A new image is a new version, pushed the same way.
    const std::string png =
        read_file(std::string(CARDSMITH_SOURCE_DIR) + "/templates/beauty/logo@2x.png");
    auto img =
        w.client->request(verb::put, "/api/v1/programs/bean/images/logo@2x", png,
                          {{"Authorization", "Bearer " + w.key}, {"Content-Type", "image/png"}});
    BOOST_REQUIRE_MESSAGE(img.result_int() == 200, img.body());
    BOOST_TEST(eventually([&] { return w.state(rollout_id(img)) == "done"; }));
    // The second canary's push and the revert's may coalesce into one (the device fetches
    // the newest pass either way).
    BOOST_TEST(eventually([&] { return w.pushes_to(w.cards[0].token) >= 2; }));
    auto fetched = w.client->request(
        verb::get, "/apple/v1/passes/" + w.cards[0].type + "/" + w.cards[0].serial, "",
        {{"Authorization", w.cards[0].auth}});
    BOOST_TEST(test::unzip(fetched.body())["logo@2x.png"] == png);
}

BOOST_AUTO_TEST_CASE(canary_stops_for_confirmation_and_cancel_brings_cards_back) {
    World w(0, 10);
    const std::string before = w.background(w.cards[9]);
    auto r = w.call(verb::patch, "/api/v1/programs/bean/design?canary=30",
                    {{"colors", {{"background", "#112233"}}}});
    BOOST_REQUIRE_MESSAGE(r.result_int() == 200, r.body());
    const auto id = rollout_id(r);
    BOOST_TEST(eventually([&] { return w.state(id) == "canary"; }));
    auto canary = w.rollout(id);
    BOOST_TEST(canary.at("canaryDevices").as_int64() == 3);
    BOOST_TEST(canary.at("pushesQueued").as_int64() == 3);
    // The canary's cards have the new design, the rest the old one.
    BOOST_TEST(w.background(w.cards[0]) == "rgb(17, 34, 51)");
    BOOST_TEST(w.background(w.cards[9]) == before);
    BOOST_TEST(eventually([&] { return w.pushes_to(w.cards[2].token) == 1; }));
    BOOST_TEST(w.pushes_to(w.cards[9].token) == 0u);

    // Pause and resume keep it waiting; confirm lets it finish.
    BOOST_TEST(
        w.call(verb::post, "/api/v1/rollouts/" + std::to_string(id) + "/pause").result_int() ==
        200);
    BOOST_TEST(w.state(id) == "paused");
    BOOST_TEST(
        w.call(verb::post, "/api/v1/rollouts/" + std::to_string(id) + "/pause").result_int() ==
        409);
    BOOST_TEST(
        w.call(verb::post, "/api/v1/rollouts/" + std::to_string(id) + "/resume").result_int() ==
        200);
    BOOST_TEST(eventually([&] { return w.state(id) == "canary"; }));
    BOOST_TEST(
        w.call(verb::post, "/api/v1/rollouts/" + std::to_string(id) + "/confirm").result_int() ==
        200);
    BOOST_TEST(eventually([&] { return w.state(id) == "done"; }));
    BOOST_TEST(w.background(w.cards[9]) == "rgb(17, 34, 51)");
    BOOST_TEST(eventually([&] { return w.pushes_to(w.cards[9].token) == 1; }));

    // Another canary, cancelled: its cards go back to the design before.
    auto r2 = w.call(verb::patch, "/api/v1/programs/bean/design?canary=20",
                     {{"colors", {{"background", "#445566"}}}});
    const auto id2 = rollout_id(r2);
    BOOST_TEST(eventually([&] { return w.state(id2) == "canary"; }));
    BOOST_TEST(w.background(w.cards[0]) == "rgb(68, 85, 102)");
    auto cancel = w.call(verb::post, "/api/v1/rollouts/" + std::to_string(id2) + "/cancel");
    BOOST_REQUIRE_EQUAL(cancel.result_int(), 200);
    auto cancelled = test::json_of(cancel).as_object();
    BOOST_TEST(cancelled.at("state").as_string() == "cancelled");
    const auto revert = cancelled.at("revert").at("id").as_int64();
    BOOST_TEST(cancelled.at("revert").at("reverts").as_int64() == id2);
    BOOST_TEST(eventually([&] { return w.state(revert) == "done"; }));
    BOOST_TEST(w.rollout(revert).at("cardsDone").as_int64() == 2);
    BOOST_TEST(w.background(w.cards[0]) == "rgb(17, 34, 51)");
    BOOST_TEST(
        test::json_of(w.call(verb::get, "/api/v1/programs/bean")).at("designVersion").as_int64() ==
        2);
    // The second canary's push and the revert's may coalesce into one (the device fetches
    // the newest pass either way).
    BOOST_TEST(eventually([&] { return w.pushes_to(w.cards[0].token) >= 2; }));
    BOOST_TEST(w.pushes_to(w.cards[9].token) == 1u);
    auto list = test::json_of(w.call(verb::get, "/api/v1/programs/bean/rollouts"));
    BOOST_TEST(list.at("rollouts").as_array().size() == 3u);
}

BOOST_AUTO_TEST_CASE(a_rollout_shows_progress_pauses_and_resumes_after_kill_9) {
    World w(4, 12);  // 4 cards a second: 3 s for the 12 cards
    auto r = w.call(verb::patch, "/api/v1/programs/bean/design",
                    {{"colors", {{"background", "#778899"}}}});
    BOOST_REQUIRE_EQUAL(r.result_int(), 200);
    const auto id = rollout_id(r);
    BOOST_TEST(eventually([&] {
        auto p = w.rollout(id);
        return p.at("cardsDone").as_int64() >= 2 && p.at("state").as_string() == "running";
    }));
    auto running = w.rollout(id);
    BOOST_TEST(running.at("cardsTotal").as_int64() == 12);
    BOOST_TEST(running.at("progress").as_double() < 1.0);
    BOOST_TEST(running.at("ratePerSecond").as_int64() > 0);
    BOOST_TEST(running.at("etaSeconds").is_int64());
    BOOST_TEST(
        w.call(verb::post, "/api/v1/rollouts/" + std::to_string(id) + "/pause").result_int() ==
        200);
    const auto paused_at = w.rollout(id).at("cardsDone").as_int64();
    std::this_thread::sleep_for(700ms);
    BOOST_TEST(w.rollout(id).at("cardsDone").as_int64() == paused_at);
    BOOST_TEST(
        w.call(verb::post, "/api/v1/rollouts/" + std::to_string(id) + "/resume").result_int() ==
        200);
    BOOST_TEST(eventually([&] { return w.rollout(id).at("cardsDone").as_int64() > paused_at; }));

    // kill -9 mid-way: the next start carries on from the last chunk.
    w.server.kill_hard();
    const auto db = w.server.storage_url();
    const auto cursor = std::stoll(
        test::query_text(db, "SELECT cursor FROM rollouts WHERE id = " + std::to_string(id)));
    BOOST_TEST(cursor > 0);
    w.server.start();
    w.reconnect();
    BOOST_TEST(eventually([&] { return w.state(id) == "done"; }, 20s));
    BOOST_TEST(w.rollout(id).at("cardsDone").as_int64() == 12);
    for (const auto& c : w.cards) {
        BOOST_TEST(eventually([&] { return w.pushes_to(c.token) >= 1; }));
        BOOST_TEST(w.background(c) == "rgb(119, 136, 153)");
    }
}

BOOST_AUTO_TEST_SUITE_END()
