#pragma once
// The card holder's personal data and its validation. Pure; thread-safe.
#include <optional>
#include <string>
#include <string_view>

namespace cardsmith::domain {

struct Holder {
    std::string name;   // may be empty
    std::string phone;  // E.164 ("+4915112345678") or empty
    std::string email;  // lower-cased domain, or empty
};

// A holder's name: at most 100 characters of clean text; returned as given, or nullopt.
[[nodiscard]] std::optional<std::string> normalize_name(std::string_view input);
// Normalises a phone number to E.164: accepts "+49 151 1234-5678", "(+1) 212 555 0100".
// Returns nullopt when it is not "+" then 8 to 15 digits with a non-zero first digit.
[[nodiscard]] std::optional<std::string> normalize_phone(std::string_view input);
// Basic syntax check (local@domain.tld, no spaces, ≤254 chars); returns the address with
// its domain lower-cased, or nullopt.
[[nodiscard]] std::optional<std::string> normalize_email(std::string_view input);
// Valid UTF-8 without control characters.
[[nodiscard]] bool is_clean_text(std::string_view text);

}  // namespace cardsmith::domain
