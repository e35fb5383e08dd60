#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "domain/design.hpp"
#include "domain/lint.hpp"

using namespace cardsmith::domain;
namespace json = boost::json;

namespace {

// A clean design: balance and offer fields with good change messages.
Design base() {
    Design d;
    d.name = "Test";
    d.description = "Test card";
    d.organization_name = "Org";
    d.default_offer = "Every 10th coffee is on us";
    d.fields.at(0) = {{"balance", "POINTS", "{{balance}}", "You now have %@ points"}};
    d.fields.at(1) = {{"offer", "TODAY", "{{offer}}", "%@"}};
    d.fields.at(2) = {{"member", "MEMBER", "{{holder.name}}", ""}};
    d.fields.at(3) = {{"card", "CARD", "{{cardNumber}}", ""}};
    d.tiers = {{"Bronze", 0}, {"Gold", 1000}};
    return d;
}

PassField& field(Design& d, FieldGroup g, std::size_t i = 0) {
    return d.fields.at(static_cast<std::size_t>(g)).at(i);
}

void add_field(Design& d, FieldGroup g, PassField f) {
    d.fields.at(static_cast<std::size_t>(g)).push_back(std::move(f));
}

const LintFinding* find(const std::vector<LintFinding>& fs, std::string_view code,
                        std::string_view path = {}) {
    for (const auto& f : fs) {
        if (f.code == code && (path.empty() || f.field == path)) {
            return &f;
        }
    }
    return nullptr;
}

bool has(const std::vector<LintFinding>& fs, std::string_view code, std::string_view path = {}) {
    return find(fs, code, path) != nullptr;
}

std::string dump(const LintReport& r) { return json::serialize(lint_to_json(r)); }

std::string repeat(std::string_view s, std::size_t n) {
    std::string out;
    for (std::size_t i = 0; i < n; ++i) out += s;
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(lint)

BOOST_AUTO_TEST_CASE(clean_design_has_no_findings) {
    auto d = base();
    auto r = lint_design(nullptr, d);
    BOOST_TEST(r.ok());
    BOOST_TEST(r.warnings.empty(), dump(r));
    auto again = lint_design(&d, d);
    BOOST_TEST(again.errors.empty());
    BOOST_TEST(again.warnings.empty(), dump(again));
}

BOOST_AUTO_TEST_CASE(offer_field_needs_change_message_with_value) {
    auto d = base();
    field(d, FieldGroup::primary).change_message.clear();
    auto r = lint_design(nullptr, d);
    BOOST_TEST(!r.ok());
    BOOST_TEST(has(r.errors, "offer_change_message_missing", "fields.primary[0].changeMessage"));

    field(d, FieldGroup::primary).change_message = "New offer!";
    r = lint_design(nullptr, d);
    BOOST_TEST(has(r.errors, "change_message_missing_value", "fields.primary[0].changeMessage"));
    BOOST_TEST(!has(r.errors, "offer_change_message_missing"));

    // Placeholder spacing does not hide the offer.
    field(d, FieldGroup::primary).value = "Today: {{ offer }}";
    field(d, FieldGroup::primary).change_message.clear();
    BOOST_TEST(has(lint_design(nullptr, d).errors, "offer_change_message_missing"));
}

BOOST_AUTO_TEST_CASE(balance_field_without_change_message_warns) {
    auto d = base();
    field(d, FieldGroup::header).change_message.clear();
    auto r = lint_design(nullptr, d);
    BOOST_TEST(r.ok(), dump(r));
    BOOST_TEST(has(r.warnings, "balance_change_message_missing", "fields.header[0].changeMessage"));

    field(d, FieldGroup::header).change_message = "Your balance changed";
    r = lint_design(nullptr, d);
    BOOST_TEST(has(r.errors, "change_message_missing_value", "fields.header[0].changeMessage"));

    field(d, FieldGroup::header).value = "{{lifetimePoints}} total";
    r = lint_design(nullptr, d);
    BOOST_TEST(has(r.errors, "change_message_missing_value", "fields.header[0].changeMessage"));
    field(d, FieldGroup::header).change_message.clear();
    r = lint_design(nullptr, d);
    BOOST_TEST(r.ok());
    BOOST_TEST(has(r.warnings, "balance_change_message_missing"));
}

BOOST_AUTO_TEST_CASE(other_change_message_without_value_warns) {
    auto d = base();
    field(d, FieldGroup::secondary).change_message = "Your name changed";
    auto r = lint_design(nullptr, d);
    BOOST_TEST(r.ok());
    BOOST_TEST(
        has(r.warnings, "change_message_missing_value", "fields.secondary[0].changeMessage"));

    field(d, FieldGroup::secondary).change_message = "Name now %@";
    r = lint_design(nullptr, d);
    BOOST_TEST(r.warnings.empty(), dump(r));
}

BOOST_AUTO_TEST_CASE(more_than_one_value_marker_is_an_error) {
    auto d = base();
    field(d, FieldGroup::header).change_message = "%@ points, yes %@";
    auto r = lint_design(nullptr, d);
    BOOST_TEST(has(r.errors, "change_message_multiple_values", "fields.header[0].changeMessage"));
    field(d, FieldGroup::header).change_message = "100% sure: %@";
    BOOST_TEST(lint_design(nullptr, d).ok());
}

BOOST_AUTO_TEST_CASE(long_change_message_counts_code_points) {
    auto d = base();
    // 90 two-byte characters and %@ as a 10-character value: exactly 100.
    field(d, FieldGroup::header).change_message = repeat("ä", 90) + "%@";
    auto r = lint_design(nullptr, d);
    BOOST_TEST(!has(r.warnings, "change_message_too_long"), dump(r));
    field(d, FieldGroup::header).change_message = repeat("ä", 91) + "%@";
    r = lint_design(nullptr, d);
    BOOST_TEST(has(r.warnings, "change_message_too_long", "fields.header[0].changeMessage"));
    BOOST_TEST(r.ok());
    // Without %@ nothing is substituted.
    field(d, FieldGroup::secondary).change_message = repeat("x", 100);
    BOOST_TEST(!has(lint_design(nullptr, d).warnings, "change_message_too_long",
                    "fields.secondary[0].changeMessage"));
    field(d, FieldGroup::secondary).change_message = repeat("x", 101);
    BOOST_TEST(has(lint_design(nullptr, d).warnings, "change_message_too_long",
                   "fields.secondary[0].changeMessage"));
}

BOOST_AUTO_TEST_CASE(fields_moving_with_a_purchase_collide) {
    auto d = base();
    add_field(d, FieldGroup::auxiliary, {"tier", "TIER", "{{tier}}", ""});
    BOOST_TEST(!has(lint_design(nullptr, d).warnings, "purchase_generic_message"));

    field(d, FieldGroup::auxiliary, 1).change_message = "You reached %@";
    auto r = lint_design(nullptr, d);
    BOOST_TEST(r.ok());
    const auto* w = find(r.warnings, "purchase_generic_message");
    BOOST_REQUIRE(w != nullptr);
    BOOST_TEST(w->message.find("\"balance\" and \"tier\"") != std::string::npos, w->message);
    BOOST_TEST(w->message.find("both") != std::string::npos);

    auto lifetime = base();
    add_field(lifetime, FieldGroup::auxiliary, {"life", "TOTAL", "{{lifetimePoints}}", "%@"});
    BOOST_TEST(has(lint_design(nullptr, lifetime).warnings, "purchase_generic_message"));

    auto offers = base();
    add_field(offers, FieldGroup::back, {"offer2", "Offer", "{{offer}}", "New: %@"});
    r = lint_design(nullptr, offers);
    BOOST_TEST(has(r.warnings, "offer_generic_message"));
    BOOST_TEST(!has(r.warnings, "purchase_generic_message"));
}

BOOST_AUTO_TEST_CASE(publishing_a_changed_field_notifies_holders) {
    const auto before = base();
    auto after = base();
    field(after, FieldGroup::header).value = "{{balance}} pts";
    auto r = lint_design(&before, after);
    BOOST_TEST(r.ok());
    BOOST_TEST(has(r.warnings, "publish_notifies_holders", "fields.header[0].value"));
    BOOST_TEST(!has(r.warnings, "publish_generic_message"));

    // Same template spelled differently, a field without changeMessage, a new key: silent.
    auto quiet = base();
    field(quiet, FieldGroup::header).value = "{{ balance }}";
    field(quiet, FieldGroup::secondary).value = "Member {{holder.name}}";
    add_field(quiet, FieldGroup::back, {"news", "News", "Hello", "News: %@"});
    field(quiet, FieldGroup::header).label = "BALANCE";
    field(quiet, FieldGroup::header).change_message = "Balance: %@";
    r = lint_design(&before, quiet);
    BOOST_TEST(!has(r.warnings, "publish_notifies_holders"), dump(r));

    // Fields match by key across groups.
    auto moved = base();
    add_field(moved, FieldGroup::back, field(moved, FieldGroup::header));
    moved.fields.at(0).clear();
    BOOST_TEST(!has(lint_design(&before, moved).warnings, "publish_notifies_holders"));
    field(moved, FieldGroup::back).value = "{{balance}} points";
    BOOST_TEST(has(lint_design(&before, moved).warnings, "publish_notifies_holders",
                   "fields.back[0].value"));

    field(after, FieldGroup::primary).value = "Today: {{offer}}";
    r = lint_design(&before, after);
    const auto* w = find(r.warnings, "publish_generic_message");
    BOOST_REQUIRE(w != nullptr);
    BOOST_TEST(w->message.find("\"balance\" and \"offer\"") != std::string::npos, w->message);
}

BOOST_AUTO_TEST_CASE(publishing_changed_design_values_notifies_holders) {
    const auto before = base();
    auto offer = base();
    offer.default_offer = "A free cookie";
    BOOST_TEST(has(lint_design(&before, offer).warnings, "publish_notifies_holders",
                   "fields.primary[0].value"));

    auto named = base();
    add_field(named, FieldGroup::back, {"program", "Program", "{{program.name}}", "Now %@"});
    auto renamed = named;
    renamed.name = "Better name";
    BOOST_TEST(!has(lint_design(&named, named).warnings, "publish_notifies_holders"));
    BOOST_TEST(has(lint_design(&named, renamed).warnings, "publish_notifies_holders",
                   "fields.back[0].value"));

    auto tiered = base();
    add_field(tiered, FieldGroup::auxiliary, {"tier", "TIER", "{{tier}}", "You reached %@"});
    auto retiered = tiered;
    retiered.tiers.back().min_points = 800;
    BOOST_TEST(!has(lint_design(&tiered, tiered).warnings, "publish_notifies_holders"));
    BOOST_TEST(has(lint_design(&tiered, retiered).warnings, "publish_notifies_holders",
                   "fields.auxiliary[1].value"));
}

BOOST_AUTO_TEST_CASE(removing_the_offer_field) {
    const auto before = base();
    auto after = base();
    after.fields.at(1).clear();
    auto r = lint_design(&before, after);
    BOOST_TEST(has(r.errors, "offer_field_removed", "fields"));

    after.default_offer.clear();
    r = lint_design(&before, after);
    BOOST_TEST(r.ok());
    BOOST_TEST(has(r.warnings, "offer_field_removed"));

    // Moved to another key: still shows offers.
    auto renamed = base();
    field(renamed, FieldGroup::primary).key = "deal";
    r = lint_design(&before, renamed);
    BOOST_TEST(r.ok());
    BOOST_TEST(!has(r.warnings, "offer_field_removed"));

    // A new program without an offer field is lint_campaign's business.
    auto fresh = base();
    fresh.fields.at(1).clear();
    BOOST_TEST(!has(lint_design(nullptr, fresh).errors, "offer_field_removed"));
}

BOOST_AUTO_TEST_CASE(campaign_message_rules) {
    const auto d = base();
    auto r = lint_campaign(d, "This week", "A free pastry with every large coffee.");
    BOOST_TEST(r.ok());
    BOOST_TEST(r.warnings.empty(), dump(r));
    BOOST_TEST(lint_campaign(d, "", "Line one\nline two").ok());

    BOOST_TEST(has(lint_campaign(d, "", "").errors, "message_empty", "message"));
    BOOST_TEST(has(lint_campaign(d, "", " \n ").errors, "message_empty"));

    // Lengths count code points: "я" is two bytes.
    r = lint_campaign(d, "", repeat("я", 120));
    BOOST_TEST(r.ok());
    BOOST_TEST(r.warnings.empty(), dump(r));
    r = lint_campaign(d, "", repeat("я", 121));
    BOOST_TEST(r.ok());
    BOOST_TEST(has(r.warnings, "message_long", "message"));
    BOOST_TEST(lint_campaign(d, "", repeat("я", 500)).ok());
    BOOST_TEST(has(lint_campaign(d, "", repeat("я", 501)).errors, "message_too_long", "message"));

    BOOST_TEST(lint_campaign(d, repeat("ü", 40), "Hi").warnings.empty());
    r = lint_campaign(d, repeat("ü", 41), "Hi");
    BOOST_TEST(r.ok());
    BOOST_TEST(has(r.warnings, "header_long", "header"));
}

BOOST_AUTO_TEST_CASE(campaign_text_must_be_clean_utf8) {
    const auto d = base();
    for (std::string bad :
         {"bad \xC3(", "ctrl \x01", "tab\there", "del \x7F", "c1 \xC2\x85", "overlong \xC0\xAF",
          "surrogate \xED\xA0\x80", "cut \xE2\x82", "big \xF4\x90\x80\x80", "cr\r\n"}) {
        BOOST_TEST(has(lint_campaign(d, "", bad).errors, "message_invalid_text"), bad);
        BOOST_TEST(has(lint_campaign(d, bad, "Hi").errors, "header_invalid_text"), bad);
    }
    BOOST_TEST(has(lint_campaign(d, "two\nlines", "Hi").errors, "header_invalid_text"));
    BOOST_TEST(lint_campaign(d, "Café 🍰", "Ein Stück Kuchen 🍰 gratis").ok());
}

BOOST_AUTO_TEST_CASE(campaign_needs_a_notifying_offer_field) {
    auto none = base();
    none.fields.at(1).clear();
    auto r = lint_campaign(none, "", "Hi");
    BOOST_TEST(has(r.errors, "no_offer_field", "fields"));

    auto silent = base();
    field(silent, FieldGroup::primary).change_message.clear();
    r = lint_campaign(silent, "", "Hi");
    BOOST_TEST(has(r.errors, "offer_change_message_missing", "fields.primary[0].changeMessage"));
    field(silent, FieldGroup::primary).change_message = "New offer";
    BOOST_TEST(has(lint_campaign(silent, "", "Hi").errors, "offer_change_message_missing"));

    auto two = base();
    add_field(two, FieldGroup::back, {"offer2", "Offer", "{{offer}}", "%@"});
    r = lint_campaign(two, "", "Hi");
    BOOST_TEST(r.ok());
    BOOST_TEST(has(r.warnings, "offer_generic_message"));
    BOOST_TEST(!has(r.warnings, "purchase_generic_message"));
}

BOOST_AUTO_TEST_CASE(report_as_json) {
    auto d = base();
    field(d, FieldGroup::primary).change_message.clear();
    field(d, FieldGroup::header).change_message.clear();
    auto j = lint_to_json(lint_design(nullptr, d));
    BOOST_REQUIRE(j.at("errors").is_array());
    BOOST_REQUIRE(j.at("warnings").is_array());
    const auto& e = j.at("errors").as_array().at(0).as_object();
    BOOST_TEST(e.at("field").as_string() == "fields.primary[0].changeMessage");
    BOOST_TEST(e.at("code").as_string() == "offer_change_message_missing");
    BOOST_TEST(!e.at("message").as_string().empty());
    BOOST_TEST(j.at("warnings").as_array().at(0).at("code").as_string() ==
               "balance_change_message_missing");
    auto empty = lint_to_json(LintReport{});
    BOOST_TEST(json::serialize(empty) == R"({"errors":[],"warnings":[]})");
}

BOOST_AUTO_TEST_CASE(shipped_templates_lint_without_errors) {
    const std::filesystem::path root = std::filesystem::path(CARDSMITH_SOURCE_DIR) / "templates";
    for (const char* name : {"coffee", "beauty"}) {
        std::ifstream in(root / name / "template.json");
        BOOST_REQUIRE_MESSAGE(in, name);
        std::stringstream text;
        text << in.rdbuf();
        std::vector<Problem> problems;
        const auto d = design_from_json(json::parse(text.str()), problems);
        BOOST_REQUIRE(problems.empty());
        auto r = lint_design(nullptr, d);
        BOOST_TEST(r.ok(), name << ": " << dump(r));
        r = lint_design(&d, d);
        BOOST_TEST(r.ok(), name << ": " << dump(r));
        BOOST_TEST(!has(r.warnings, "publish_notifies_holders"));
        r = lint_campaign(d, "This week", "A free pastry with every large coffee.");
        BOOST_TEST(r.ok(), name << ": " << dump(r));
    }
}

BOOST_AUTO_TEST_SUITE_END()
