#include <array>
#include <boost/test/unit_test.hpp>
#include <map>
#include <set>

#include "domain/card_number.hpp"

using namespace cardsmith::domain;

BOOST_AUTO_TEST_SUITE(card_number)

BOOST_AUTO_TEST_CASE(luhn_known_values) {
    // Well-known valid numbers (payment-card test numbers and the Luhn textbook example).
    BOOST_TEST(luhn_check_digit("7992739871") == '3');
    BOOST_TEST(is_valid_card_number("4111111111111111"));
    BOOST_TEST(is_valid_card_number("5555555555554444"));
    BOOST_TEST(!is_valid_card_number("4111111111111112"));
    BOOST_TEST(!is_valid_card_number("41111111111a1111"));
    BOOST_TEST(!is_valid_card_number("41111111111"));           // 11 digits: too short
    BOOST_TEST(!is_valid_card_number("41111111111111111111"));  // 20 digits: too long
}

BOOST_AUTO_TEST_CASE(every_single_digit_error_is_caught) {
    std::string n = generate_card_number();
    BOOST_REQUIRE(is_valid_card_number(n));
    for (std::size_t i = 0; i < n.size(); ++i) {
        for (char d = '0'; d <= '9'; ++d) {
            if (d == n[i]) continue;
            std::string m = n;
            m[i] = d;
            BOOST_TEST(!is_valid_card_number(m), m);
        }
    }
}

BOOST_AUTO_TEST_CASE(generated_numbers_are_valid_unique_and_spread) {
    std::set<std::string> seen;
    std::map<char, int> first_digit;
    std::array<std::array<int, 10>, 15> per_position{};
    constexpr int kN = 20000;
    for (int i = 0; i < kN; ++i) {
        auto n = generate_card_number();
        BOOST_REQUIRE_EQUAL(n.size(), kCardNumberLength);
        BOOST_REQUIRE(is_valid_card_number(n));
        BOOST_REQUIRE(n[0] != '0');
        seen.insert(n);
        for (std::size_t p = 0; p < 15; ++p) {
            per_position[p][static_cast<std::size_t>(n[p] - '0')]++;
        }
    }
    BOOST_TEST(seen.size() == static_cast<std::size_t>(kN));
    // Positions 1..14 are uniform digits: each digit near 10% (±2.5% is > 8 sigma).
    for (std::size_t p = 1; p < 15; ++p) {
        for (int d = 0; d < 10; ++d) {
            int c = per_position[p][static_cast<std::size_t>(d)];
            BOOST_TEST(c > kN / 10 - 500);
            BOOST_TEST(c < kN / 10 + 500);
        }
    }
}

BOOST_AUTO_TEST_CASE(consecutive_numbers_are_not_sequential) {
    auto a = std::stoull(generate_card_number());
    auto b = std::stoull(generate_card_number());
    BOOST_TEST((a > b ? a - b : b - a) > 100u);
}

BOOST_AUTO_TEST_SUITE_END()
