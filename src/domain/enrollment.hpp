#pragma once
// How a program's enrollment form (/join/{slug}) asks for personal data: which fields it
// shows (off, optional, required), the merchant's terms, and the page language.
#include <boost/json/fwd.hpp>
#include <boost/json/object.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "domain/design.hpp"

namespace cardsmith::domain {

enum class FieldMode { off, optional, required };

struct EnrollmentSettings {
    FieldMode name = FieldMode::required;
    FieldMode phone = FieldMode::optional;
    FieldMode email = FieldMode::optional;
    FieldMode birthday = FieldMode::off;
    std::string terms_url;  // https:// link shown by the consent checkbox; empty: none
    std::string language;   // "en" or "ru"; empty: the design's locale
};

[[nodiscard]] std::string_view to_string(FieldMode mode);
[[nodiscard]] boost::json::object enrollment_to_json(const EnrollmentSettings& s);
// Parses and checks; problems name the JSON field. Missing keys keep their defaults.
[[nodiscard]] EnrollmentSettings enrollment_from_json(const boost::json::value& json,
                                                      std::vector<Problem>& problems);

// "YYYY-MM-DD" with a real date between 1900 and today's year; normalised as given.
[[nodiscard]] bool is_valid_birthday(std::string_view text, int current_year);

}  // namespace cardsmith::domain
