#include <boost/test/unit_test.hpp>

#include "domain/holder.hpp"
#include "domain/models.hpp"

using namespace cardsmith::domain;

BOOST_AUTO_TEST_SUITE(holder)

BOOST_AUTO_TEST_CASE(phone_numbers_normalise_to_e164) {
    BOOST_TEST(normalize_phone("+49 151 1234-5678").value() == "+4915112345678");
    BOOST_TEST(normalize_phone("(+1) 212 555 0100").value() == "+12125550100");
    BOOST_TEST(normalize_phone("+1 (212) 555-0100").value() == "+12125550100");
    BOOST_TEST(!normalize_phone("0151 12345678"));      // no country code
    BOOST_TEST(!normalize_phone("+0151 12345678"));     // country code cannot start with 0
    BOOST_TEST(!normalize_phone("+1234567"));           // 7 digits: too short
    BOOST_TEST(!normalize_phone("+1234567890123456"));  // 16 digits: too long
    BOOST_TEST(!normalize_phone("+49 151 abc"));
    BOOST_TEST(!normalize_phone("+49+151 1234567"));
}

BOOST_AUTO_TEST_CASE(emails) {
    BOOST_TEST(normalize_email("Anna@Example.COM").value() == "Anna@example.com");
    BOOST_TEST(normalize_email("a.b+tag@mail.example.org").has_value());
    BOOST_TEST(!normalize_email("no-at-sign.example.com"));
    BOOST_TEST(!normalize_email("two@@example.com"));
    BOOST_TEST(!normalize_email("a b@example.com"));
    BOOST_TEST(!normalize_email("a@localhost"));
    BOOST_TEST(!normalize_email("a@example..com"));
    BOOST_TEST(!normalize_email(".a@example.com"));
    BOOST_TEST(!normalize_email(""));
}

BOOST_AUTO_TEST_CASE(clean_text_rejects_control_characters_and_bad_utf8) {
    BOOST_TEST(is_clean_text("Анна Müller ☕"));
    BOOST_TEST(!is_clean_text(std::string("a\0b", 3)));
    BOOST_TEST(!is_clean_text("line\nbreak"));
    BOOST_TEST(!is_clean_text("\xC3"));              // truncated sequence
    BOOST_TEST(!is_clean_text("\xC0\xAF"));          // overlong '/'
    BOOST_TEST(!is_clean_text("\xED\xA0\x80"));      // UTF-16 surrogate
    BOOST_TEST(!is_clean_text("\xF4\x90\x80\x80"));  // beyond U+10FFFF
}

BOOST_AUTO_TEST_CASE(slugs) {
    BOOST_TEST(is_valid_slug("bean-there"));
    BOOST_TEST(is_valid_slug("c2"));
    BOOST_TEST(!is_valid_slug("a"));
    BOOST_TEST(!is_valid_slug("-lead"));
    BOOST_TEST(!is_valid_slug("Upper"));
    BOOST_TEST(!is_valid_slug("../etc"));
}

BOOST_AUTO_TEST_SUITE_END()
