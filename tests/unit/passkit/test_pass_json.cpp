#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "apple/passkit/pass_json.hpp"

using namespace cardsmith;
namespace json = boost::json;

namespace {
domain::Program program() {
    domain::Program p;
    p.id = ProgramId(1);
    p.slug = "bean";
    p.name = "Bean There";
    std::vector<domain::Problem> problems;
    p.design = domain::design_from_json(json::parse(R"({
      "name": "Coffee", "description": "Coffee card", "organizationName": "Bean There",
      "logoText": "{{program.name}}", "defaultOffer": "10th coffee free",
      "colors": {"background": "#3B2418", "foreground": "#FFFFFF", "label": "#E8C39E"},
      "fields": {
        "header": [{"key": "balance", "label": "POINTS", "value": "{{balance}}",
                    "changeMessage": "You now have %@ points"}],
        "primary": [{"key": "offer", "label": "TODAY", "value": "{{offer}}", "changeMessage": "%@"}],
        "secondary": [{"key": "member", "label": "MEMBER", "value": "{{holder.name}}"}],
        "auxiliary": [{"key": "tier", "label": "TIER", "value": "{{tier}}"}],
        "back": [{"key": "card", "label": "Card", "value": "No. {{cardNumber}}"}]
      },
      "tiers": [{"name": "Bronze", "minPoints": 0}, {"name": "Gold", "minPoints": 100}]
    })"),
                                        problems);
    BOOST_REQUIRE(problems.empty());
    return p;
}

domain::Card card() {
    domain::Card c;
    c.number = CardNumber("4111111111111111");
    c.serial = SerialNumber("abcDEF123-_");
    c.auth_token = AuthToken("0123456789abcdef0123456789abcdef");
    c.holder.name = "Zoë \"Z\" O'Neil \\ Ω";
    c.balance = 120;
    c.lifetime_points = 150;
    return c;
}

const json::object& field(const json::object& pass, const char* group, std::size_t i) {
    return pass.at("storeCard").at(group).as_array().at(i).as_object();
}
}  // namespace

BOOST_AUTO_TEST_SUITE(pass_json)

BOOST_AUTO_TEST_CASE(renders_a_store_card) {
    passkit::PassIdentity id{"pass.dev.cardsmith", "DEVTEAM123", "https://x.example/apple"};
    auto text = passkit::render_pass_json(id, program(), card());
    auto pass = json::parse(text).as_object();
    BOOST_TEST(pass.at("formatVersion").as_int64() == 1);
    BOOST_TEST(pass.at("passTypeIdentifier").as_string() == "pass.dev.cardsmith");
    BOOST_TEST(pass.at("teamIdentifier").as_string() == "DEVTEAM123");
    BOOST_TEST(pass.at("serialNumber").as_string() == "abcDEF123-_");
    BOOST_TEST(pass.at("authenticationToken").as_string().size() >= 16u);
    BOOST_TEST(pass.at("webServiceURL").as_string() == "https://x.example/apple");
    BOOST_TEST(pass.at("backgroundColor").as_string() == "rgb(59, 36, 24)");
    BOOST_TEST(pass.at("logoText").as_string() == "Bean There");
    const auto& barcode = pass.at("barcodes").as_array().at(0).as_object();
    BOOST_TEST(barcode.at("format").as_string() == "PKBarcodeFormatQR");
    BOOST_TEST(barcode.at("message").as_string() == "4111111111111111");
    BOOST_TEST(barcode.at("messageEncoding").as_string() == "iso-8859-1");
    BOOST_TEST(pass.at("barcode").at("message").as_string() == "4111111111111111");
    const auto& balance = field(pass, "headerFields", 0);
    BOOST_TEST(balance.at("value").as_int64() == 120);  // a number, not "120"
    BOOST_TEST(balance.at("changeMessage").as_string() == "You now have %@ points");
    BOOST_TEST(field(pass, "primaryFields", 0).at("value").as_string() == "10th coffee free");
    BOOST_TEST(field(pass, "auxiliaryFields", 0).at("value").as_string() == "Gold");
    BOOST_TEST(field(pass, "backFields", 0).at("value").as_string() == "No. 4111111111111111");
    BOOST_TEST(!pass.contains("relevantDate"));
}

BOOST_AUTO_TEST_CASE(placeholder_values_are_escaped_as_json) {
    passkit::PassIdentity id{"pass.a", "T", "https://x/apple"};
    auto text = passkit::render_pass_json(id, program(), card());
    // The raw text holds the JSON escapes; parsing gives the exact name back.
    BOOST_TEST(text.find(R"(Zo\u00eb)") == std::string::npos);  // UTF-8 kept as is
    BOOST_TEST(text.find(R"(\"Z\")") != std::string::npos);
    BOOST_TEST(text.find(R"(\\ )") != std::string::npos);
    auto pass = json::parse(text).as_object();
    BOOST_TEST(field(pass, "secondaryFields", 0).at("value").as_string() ==
               "Zoë \"Z\" O'Neil \\ Ω");
}

BOOST_AUTO_TEST_CASE(card_offer_overrides_default) {
    auto c = card();
    c.offer = "Double points today";
    auto pass = json::parse(passkit::render_pass_json({"p", "t", "u"}, program(), c)).as_object();
    BOOST_TEST(field(pass, "primaryFields", 0).at("value").as_string() == "Double points today");
}

// Found by fuzz_pass: an offer ending after 2262 (a campaign's expiresAt may be any later
// date) overflowed system_clock's nanoseconds while its end date was written.
BOOST_AUTO_TEST_CASE(offer_end_date_any_year) {
    auto c = card();
    c.offer = "Double points";
    for (auto [ms, date] : {std::pair{std::int64_t{1'767'225'600'000}, "2026-01-01T00:00:00Z"},
                            std::pair{std::int64_t{14'293'651'161'088}, "2422-12-12T18:39:21Z"},
                            std::pair{std::int64_t{253'402'300'799'000}, "9999-12-31T23:59:59Z"}}) {
        c.offer_expires_at = ms;
        auto pass =
            json::parse(passkit::render_pass_json({"p", "t", "u"}, program(), c)).as_object();
        const auto& back = pass.at("storeCard").at("backFields").as_array();
        BOOST_REQUIRE(back.size() >= 2u);
        BOOST_TEST(back.at(1).at("key").as_string() == "campaignOfferEnds");
        BOOST_TEST(back.at(1).at("value").as_string() == date);
    }
}

BOOST_AUTO_TEST_SUITE_END()
