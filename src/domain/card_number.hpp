#pragma once
// Card numbers (CONTRACT §3): digits only, 12-19 long, last digit a Luhn check digit,
// random (drawn from a CSPRNG, so neither sequential nor guessable from another card).
// Pure functions; thread-safe.
#include <string>
#include <string_view>

namespace cardsmith::domain {

inline constexpr std::size_t kCardNumberLength = 16;

// The Luhn check digit ('0'..'9') for a string of digits without it.
[[nodiscard]] char luhn_check_digit(std::string_view digits);
// Digits only, 12-19 long, valid check digit.
[[nodiscard]] bool is_valid_card_number(std::string_view number);
// A fresh random number: first digit 1-9, then random digits, then the check digit.
[[nodiscard]] std::string generate_card_number(std::size_t length = kCardNumberLength);

}  // namespace cardsmith::domain
