#pragma once
// A program's card design (the template.json schema, templates/README.md): texts,
// colours, pass fields with placeholders, earn rule and tiers. Parsed from and written
// back to JSON; validated against Wallet's rules (apple-wallet.md §1.3). Pure values;
// thread-safe to share once built.
#include <array>
#include <boost/json/value.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cardsmith::domain {

struct Problem {
    std::string field;    // JSON path, e.g. "fields.header[0].changeMessage"
    std::string message;  // what is wrong, for a person
};

struct Rgb {
    std::uint8_t r = 0, g = 0, b = 0;
    [[nodiscard]] std::string css() const;  // "rgb(r, g, b)" as Wallet wants
    [[nodiscard]] std::string hex() const;  // "#RRGGBB"
};
[[nodiscard]] std::optional<Rgb> parse_hex_color(std::string_view text);

struct PassField {
    std::string key;
    std::string label;
    std::string value;           // may hold placeholders
    std::string change_message;  // empty: no lock-screen message
};

enum class FieldGroup { header = 0, primary, secondary, auxiliary, back };
inline constexpr std::array<std::string_view, 5> kFieldGroupNames{"header", "primary", "secondary",
                                                                  "auxiliary", "back"};

struct EarnRule {
    std::int64_t points = 1;  // `points` for every `per` minor currency units
    std::int64_t per = 100;
};

struct Tier {
    std::string name;
    std::int64_t min_points = 0;  // lifetime points from which the tier applies
};

struct Design {
    std::string name;
    std::string description;
    std::string organization_name;
    std::string logo_text;
    std::string locale = "en";
    std::string default_offer;
    Rgb background{0x22, 0x22, 0x22};
    Rgb foreground{0xFF, 0xFF, 0xFF};
    Rgb label{0xCC, 0xCC, 0xCC};
    std::array<std::vector<PassField>, 5> fields;
    EarnRule earn_rule;
    std::vector<Tier> tiers;  // sorted by min_points

    [[nodiscard]] const std::vector<PassField>& group(FieldGroup g) const {
        return fields.at(static_cast<std::size_t>(g));
    }
};

// Parses the JSON form; every problem found is appended to `problems` (the result is
// meaningful only when none were).
[[nodiscard]] Design design_from_json(const boost::json::value& json,
                                      std::vector<Problem>& problems);
[[nodiscard]] boost::json::object design_to_json(const Design& design);
// Applies Wallet's and our rules to a parsed design.
void validate_design(const Design& design, std::vector<Problem>& problems);
// Merges a PATCH body into a design's JSON: top-level keys replace, "colors" and
// "earnRule" merge key by key.
[[nodiscard]] boost::json::object merge_design_patch(const boost::json::object& base,
                                                     const boost::json::object& patch);

// The placeholders a field value may use (CONTRACT §4).
inline constexpr std::array<std::string_view, 9> kPlaceholders{
    "cardNumber", "balance", "holder.name",  "holder.phone",  "holder.email",
    "tier",       "offer",   "program.name", "lifetimePoints"};
using PlaceholderValues = std::map<std::string, std::string, std::less<>>;
// Replaces {{name}} with its value; text without placeholders comes back unchanged.
[[nodiscard]] std::string render_placeholders(std::string_view text,
                                              const PlaceholderValues& values);
// Names of the placeholders used in `text` ("{{ x }}" with spaces allowed).
[[nodiscard]] std::vector<std::string> placeholders_in(std::string_view text);

// The tier for `lifetime_points` (highest min_points ≤ it), or "" without tiers.
[[nodiscard]] std::string tier_for(const std::vector<Tier>& tiers, std::int64_t lifetime_points);

}  // namespace cardsmith::domain
