#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <filesystem>

#include "domain/design.hpp"
#include "domain/template_dir.hpp"

using namespace cardsmith::domain;
namespace json = boost::json;

namespace {
json::value minimal() {
    return json::parse(R"({
      "name": "T", "description": "Test card", "organizationName": "Org",
      "colors": {"background": "#102030", "foreground": "#FFFFFF", "label": "#abcdef"},
      "fields": {
        "header": [{"key": "balance", "label": "POINTS", "value": "{{balance}}",
                    "changeMessage": "You now have %@ points"}],
        "secondary": [{"key": "name", "value": "{{holder.name}}"}]
      },
      "earnRule": {"points": 1, "per": 100},
      "tiers": [{"name": "Gold", "minPoints": 1000}, {"name": "Base", "minPoints": 0}]
    })");
}

std::vector<Problem> problems_of(const json::value& v) {
    std::vector<Problem> p;
    auto d = design_from_json(v, p);
    if (p.empty()) validate_design(d, p);
    return p;
}

bool has_problem(const std::vector<Problem>& ps, const std::string& field) {
    for (const auto& p : ps) {
        if (p.field == field) return true;
    }
    return false;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(design)

BOOST_AUTO_TEST_CASE(parses_and_round_trips) {
    std::vector<Problem> p;
    auto d = design_from_json(minimal(), p);
    BOOST_REQUIRE(p.empty());
    validate_design(d, p);
    BOOST_REQUIRE(p.empty());
    BOOST_TEST(d.background.css() == "rgb(16, 32, 48)");
    BOOST_TEST(d.label.hex() == "#ABCDEF");
    BOOST_TEST(d.tiers.front().name == "Base");  // sorted by minPoints
    std::vector<Problem> p2;
    auto again = design_from_json(design_to_json(d), p2);
    BOOST_TEST(p2.empty());
    BOOST_TEST(json::serialize(design_to_json(again)) == json::serialize(design_to_json(d)));
}

BOOST_AUTO_TEST_CASE(rejects_what_wallet_would_refuse) {
    auto v = minimal();
    v.as_object()["fields"].as_object()["auxiliary"] = json::parse(
        R"([{"key": "balance", "value": "x"}, {"key": "a", "value": "{{nope}}"},
            {"key": "b", "value": "x", "changeMessage": "no placeholder"}])");
    auto ps = problems_of(v);
    BOOST_TEST(has_problem(ps, "fields.auxiliary[0].key"));            // duplicate key
    BOOST_TEST(has_problem(ps, "fields.auxiliary[1].value"));          // unknown placeholder
    BOOST_TEST(has_problem(ps, "fields.auxiliary[2].changeMessage"));  // no %@
}

BOOST_AUTO_TEST_CASE(rejects_bad_types_colours_and_capacity) {
    auto v = minimal();
    v.as_object()["colors"].as_object()["background"] = "red";
    v.as_object()["fields"].as_object()["header"] = json::parse(
        R"([{"key":"a","value":"1"},{"key":"b","value":"2"},{"key":"c","value":"3"},
            {"key":"d","value":"4"}])");
    v.as_object()["name"] = 5;
    v.as_object()["surprise"] = true;
    auto ps = problems_of(v);
    BOOST_TEST(has_problem(ps, "colors.background"));
    BOOST_TEST(has_problem(ps, "name"));
    BOOST_TEST(has_problem(ps, "surprise"));
    std::vector<Problem> cap;
    auto d = design_from_json(minimal(), cap);
    d.fields[0].resize(4, PassField{"k", "", "v", ""});
    validate_design(d, cap);
    BOOST_TEST(has_problem(cap, "fields.header"));
}

BOOST_AUTO_TEST_CASE(placeholders_render_and_list) {
    PlaceholderValues vals{{"balance", "120"}, {"holder.name", "Ann \"A\" \\ B"}};
    BOOST_TEST(render_placeholders("{{balance}} pts", vals) == "120 pts");
    BOOST_TEST(render_placeholders("Hi {{ holder.name }}!", vals) == "Hi Ann \"A\" \\ B!");
    BOOST_TEST(render_placeholders("{{unknown}}x", vals) == "x");
    BOOST_TEST(render_placeholders("{{unclosed", vals) == "{{unclosed");
    BOOST_TEST(render_placeholders("no braces", vals) == "no braces");
    auto names = placeholders_in("{{a}} and {{ b.c }} and {{d");
    BOOST_TEST(names.size() == 2u);
    BOOST_TEST(names[1] == "b.c");
}

BOOST_AUTO_TEST_CASE(tiers_follow_lifetime_points) {
    std::vector<Tier> tiers{{"Bronze", 0}, {"Silver", 500}, {"Gold", 2000}};
    BOOST_TEST(tier_for(tiers, 0) == "Bronze");
    BOOST_TEST(tier_for(tiers, 499) == "Bronze");
    BOOST_TEST(tier_for(tiers, 500) == "Silver");
    BOOST_TEST(tier_for(tiers, 1000000) == "Gold");
    BOOST_TEST(tier_for({}, 10) == "");
}

BOOST_AUTO_TEST_CASE(patch_merges_colours) {
    auto base = design_to_json([] {
        std::vector<Problem> p;
        return design_from_json(minimal(), p);
    }());
    auto merged = merge_design_patch(base, json::parse(R"({"colors":{"label":"#000000"},
                                                           "name":"New"})")
                                               .as_object());
    BOOST_TEST(merged.at("name").as_string() == "New");
    BOOST_TEST(merged.at("colors").at("label").as_string() == "#000000");
    BOOST_TEST(merged.at("colors").at("background").as_string() == "#102030");
}

BOOST_AUTO_TEST_CASE(shipped_templates_are_valid) {
    const std::filesystem::path root = std::filesystem::path(CARDSMITH_SOURCE_DIR) / "templates";
    int seen = 0;
    for (const auto& entry : std::filesystem::directory_iterator(root)) {
        if (!entry.is_directory()) continue;
        std::vector<Problem> ps;
        auto t = load_template_dir(entry.path(), ps);
        for (const auto& p : ps) {
            BOOST_ERROR(entry.path().string() + ": " + p.field + ": " + p.message);
        }
        BOOST_TEST(t.images.size() >= 9u);  // icon, logo, strip at 1x/2x/3x
        ++seen;
    }
    BOOST_TEST(seen >= 2);
}

BOOST_AUTO_TEST_SUITE_END()
