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

BOOST_AUTO_TEST_SUITE_END()
