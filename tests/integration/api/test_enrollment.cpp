// Enrollment against the real server (issue 4): verification by one-time code with the
// log provider (the code read from the server's log) and the webhook provider (a local
// gateway that checks the HMAC), send limits, attempts, expiry and resend, restore of a
// verified contact's card, referral bonuses once per person, the birthday job, stats.

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <optional>
#include <regex>
#include <thread>

#include "http_client.hpp"
#include "join_forms.hpp"
#include "server_process.hpp"
#include "test_util.hpp"
#include "webhook_receiver.hpp"

using namespace cardsmith;
namespace json = boost::json;
using test::bhttp::verb;

namespace {

using test::exec_sql;

constexpr const char* kWebhookSecret = "whsec-test-0123456789abcdef";

// A merchant with the program "bean" and a browser-like session on its join form.
struct Shop {
    test::ServerProcess server;
    std::optional<test::Client> client_;
    std::string key;

    explicit Shop(const std::string& extra_toml = "") : server(extra_toml) {
        client_.emplace(server.port());
        auto m = client().post_json("/api/v1/merchants", {{"name", "Bean"}}, server.admin_key());
        key = std::string(test::json_of(m).at("apiKey").as_string());
        BOOST_REQUIRE_EQUAL(
            client()
                .post_json("/api/v1/programs",
                           {{"slug", "bean"}, {"name", "Bean There"}, {"template", "coffee"}}, key)
                .result_int(),
            201);
    }

    test::Client& client() { return *client_; }
    // After a restart the server listens on a new port.
    void restart() {
        BOOST_REQUIRE_EQUAL(server.stop(), 0);
        server.start();
        client_.reset();
        client_.emplace(server.port());
    }

    test::Response put_enrollment(const std::string& body) {
        return client().request(
            verb::put, "/api/v1/programs/bean/enrollment", body,
            {{"Authorization", "Bearer " + key}, {"Content-Type", "application/json"}});
    }
    void enroll_settings(const std::string& body) {
        auto r = put_enrollment(body);
        BOOST_REQUIRE_MESSAGE(r.result_int() == 200, r.body());
    }
    json::object card(const std::string& number) {
        auto r = client().get("/api/v1/cards/" + number, key);
        BOOST_REQUIRE_EQUAL(r.result_int(), 200);
        return test::json_of(r).as_object();
    }
    json::object card_by_location(const std::string& location) {
        auto page = client().get(location);
        BOOST_REQUIRE_EQUAL(page.result_int(), 200);
        std::smatch d;
        BOOST_REQUIRE(
            std::regex_search(page.body(), d, std::regex("(\\d{4}) (\\d{4}) (\\d{4}) (\\d{4})")));
        return card(d[1].str() + d[2].str() + d[3].str() + d[4].str());
    }
    json::object stats() {
        auto r = client().get("/api/v1/programs/bean/stats", key);
        BOOST_REQUIRE_EQUAL(r.result_int(), 200);
        return test::json_of(r).as_object();
    }
    // The newest code the log provider wrote.
    std::string last_logged_code() {
        const std::string log = server.log();
        std::string code;
        std::regex re("verification code \\(log provider\\).* code=\"?(\\d{6})");
        for (auto it = std::sregex_iterator(log.begin(), log.end(), re);
             it != std::sregex_iterator(); ++it) {
            code = (*it)[1].str();
        }
        BOOST_REQUIRE_MESSAGE(!code.empty(), "no code in the server log");
        return code;
    }
};

// One visitor's browser: its own connection and cookie.
struct Visitor {
    test::Client client;
    test::JoinForm form;
    Visitor(Shop& shop, const std::string& target = "/join/bean")
        : client(shop.server.port()), form(test::open_form(client, target)) {}

    test::Response post(const std::string& path, std::map<std::string, std::string> fields) {
        fields["csrf"] = form.csrf;
        return client.request(
            verb::post, path, test::form_encode(fields),
            {{"Content-Type", "application/x-www-form-urlencoded"}, {"Cookie", form.cookie}});
    }
    test::Response join(const std::map<std::string, std::string>& fields) {
        auto all = fields;
        all["consent"] = "on";
        return post("/join/bean", all);
    }
    test::Response code(const std::string& pending, const std::string& code) {
        return post("/join/bean/verify", {{"pending", pending}, {"code", code}});
    }
    test::Response resend(const std::string& pending) {
        return post("/join/bean/verify", {{"pending", pending}, {"resend", "1"}});
    }
};

std::string pending_of(const test::Response& page) {
    std::smatch m;
    BOOST_REQUIRE_MESSAGE(
        std::regex_search(page.body(), m, std::regex("name=\"pending\" value=\"([^\"]+)\"")),
        "no code step in: " + page.body().substr(0, 400));
    return m[1].str();
}

std::string location_of(const test::Response& r) {
    BOOST_REQUIRE_MESSAGE(r.result_int() == 303, r.result_int() << " " << r.body().substr(0, 600));
    return std::string(r[test::bhttp::field::location]);
}

std::string serial_of(const std::string& location) {
    return location.substr(3, location.find('?') - 3);
}

std::string today_mm_dd(int days_from_now) {
    const auto day = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()) +
                     std::chrono::days(days_from_now);
    const std::chrono::year_month_day ymd{day};
    char buf[8];
    std::snprintf(buf, sizeof buf, "%02u-%02u", static_cast<unsigned>(ymd.month()),
                  static_cast<unsigned>(ymd.day()));
    return buf;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(enrollment)

BOOST_AUTO_TEST_CASE(log_provider_code_issues_the_card_and_restores_it_on_a_new_phone) {
    Shop s;
    // Phone verification needs the phone field required.
    BOOST_TEST(s.put_enrollment(R"({"verification":{"channel":"phone"}})").result_int() == 422);
    s.enroll_settings(
        R"({"fields":{"phone":"required"},"verification":{"channel":"phone","provider":"log"}})");

    Visitor anna(s);
    auto step = anna.join({{"name", "Anna"}, {"phone", "+49 151 2345 6789"}});
    BOOST_REQUIRE_EQUAL(step.result_int(), 200);
    BOOST_TEST(step.body().find("+49151…89") != std::string::npos);       // masked
    BOOST_TEST(step.body().find("+4915123456789") == std::string::npos);  // never in full
    BOOST_TEST(step.body().find("autocomplete=\"one-time-code\"") != std::string::npos);
    const std::string pending = pending_of(step);
    BOOST_TEST(s.stats().at("cardsIssued").as_int64() == 0);  // nothing until the code

    const std::string code = s.last_logged_code();
    const std::string wrong = code == "000000" ? "111111" : "000000";
    auto bad = anna.code(pending, wrong);
    BOOST_TEST(bad.result_int() == 422);
    BOOST_TEST(bad.body().find("That code is not right") != std::string::npos);
    BOOST_TEST(anna.code(pending, "12ab").result_int() == 422);  // format
    // Another program's form, or a forged pending id: the form starts again.
    BOOST_TEST(anna.code("nosuchpendingid", code).result_int() == 410);

    const std::string location = location_of(anna.code(pending, code));
    BOOST_TEST(location.find("welcome") == std::string::npos);
    auto card = s.card_by_location(location);
    BOOST_TEST(card.at("verified").as_bool());
    BOOST_TEST(card.at("source").as_string() == "join");
    BOOST_TEST(card.at("holder").at("phone").as_string() == "+4915123456789");
    // A code works once.
    BOOST_TEST(anna.code(pending, code).result_int() == 410);

    // The till adds points; then Anna loses her phone and joins again on a new one.
    const std::string number(card.at("cardNumber").as_string());
    BOOST_REQUIRE_EQUAL(
        s.client()
            .post_json("/api/v1/cards/" + number + "/transactions", {{"points", 120}}, s.key)
            .result_int(),
        201);
    Visitor new_phone(s);
    auto again = new_phone.join({{"name", "Anna B."}, {"phone", "+4915123456789"}});
    BOOST_REQUIRE_EQUAL(again.result_int(), 200);
    const std::string restored =
        location_of(new_phone.code(pending_of(again), s.last_logged_code()));
    BOOST_TEST(serial_of(restored) == serial_of(location));
    BOOST_TEST(restored.find("?welcome=back") != std::string::npos);
    auto page = new_phone.client.get(restored);
    BOOST_TEST(page.body().find("Welcome back") != std::string::npos);
    auto same = s.card(number);
    BOOST_TEST(same.at("balance").as_int64() == 120);
    BOOST_TEST(same.at("holder").at("name").as_string() == "Anna");  // not overwritten
    auto stats = s.stats();
    BOOST_TEST(stats.at("cardsIssued").as_int64() == 1);
    BOOST_TEST(stats.at("verifiedCards").as_int64() == 1);
    BOOST_TEST(s.client().get("/metrics").body().find("cardsmith_card_restores_total 1") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(webhook_provider_posts_a_signed_code_to_the_gateway) {
    Shop s;
    test::WebhookReceiver gateway(kWebhookSecret);
    const std::string url = gateway.url("/send-code");
    // Settings errors: plain http to another host, a short secret, no secret.
    BOOST_TEST(s.put_enrollment(R"({"fields":{"email":"required"},"verification":{"channel":"email",
        "provider":"webhook","webhookUrl":"http://gateway.example/x","webhookSecret":")" +
                                std::string(kWebhookSecret) + R"("}})")
                   .result_int() == 422);
    BOOST_TEST(s.put_enrollment(R"({"fields":{"email":"required"},"verification":{"channel":"email",
        "provider":"webhook","webhookUrl":")" +
                                url + R"(","webhookSecret":"short"}})")
                   .result_int() == 422);
    BOOST_TEST(s.put_enrollment(R"({"fields":{"email":"required"},"verification":{"channel":"email",
        "provider":"webhook","webhookUrl":")" +
                                url + R"("}})")
                   .result_int() == 422);
    auto set = s.put_enrollment(R"({"fields":{"email":"required"},"verification":{"channel":"email",
        "provider":"webhook","webhookUrl":")" +
                                url + R"(","webhookSecret":")" + kWebhookSecret + R"("}})");
    BOOST_REQUIRE_MESSAGE(set.result_int() == 200, set.body());
    // The secret is write-only: neither the answer nor the program shows it.
    BOOST_TEST(set.body().find(kWebhookSecret) == std::string::npos);
    auto program = s.client().get("/api/v1/programs/bean", s.key);
    BOOST_TEST(program.body().find(kWebhookSecret) == std::string::npos);
    BOOST_TEST(test::json_of(program)
                   .at("enrollment")
                   .at("verification")
                   .at("webhookSecretSet")
                   .as_bool());
    // Changing other settings keeps the secret.
    s.enroll_settings(R"({"fields":{"email":"required","name":"optional"},"verification":{
        "channel":"email","provider":"webhook","webhookUrl":")" +
                      url + R"("}})");

    Visitor zoe(s, "/join/bean?src=email");
    auto step = zoe.join({{"email", "Zoe@Example.com"}, {"src", "email"}});
    BOOST_REQUIRE_EQUAL(step.result_int(), 200);
    auto calls = gateway.wait_for(1);
    BOOST_REQUIRE_EQUAL(calls.size(), 1u);
    const auto& call = calls[0];
    BOOST_TEST(call.method == "POST");
    BOOST_TEST(call.target == "/send-code");
    BOOST_TEST(call.signature_ok);
    BOOST_TEST(call.headers.at("content-type") == "application/json");
    BOOST_TEST(call.headers.at("cardsmith-event") == "verification.code");
    auto body = json::parse(call.body).as_object();
    BOOST_TEST(body.at("type").as_string() == "verification.code");
    BOOST_TEST(body.at("channel").as_string() == "email");
    BOOST_TEST(body.at("to").as_string() == "Zoe@example.com");
    BOOST_TEST(body.at("program").as_string() == "bean");
    const std::string code(body.at("code").as_string());
    BOOST_TEST(std::string(body.at("text").as_string()).find(code) != std::string::npos);
    // Not with the webhook provider: the code is only in the gateway's hands.
    BOOST_TEST(s.server.log().find(code) == std::string::npos);
    BOOST_TEST(s.server.log().find(kWebhookSecret) == std::string::npos);

    auto card = s.card_by_location(location_of(zoe.code(pending_of(step), code)));
    BOOST_TEST(card.at("source").as_string() == "email");
    BOOST_TEST(card.at("verified").as_bool());

    // The gateway fails: the form again with the typed values and a clear message.
    gateway.set_status(500);
    Visitor max(s);
    auto failed = max.join({{"email", "max@example.com"}, {"name", "Max"}});
    BOOST_TEST(failed.result_int() == 503);
    BOOST_TEST(failed.body().find("could not send the code") != std::string::npos);
    BOOST_TEST(failed.body().find("max@example.com") != std::string::npos);
    BOOST_TEST(gateway.calls().size() == 2u);
}

BOOST_AUTO_TEST_CASE(send_limits_per_destination_and_per_address) {
    Shop s("[enrollment]\ncodes_per_destination = 3\ncodes_per_ip = 5\n");
    s.enroll_settings(R"({"fields":{"phone":"required"},"verification":{"channel":"phone"}})");
    Visitor v(s);
    std::string last_pending;
    for (int i = 0; i < 3; ++i) {
        auto r = v.join({{"name", "Anna"}, {"phone", "+4915100000001"}});
        BOOST_REQUIRE_EQUAL(r.result_int(), 200);
        last_pending = pending_of(r);
    }
    auto limited = v.join({{"name", "Anna"}, {"phone", "+4915100000001"}});
    BOOST_TEST(limited.result_int() == 429);
    BOOST_TEST(!std::string(limited[test::bhttp::field::retry_after]).empty());
    BOOST_TEST(limited.body().find("Too many codes") != std::string::npos);
    // A resend counts too; the refused resend leaves the last code usable.
    BOOST_TEST(v.resend(last_pending).result_int() == 429);
    // Other numbers from the same address: two more, then the address's limit.
    BOOST_TEST(v.join({{"name", "B"}, {"phone", "+4915100000002"}}).result_int() == 200);
    BOOST_TEST(v.join({{"name", "C"}, {"phone", "+4915100000003"}}).result_int() == 200);
    BOOST_TEST(v.join({{"name", "D"}, {"phone", "+4915100000004"}}).result_int() == 429);
    // Codes sent: 5 (the limited attempts sent nothing).
    const std::string log = s.server.log();
    std::size_t sent = 0;
    for (auto pos = log.find("verification code (log provider)"); pos != std::string::npos;
         pos = log.find("verification code (log provider)", pos + 1)) {
        ++sent;
    }
    BOOST_TEST(sent == 5u);
}

BOOST_AUTO_TEST_CASE(attempts_expiry_and_resend) {
    Shop s;
    s.enroll_settings(R"({"fields":{"phone":"required"},"verification":{"channel":"phone"}})");
    Visitor v(s);

    // Five wrong codes end the code: even the right one is refused afterwards.
    auto step = v.join({{"name", "Anna"}, {"phone", "+4915100000011"}});
    const std::string pending = pending_of(step);
    const std::string code = s.last_logged_code();
    const std::string wrong = code == "000000" ? "111111" : "000000";
    for (int i = 0; i < 4; ++i) {
        BOOST_TEST(v.code(pending, wrong).result_int() == 422);
    }
    auto fifth = v.code(pending, wrong);
    BOOST_TEST(fifth.result_int() == 429);
    BOOST_TEST(fifth.body().find("Too many attempts") != std::string::npos);
    BOOST_TEST(v.code(pending, code).result_int() == 429);
    BOOST_TEST(s.stats().at("cardsIssued").as_int64() == 0);

    // Expiry: the stored deadline passes (moved back in the database, not waited for).
    auto step2 = v.join({{"name", "Anna"}, {"phone", "+4915100000011"}});
    const std::string pending2 = pending_of(step2);
    const std::string code2 = s.last_logged_code();
    exec_sql(s.server.storage_url(),
             "UPDATE verifications SET expires_at = 0 WHERE id = '" + pending2 + "'");
    auto expired = v.code(pending2, code2);
    BOOST_TEST(expired.result_int() == 410);
    BOOST_TEST(expired.body().find("expired") != std::string::npos);

    // Resend: a new code and a new step; the old code is over, the new one works.
    auto resent = v.resend(pending2);
    BOOST_REQUIRE_EQUAL(resent.result_int(), 200);
    BOOST_TEST(resent.body().find("We sent a new code") != std::string::npos);
    const std::string pending3 = pending_of(resent);
    BOOST_TEST(pending3 != pending2);
    const std::string code3 = s.last_logged_code();
    BOOST_TEST(v.code(pending2, code3).result_int() == 410);
    BOOST_TEST(v.resend(pending2).result_int() == 410);
    auto card = s.card_by_location(location_of(v.code(pending3, code3)));
    BOOST_TEST(card.at("holder").at("phone").as_string() == "+4915100000011");
    // CSRF holds on the code step as on the form.
    Visitor other(s);
    auto forged = s.client().request(
        verb::post, "/join/bean/verify",
        test::form_encode({{"pending", pending3}, {"code", code3}, {"csrf", other.form.csrf}}),
        {{"Content-Type", "application/x-www-form-urlencoded"}, {"Cookie", v.form.cookie}});
    BOOST_TEST(forged.result_int() == 403);
}

BOOST_AUTO_TEST_CASE(unverified_contact_on_file_gets_no_second_card) {
    Shop s;
    s.enroll_settings(R"({"fields":{"phone":"optional","email":"optional"}})");
    Visitor v(s);
    location_of(
        v.join({{"name", "Anna"}, {"phone", "+4915100000021"}, {"email", "a@example.com"}}));
    const auto before = s.stats().at("cardsIssued").as_int64();
    auto dup_phone = v.join({{"name", "Eve"}, {"phone", "+49 151 00000021"}});
    BOOST_TEST(dup_phone.result_int() == 409);
    BOOST_TEST(dup_phone.body().find("already has a card") != std::string::npos);
    BOOST_TEST(v.join({{"name", "Eve"}, {"email", "a@EXAMPLE.com"}}).result_int() == 409);
    BOOST_TEST(s.stats().at("cardsIssued").as_int64() == before);
}

BOOST_AUTO_TEST_CASE(referral_credits_both_cards_once_per_new_person) {
    Shop s;
    s.enroll_settings(
        R"({"fields":{"phone":"required"},"referral":{"referrerBonus":50,"friendBonus":25}})");
    Visitor anna(s);
    auto anna_card =
        s.card_by_location(location_of(anna.join({{"name", "Anna"}, {"phone", "+4915100000031"}})));
    const std::string anna_number(anna_card.at("cardNumber").as_string());
    BOOST_TEST(anna_card.at("balance").as_int64() == 0);
    // The card page invites with the card's own code.
    const std::string invite(anna_card.at("links").at("invite").as_string());
    const std::string code = invite.substr(invite.find("?ref=") + 5);
    auto page =
        s.client().get(std::string("/c/") + std::string(anna_card.at("serial").as_string()));
    BOOST_TEST(page.body().find("/join/bean?ref=" + code) != std::string::npos);
    BOOST_TEST(page.body().find("Invite a friend") != std::string::npos);

    // A friend joins through the link: both cards credited through the ledger.
    Visitor ben(s, "/join/bean?ref=" + code);
    auto ben_card = s.card_by_location(
        location_of(ben.join({{"name", "Ben"}, {"phone", "+4915100000032"}, {"ref", code}})));
    BOOST_TEST(ben_card.at("balance").as_int64() == 25);
    BOOST_TEST(s.card(anna_number).at("balance").as_int64() == 50);
    auto history = s.client().get("/api/v1/cards/" + anna_number + "/transactions", s.key);
    BOOST_TEST(history.body().find("Referral bonus") != std::string::npos);

    // The same person again (another browser): no second card, no second bonus.
    Visitor ben_again(s, "/join/bean?ref=" + code);
    BOOST_TEST(ben_again.join({{"name", "Ben"}, {"phone", "+4915100000032"}, {"ref", code}})
                   .result_int() == 409);
    // Anna through her own link: she is on file already.
    BOOST_TEST(
        anna.join({{"name", "Anna"}, {"phone", "+4915100000031"}, {"ref", code}}).result_int() ==
        409);
    BOOST_TEST(s.card(anna_number).at("balance").as_int64() == 50);
    // Another new person: Anna earns again. An unknown code: a card, no bonus.
    Visitor cleo(s);
    location_of(cleo.join({{"name", "Cleo"}, {"phone", "+4915100000033"}, {"ref", code}}));
    auto dan = s.card_by_location(
        location_of(cleo.join({{"name", "Dan"}, {"phone", "+4915100000034"}, {"ref", "nosuch"}})));
    BOOST_TEST(dan.at("balance").as_int64() == 0);
    BOOST_TEST(s.card(anna_number).at("balance").as_int64() == 100);
    BOOST_TEST(s.stats().at("referrals").as_int64() == 2);

    // Referrals off: no invite link, no bonus.
    s.enroll_settings(R"({"fields":{"phone":"required"}})");
    BOOST_TEST(s.card(anna_number).at("links").at("invite").is_null());
    location_of(cleo.join({{"name", "Eve"}, {"phone", "+4915100000035"}, {"ref", code}}));
    BOOST_TEST(s.card(anna_number).at("balance").as_int64() == 100);
}

BOOST_AUTO_TEST_CASE(verified_referral_counts_once_even_through_a_restore) {
    Shop s;
    s.enroll_settings(R"({"fields":{"phone":"required"},"verification":{"channel":"phone"},
                          "referral":{"referrerBonus":10,"friendBonus":5}})");
    auto anna = test::json_of(
        s.client().post_json("/api/v1/programs/bean/cards",
                             {{"holder", {{"name", "Anna"}, {"phone", "+4915100000041"}}}}, s.key));
    const std::string code(anna.at("referralCode").as_string());
    const std::string anna_number(anna.at("cardNumber").as_string());
    for (int round = 0; round < 2; ++round) {
        Visitor ben(s, "/join/bean?ref=" + code);
        auto step = ben.join({{"name", "Ben"}, {"phone", "+4915100000042"}, {"ref", code}});
        const auto loc = location_of(ben.code(pending_of(step), s.last_logged_code()));
        BOOST_TEST((loc.find("welcome=back") != std::string::npos) == (round == 1));
        BOOST_TEST(s.card_by_location(loc).at("balance").as_int64() == 5);
    }
    BOOST_TEST(s.card(anna_number).at("balance").as_int64() == 10);
}

BOOST_AUTO_TEST_CASE(birthday_job_credits_once_a_year_and_sets_the_offer) {
    Shop s;
    s.enroll_settings(R"({"fields":{"birthday":"optional"},
        "birthday":{"bonus":100,"offer":"Happy birthday! A free cake is waiting."}})");
    Visitor v(s);
    auto today = s.card_by_location(
        location_of(v.join({{"name", "Anna"}, {"birthday", "1996-" + today_mm_dd(0)}})));
    auto later = s.card_by_location(
        location_of(v.join({{"name", "Ben"}, {"birthday", "1996-" + today_mm_dd(5)}})));
    const std::string a(today.at("cardNumber").as_string());
    const std::string b(later.at("cardNumber").as_string());
    BOOST_TEST(s.card(a).at("balance").as_int64() == 0);
    // The job runs at start and then hourly: a restart runs it now. Each run logs a line.
    const auto job_runs = [&] {
        const std::string log = s.server.log();
        std::size_t n = 0;
        for (auto at = log.find("birthday job"); at != std::string::npos;
             at = log.find("birthday job", at + 1)) {
            ++n;
        }
        return n;
    };
    for (std::size_t run = 0; run < 2; ++run) {
        const std::size_t before = job_runs();
        s.restart();
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (job_runs() == before && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        BOOST_REQUIRE_MESSAGE(job_runs() > before, "the birthday job did not run at start");
        auto card = s.card(a);
        BOOST_TEST(card.at("balance").as_int64() == 100);  // once, not twice
        BOOST_TEST(card.at("offer") == json::value("Happy birthday! A free cake is waiting."));
        BOOST_TEST(s.card(b).at("balance").as_int64() == 0);
        BOOST_TEST(s.card(b).at("offer").is_null());
    }
    auto history = s.client().get("/api/v1/cards/" + a + "/transactions", s.key);
    BOOST_TEST(history.body().find("Birthday bonus") != std::string::npos);
    // Without the birthday field there is no birthday bonus.
    BOOST_TEST(s.put_enrollment(R"({"birthday":{"bonus":100}})").result_int() == 422);
}

BOOST_AUTO_TEST_CASE(stats_count_cards_by_channel) {
    Shop s;
    s.enroll_settings(R"({"fields":{"name":"optional","phone":"off","email":"off"}})");
    for (const char* src : {"poster", "poster", "till"}) {
        Visitor v(s, std::string("/join/bean?src=") + src);
        location_of(v.join({{"src", src}}));
    }
    Visitor direct(s);
    location_of(direct.join({}));
    BOOST_REQUIRE_EQUAL(
        s.client()
            .post_json("/api/v1/programs/bean/cards", {{"holder", {{"name", "Till"}}}}, s.key)
            .result_int(),
        201);
    auto stats = s.stats();
    BOOST_TEST(stats.at("cardsIssued").as_int64() == 5);
    const auto& by = stats.at("cardsBySource").as_object();
    BOOST_TEST(by.at("poster").as_int64() == 2);
    BOOST_TEST(by.at("till").as_int64() == 1);
    BOOST_TEST(by.at("join").as_int64() == 1);
    BOOST_TEST(by.at("api").as_int64() == 1);
    // Another merchant cannot read them.
    auto other =
        s.client().post_json("/api/v1/merchants", {{"name", "Other"}}, s.server.admin_key());
    const std::string other_key(test::json_of(other).at("apiKey").as_string());
    BOOST_TEST(s.client().get("/api/v1/programs/bean/stats", other_key).result_int() == 404);
    BOOST_TEST(s.client().get("/api/v1/programs/bean/stats").result_int() == 401);
}

BOOST_AUTO_TEST_SUITE_END()
