// The /join form settings: JSON round trip, every refusal, birthdays.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "domain/enrollment.hpp"

using namespace cardsmith::domain;
namespace json = boost::json;

BOOST_AUTO_TEST_SUITE(enrollment)

BOOST_AUTO_TEST_CASE(defaults_round_trip_and_settings_parse) {
    std::vector<Problem> problems;
    auto defaults = enrollment_from_json(json::object{}, problems);
    BOOST_TEST(problems.empty());
    BOOST_TEST((defaults.name == FieldMode::required));
    BOOST_TEST((defaults.birthday == FieldMode::off));
    auto s = enrollment_from_json(
        json::parse(R"({"fields":{"phone":"required","email":"off","birthday":"optional"},
                        "termsUrl":"https://shop.example/terms","language":"ru"})"),
        problems);
    BOOST_TEST(problems.empty());
    BOOST_TEST((s.phone == FieldMode::required));
    BOOST_TEST((s.email == FieldMode::off));
    BOOST_TEST((s.birthday == FieldMode::optional));
    BOOST_TEST(s.terms_url == "https://shop.example/terms");
    BOOST_TEST(s.language == "ru");
    auto again = enrollment_from_json(enrollment_to_json(s), problems);
    BOOST_TEST(problems.empty());
    BOOST_TEST(json::serialize(enrollment_to_json(again)) ==
               json::serialize(enrollment_to_json(s)));
}

BOOST_AUTO_TEST_CASE(bad_settings_name_the_field) {
    const std::pair<const char*, const char*> cases[] = {
        {R"({"fields":{"phone":"maybe"}})", "fields.phone"},
        {R"({"fields":{"shoe":"off"}})", "fields.shoe"},
        {R"({"fields":[]})", "fields"},
        {R"x({"termsUrl":"javascript:alert(1)"})x", "termsUrl"},
        {R"({"termsUrl":"https://a b"})", "termsUrl"},
        {R"({"language":"de"})", "language"},
        {R"({"colour":"red"})", "colour"},
    };
    for (const auto& [text, field] : cases) {
        std::vector<Problem> problems;
        (void)enrollment_from_json(json::parse(text), problems);
        BOOST_REQUIRE_MESSAGE(!problems.empty(), text);
        BOOST_TEST(problems[0].field == field, text);
    }
    std::vector<Problem> problems;
    (void)enrollment_from_json(json::value(3), problems);
    BOOST_TEST(!problems.empty());
}

BOOST_AUTO_TEST_CASE(birthdays) {
    BOOST_TEST(is_valid_birthday("1990-02-28", 2026));
    BOOST_TEST(is_valid_birthday("2000-02-29", 2026));   // leap year
    BOOST_TEST(!is_valid_birthday("1900-02-29", 2026));  // not a leap year
    BOOST_TEST(!is_valid_birthday("1990-13-01", 2026));
    BOOST_TEST(!is_valid_birthday("1990-04-31", 2026));
    BOOST_TEST(!is_valid_birthday("2030-01-01", 2026));
    BOOST_TEST(!is_valid_birthday("1899-12-31", 2026));
    BOOST_TEST(!is_valid_birthday("90-01-01", 2026));
    BOOST_TEST(!is_valid_birthday("1990/01/01", 2026));
    BOOST_TEST(!is_valid_birthday("", 2026));
}

BOOST_AUTO_TEST_CASE(defaults_of_the_new_settings) {
    const auto out = enrollment_to_json(EnrollmentSettings{});
    const auto& v = out.at("verification").as_object();
    BOOST_TEST(v.at("channel").as_string() == "off");
    BOOST_TEST(v.at("provider").as_string() == "log");
    BOOST_TEST(v.at("webhookUrl").is_null());
    BOOST_TEST(v.at("codeTtlSeconds").as_int64() == 600);
    BOOST_TEST(v.at("webhookSecretSet").as_bool() == false);
    BOOST_TEST(out.at("referral").at("referrerBonus").as_int64() == 0);
    BOOST_TEST(out.at("referral").at("friendBonus").as_int64() == 0);
    BOOST_TEST(out.at("birthday").at("bonus").as_int64() == 0);
    BOOST_TEST(out.at("birthday").at("offer").is_null());
    EnrollmentSettings s;
    BOOST_TEST(!s.referrals_on());
    BOOST_TEST(!s.birthday_on());
    s.friend_bonus = 1;
    BOOST_TEST(s.referrals_on());
    s.birthday_offer = "Cake";
    BOOST_TEST(s.birthday_on());
}

BOOST_AUTO_TEST_CASE(verification_referral_and_birthday_settings_parse) {
    std::vector<Problem> problems;
    auto s = enrollment_from_json(json::parse(R"({
        "fields":{"phone":"required","birthday":"optional"},
        "verification":{"channel":"phone","provider":"webhook",
                        "webhookUrl":"https://sms.example/hook?k=1",
                        "webhookSecret":"0123456789abcdef","codeTtlSeconds":300},
        "referral":{"referrerBonus":100,"friendBonus":1000000},
        "birthday":{"bonus":25,"offer":"A free cake"}})"),
                                  problems);
    BOOST_TEST(problems.empty());
    BOOST_TEST((s.verification.channel == VerifyChannel::phone));
    BOOST_TEST((s.verification.provider == CodeProvider::webhook));
    BOOST_TEST(s.verification.webhook_url == "https://sms.example/hook?k=1");
    BOOST_TEST(s.verification.webhook_secret == "0123456789abcdef");  // sealed by the handler
    BOOST_TEST(s.verification.webhook_secret_sealed.empty());
    BOOST_TEST(s.verification.code_ttl_seconds == 300);
    BOOST_TEST(s.referrer_bonus == 100);
    BOOST_TEST(s.friend_bonus == 1'000'000);
    BOOST_TEST(s.birthday_bonus == 25);
    BOOST_TEST(s.birthday_offer == "A free cake");
    // Email verification with the email field required; the log provider needs nothing.
    auto e = enrollment_from_json(
        json::parse(R"({"fields":{"email":"required"},"verification":{"channel":"email"}})"),
        problems);
    BOOST_TEST(problems.empty());
    BOOST_TEST((e.verification.channel == VerifyChannel::email));
    BOOST_TEST((e.verification.provider == CodeProvider::log));
    // Limits of the ranges are accepted.
    for (const char* ok : {
             R"({"verification":{"codeTtlSeconds":60}})",
             R"({"verification":{"codeTtlSeconds":3600}})",
             R"({"referral":{"referrerBonus":0,"friendBonus":0}})",
             R"({"referral":{"referrerBonus":null}})",
             R"({"fields":{"birthday":"required"},"birthday":{"bonus":1000000,"offer":null}})",
             R"({"verification":null,"referral":null,"birthday":null})",
             R"({"verification":{"channel":"off","provider":"log","webhookUrl":null}})",
         }) {
        std::vector<Problem> p;
        (void)enrollment_from_json(json::parse(ok), p);
        BOOST_TEST(p.empty(), ok << (p.empty() ? "" : ": " + p[0].field + " " + p[0].message));
    }
    // Without a bonus or an offer the birthday section needs no birthday field.
    (void)enrollment_from_json(json::parse(R"({"birthday":{"bonus":0}})"), problems);
    BOOST_TEST(problems.empty());
}

BOOST_AUTO_TEST_CASE(gateway_urls_and_secrets) {
    const auto webhook = [](const std::string& url, const std::string& secret) {
        json::object v{{"provider", "webhook"}, {"webhookUrl", url}};
        if (!secret.empty()) {
            v["webhookSecret"] = secret;
        }
        std::vector<Problem> problems;
        (void)enrollment_from_json(json::object{{"verification", v}}, problems);
        return problems;
    };
    const std::string secret16(16, 's');
    for (const char* url :
         {"https://sms.example/hook", "http://localhost/hook", "http://localhost:8080/hook",
          "http://127.0.0.1:9000/x", "http://127.0.0.1", "http://[::1]:9000/x"}) {
        const auto p = webhook(url, secret16);
        BOOST_TEST(p.empty(), url << (p.empty() ? "" : ": " + p[0].field));
    }
    for (const char* url :
         {"http://sms.example/hook", "http://localhost.evil.example/", "http://127.0.0.1.evil/",
          "http://localhostx/", "ftp://sms.example/", "https://", "https://a b/",
          "javascript:alert(1)", "sms.example/hook"}) {
        const auto p = webhook(url, secret16);
        BOOST_REQUIRE_MESSAGE(!p.empty(), url);
        BOOST_TEST(p[0].field == "verification.webhookUrl", url);
    }
    const auto too_long = webhook("https://sms.example/" + std::string(500, 'a'), secret16);
    BOOST_REQUIRE(!too_long.empty());
    BOOST_TEST(too_long[0].field == "verification.webhookUrl");
    // The secret: 16 to 256 characters.
    BOOST_TEST(webhook("https://sms.example/", std::string(256, 's')).empty());
    for (const auto& bad : {std::string(15, 's'), std::string(257, 's')}) {
        const auto p = webhook("https://sms.example/", bad);
        BOOST_REQUIRE(!p.empty());
        BOOST_TEST(p[0].field == "verification.webhookSecret");
    }
    // The webhook provider needs both a URL and a secret.
    const auto no_secret = webhook("https://sms.example/", "");
    BOOST_REQUIRE(no_secret.size() == 1u);
    BOOST_TEST(no_secret[0].field == "verification.webhookSecret");
    std::vector<Problem> problems;
    (void)enrollment_from_json(
        json::parse(
            R"({"verification":{"provider":"webhook","webhookSecret":"0123456789abcdef"}})"),
        problems);
    BOOST_REQUIRE(problems.size() == 1u);
    BOOST_TEST(problems[0].field == "verification.webhookUrl");
}

BOOST_AUTO_TEST_CASE(bad_new_settings_name_the_field) {
    const std::pair<const char*, const char*> cases[] = {
        {R"({"verification":{"channel":"phone"}})", "verification.channel"},  // phone optional
        {R"({"fields":{"phone":"off"},"verification":{"channel":"phone"}})",
         "verification.channel"},
        {R"({"verification":{"channel":"email"}})", "verification.channel"},
        {R"({"verification":{"channel":"sms"}})", "verification.channel"},
        {R"({"verification":{"channel":1}})", "verification.channel"},
        {R"({"verification":{"provider":"pigeon"}})", "verification.provider"},
        {R"({"verification":{"webhookUrl":5}})", "verification.webhookUrl"},
        {R"({"verification":{"webhookSecret":12345678901234567890}})",
         "verification.webhookSecret"},
        {R"({"verification":{"codeTtlSeconds":59}})", "verification.codeTtlSeconds"},
        {R"({"verification":{"codeTtlSeconds":3601}})", "verification.codeTtlSeconds"},
        {R"({"verification":{"codeTtlSeconds":"600"}})", "verification.codeTtlSeconds"},
        {R"({"verification":{"codeTtlSeconds":600.5}})", "verification.codeTtlSeconds"},
        {R"({"verification":{"colour":"red"}})", "verification.colour"},
        {R"({"verification":{"webhookSecretSealed":"v1.abc"}})",
         "verification.webhookSecretSealed"},  // never from the API
        {R"({"verification":"phone"})", "verification"},
        {R"({"referral":{"referrerBonus":-1}})", "referral.referrerBonus"},
        {R"({"referral":{"referrerBonus":1000001}})", "referral.referrerBonus"},
        {R"({"referral":{"friendBonus":1.5}})", "referral.friendBonus"},
        {R"({"referral":{"friendBonus":"5"}})", "referral.friendBonus"},
        {R"({"referral":{"friendBonus":18446744073709551615}})", "referral.friendBonus"},
        {R"({"referral":{"bonus":5}})", "referral.bonus"},
        {R"({"referral":[]})", "referral"},
        {R"({"birthday":{"bonus":10}})", "birthday"},  // the form does not ask it
        {R"({"fields":{"birthday":"off"},"birthday":{"offer":"Cake"}})", "birthday"},
        {R"({"fields":{"birthday":"optional"},"birthday":{"bonus":-5}})", "birthday.bonus"},
        {R"({"fields":{"birthday":"optional"},"birthday":{"offer":""}})", "birthday.offer"},
        {R"({"fields":{"birthday":"optional"},"birthday":{"offer":7}})", "birthday.offer"},
        {R"({"fields":{"birthday":"optional"},"birthday":{"when":"today"}})", "birthday.when"},
        {R"({"birthday":true})", "birthday"},
    };
    for (const auto& [text, field] : cases) {
        std::vector<Problem> problems;
        (void)enrollment_from_json(json::parse(text), problems);
        BOOST_REQUIRE_MESSAGE(!problems.empty(), text);
        BOOST_TEST(problems[0].field == field, text);
    }
    std::vector<Problem> problems;
    (void)enrollment_from_json(
        json::object{{"fields", json::object{{"birthday", "optional"}}},
                     {"birthday", json::object{{"offer", std::string(201, 'x')}}}},
        problems);
    BOOST_REQUIRE(!problems.empty());
    BOOST_TEST(problems[0].field == "birthday.offer");
    problems.clear();
    (void)enrollment_from_json(
        json::object{{"fields", json::object{{"birthday", "optional"}}},
                     {"birthday", json::object{{"offer", std::string(200, 'x')}}}},
        problems);
    BOOST_TEST(problems.empty());
}

BOOST_AUTO_TEST_CASE(the_api_view_hides_the_secret_and_storage_keeps_it_sealed) {
    std::vector<Problem> problems;
    auto s = enrollment_from_json(json::parse(R"({
        "fields":{"email":"required","birthday":"optional"},
        "verification":{"channel":"email","provider":"webhook",
                        "webhookUrl":"https://mail.example/hook",
                        "webhookSecret":"clear-secret-0123456789","codeTtlSeconds":120},
        "referral":{"referrerBonus":30,"friendBonus":10},
        "birthday":{"bonus":5,"offer":"Cake"}})"),
                                  problems);
    BOOST_REQUIRE(problems.empty());
    // What the handler does before storing: seal the clear secret.
    s.verification.webhook_secret_sealed = "v1.SEALED-BLOB";
    const auto api = enrollment_to_json(s, SettingsJson::api);
    const auto api_text = json::serialize(api);
    BOOST_TEST(api.at("verification").at("webhookSecretSet").as_bool());
    BOOST_TEST(!api.at("verification").as_object().contains("webhookSecret"));
    BOOST_TEST(!api.at("verification").as_object().contains("webhookSecretSealed"));
    BOOST_TEST(api_text.find("clear-secret") == std::string::npos);
    BOOST_TEST(api_text.find("SEALED-BLOB") == std::string::npos);
    BOOST_TEST(api.at("verification").at("webhookUrl").as_string() == "https://mail.example/hook");
    BOOST_TEST(api.at("referral").at("referrerBonus").as_int64() == 30);
    BOOST_TEST(api.at("birthday").at("offer").as_string() == "Cake");

    const auto stored = enrollment_to_json(s, SettingsJson::storage);
    const auto stored_text = json::serialize(stored);
    BOOST_TEST(stored.at("verification").at("webhookSecretSealed").as_string() == "v1.SEALED-BLOB");
    BOOST_TEST(!stored.at("verification").as_object().contains("webhookSecretSet"));
    BOOST_TEST(stored_text.find("clear-secret") == std::string::npos);

    // Back from storage: everything, the sealed secret included; no clear secret.
    auto back = enrollment_from_json(stored, problems, SettingsJson::storage);
    BOOST_REQUIRE(problems.empty());
    BOOST_TEST(back.verification.webhook_secret_sealed == "v1.SEALED-BLOB");
    BOOST_TEST(back.verification.webhook_secret.empty());
    BOOST_TEST((back.verification.channel == VerifyChannel::email));
    BOOST_TEST((back.verification.provider == CodeProvider::webhook));
    BOOST_TEST(back.verification.code_ttl_seconds == 120);
    BOOST_TEST(back.referrer_bonus == 30);
    BOOST_TEST(back.friend_bonus == 10);
    BOOST_TEST(back.birthday_bonus == 5);
    BOOST_TEST(back.birthday_offer == "Cake");
    BOOST_TEST(json::serialize(enrollment_to_json(back, SettingsJson::storage)) == stored_text);
    // Storage takes no clear secret key.
    json::value clear = stored;
    clear.at("verification").as_object()["webhookSecret"] = "clear-secret-0123456789";
    (void)enrollment_from_json(clear, problems, SettingsJson::storage);
    BOOST_REQUIRE(!problems.empty());
    BOOST_TEST(problems[0].field == "verification.webhookSecret");
}

BOOST_AUTO_TEST_CASE(the_stored_secret_is_kept_when_the_api_omits_it) {
    std::vector<Problem> problems;
    // The program as GET shows it, sent back as is: webhookSecretSet is harmless.
    EnrollmentSettings current;
    current.phone = FieldMode::required;
    current.verification.channel = VerifyChannel::phone;
    current.verification.provider = CodeProvider::webhook;
    current.verification.webhook_url = "https://sms.example/hook";
    current.verification.webhook_secret_sealed = "v1.STORED";
    const auto shown = enrollment_to_json(current, SettingsJson::api);
    auto kept = enrollment_from_json(shown, problems, SettingsJson::api, "v1.STORED");
    BOOST_TEST(problems.empty());
    BOOST_TEST(kept.verification.webhook_secret_sealed == "v1.STORED");
    BOOST_TEST(kept.verification.webhook_secret.empty());
    // Without a stored one the webhook provider needs a secret.
    (void)enrollment_from_json(shown, problems, SettingsJson::api);
    BOOST_REQUIRE(problems.size() == 1u);
    BOOST_TEST(problems[0].field == "verification.webhookSecret");
    problems.clear();
    // A new secret replaces the stored one: the handler seals the clear one.
    json::value update = shown;
    update.at("verification").as_object()["webhookSecret"] = "a-brand-new-secret";
    auto replaced = enrollment_from_json(update, problems, SettingsJson::api, "v1.STORED");
    BOOST_TEST(problems.empty());
    BOOST_TEST(replaced.verification.webhook_secret == "a-brand-new-secret");
    BOOST_TEST(replaced.verification.webhook_secret_sealed.empty());
    // The log provider keeps the stored secret too (switching back keeps working).
    auto log = enrollment_from_json(
        json::parse(R"({"fields":{"phone":"required"},"verification":{"channel":"phone"}})"),
        problems, SettingsJson::api, "v1.STORED");
    BOOST_TEST(problems.empty());
    BOOST_TEST(log.verification.webhook_secret_sealed == "v1.STORED");
    BOOST_TEST(enrollment_to_json(log).at("verification").at("webhookSecretSet").as_bool());
}

BOOST_AUTO_TEST_SUITE_END()
