// Fuzz target: the JSON bodies of the API, each through the code its handler runs. The
// first byte picks the body; the rest is the body as sent:
//   0 PATCH /programs/{slug}/design    merge into the coffee design, parse, validate, lint
//   1 POST /programs/{slug}/campaigns  campaign_from_json, then lint_campaign and the
//                                      stored segment and options read back
//   2 a stored campaign row            segment_from_json, options_from_json
//   3 PUT /programs/{slug}/enrollment  enrollment_from_json (API), stored and read back
//   4 a stored enrollment setting      enrollment_from_json (storage)
//   5 a pending /join applicant        applicant_from_json
//   6 POST /cards/{n}/transactions     parse_transaction
//   7 POST /programs/{slug}/cards      parse_new_card
// API bodies go through parse_json_object first, as every handler does. Properties: what
// was accepted is written back and read again to the same value, and stays in range.
#include <boost/json.hpp>

#include "api/join_forms.hpp"
#include "api/request_bodies.hpp"
#include "api/request_helpers.hpp"
#include "domain/campaign.hpp"
#include "domain/enrollment.hpp"
#include "domain/lint.hpp"
#include "domain/time_zone.hpp"
#include "fuzz_support.hpp"

namespace cardsmith::fuzz {
namespace {
namespace json = boost::json;

constexpr std::int64_t kNow = 1'767'225'600;  // 2026-01-01T00:00:00Z

std::optional<json::object> api_body(std::string_view text) {
    http_server::Request req{http::verb::post, "/", 11};
    req.set(http::field::content_type, "application/json");
    req.body() = std::string(text);
    auto body = api::parse_json_object(req);
    if (!body) {
        (void)api::fail(body.error(), req);
        return std::nullopt;
    }
    return std::move(*body);
}

void design_patch(const json::object& patch) {
    const auto& base = coffee_design();
    const auto merged = domain::merge_design_patch(domain::design_to_json(base), patch);
    std::vector<domain::Problem> problems;
    const auto design = domain::design_from_json(merged, problems);
    if (!problems.empty()) {
        return;
    }
    // Written back (as stored) and read again: the same design, still without problems.
    const auto stored = domain::design_to_json(design);
    const auto again = domain::design_from_json(stored, problems);
    FUZZ_EXPECT(problems.empty());
    FUZZ_EXPECT(json::serialize(domain::design_to_json(again)) == json::serialize(stored));
    domain::validate_design(design, problems);
    if (!problems.empty()) {
        (void)api::invalid(problems);
        return;
    }
    const auto report = domain::lint_design(&base, design);
    (void)domain::lint_to_json(report);
    (void)domain::lint_design(nullptr, design);
}

const domain::TimeZone& zone(std::uint8_t which) {
    static const auto utc = domain::find_time_zone("UTC");
    static const auto berlin = domain::find_time_zone("Europe/Berlin");
    static const auto sydney = domain::find_time_zone("Australia/Sydney");
    const auto& z = which % 3 == 0 ? utc : which % 3 == 1 ? berlin : sydney;
    FUZZ_EXPECT(z != nullptr);
    return *z;
}

void campaign(const json::object& body, std::uint8_t salt) {
    const auto& design = coffee_design();
    const auto& tz = zone(salt);
    const std::int64_t now = kNow + std::int64_t{salt} * 3607;
    std::vector<domain::Problem> problems;
    auto r = domain::campaign_from_json(body, design, tz, now, problems);
    if (!problems.empty()) {
        (void)api::invalid(problems);
        return;
    }
    FUZZ_EXPECT(r.send_at >= now);
    FUZZ_EXPECT(r.options.expires_at > r.send_at);
    (void)domain::lint_to_json(domain::lint_campaign(design, r.header, r.message));
    // As the campaign runner reads the stored row back.
    const auto segment = domain::segment_from_json(domain::segment_to_json(r.segment));
    FUZZ_EXPECT(json::serialize(domain::segment_to_json(segment)) ==
                json::serialize(domain::segment_to_json(r.segment)));
    const auto options = domain::options_from_json(domain::options_to_json(r.options));
    FUZZ_EXPECT(json::serialize(domain::options_to_json(options)) ==
                json::serialize(domain::options_to_json(r.options)));
    FUZZ_EXPECT(domain::next_send_time(r.options.quiet, tz, r.send_at) >= r.send_at);
    for (const auto& [lo, hi] : domain::tier_ranges(design.tiers, r.segment.tiers)) {
        FUZZ_EXPECT(lo < hi);
    }
    for (const auto* day : {&r.segment.enrolled_from, &r.segment.enrolled_to}) {
        if (!day->empty()) {
            FUZZ_EXPECT(domain::local_day_start(*day, tz).has_value());
        }
    }
}

void stored_campaign(const json::object& o, std::uint8_t salt) {
    const auto segment = domain::segment_from_json(o);
    (void)domain::segment_to_json(segment);
    const auto options = domain::options_from_json(o);
    (void)domain::options_to_json(options);
    (void)domain::next_send_time(options.quiet, zone(salt), kNow);
    (void)domain::tier_ranges(coffee_design().tiers, segment.tiers);
}

void enrollment(const json::object& body) {
    std::vector<domain::Problem> problems;
    auto s = domain::enrollment_from_json(body, problems, domain::SettingsJson::api, {});
    if (!problems.empty()) {
        return;
    }
    // The handler seals a new webhook secret before storing the settings.
    if (!s.verification.webhook_secret.empty()) {
        s.verification.webhook_secret_sealed = "sealed:" + s.verification.webhook_secret;
        s.verification.webhook_secret.clear();
    }
    const auto stored = domain::enrollment_to_json(s, domain::SettingsJson::storage);
    const auto read = domain::enrollment_from_json(stored, problems, domain::SettingsJson::storage);
    FUZZ_EXPECT(problems.empty());
    FUZZ_EXPECT(json::serialize(domain::enrollment_to_json(read, domain::SettingsJson::storage)) ==
                json::serialize(stored));
    // GET shows the settings; a client may send them back as they are.
    const auto shown = domain::enrollment_to_json(read, domain::SettingsJson::api);
    (void)domain::enrollment_from_json(shown, problems, domain::SettingsJson::api,
                                       read.verification.webhook_secret_sealed);
    FUZZ_EXPECT(problems.empty());
}

void stored_enrollment(std::string_view text) {
    json::error_code ec;
    auto v = json::parse(text, ec);
    if (ec) {
        return;
    }
    std::vector<domain::Problem> problems;
    auto s = domain::enrollment_from_json(v, problems, domain::SettingsJson::storage);
    (void)domain::enrollment_to_json(s, domain::SettingsJson::api);
}

void applicant(std::string_view text) {
    auto a = api::applicant_from_json(text);
    if (a) {
        auto again = api::applicant_from_json(api::applicant_to_json(*a));
        FUZZ_EXPECT(again.has_value());
        FUZZ_EXPECT(api::applicant_to_json(*again) == api::applicant_to_json(*a));
    }
}

void transaction(const json::object& body, std::uint8_t salt) {
    // The starter templates' earn rules and an extreme one validate_design allows.
    static const domain::EarnRule kRules[] = {
        coffee_design().earn_rule, beauty_design().earn_rule, {1'000'000, 1}, {0, 1'000'000'000}};
    const auto& rule = kRules[salt % 4];
    auto t = api::parse_transaction(body, rule);
    if (!t) {
        return;
    }
    FUZZ_EXPECT(t->points >= -api::kMaxPointsPerTransaction &&
                t->points <= api::kMaxPointsPerTransaction);
    FUZZ_EXPECT(t->amount.has_value() || t->points != 0);
    FUZZ_EXPECT(t->note.size() <= 500);
}

void new_card(const json::object& body) {
    auto c = api::parse_new_card(body);
    if (!c) {
        return;
    }
    FUZZ_EXPECT(c->balance >= 0);
    FUZZ_EXPECT(c->holder.phone.empty() || c->holder.phone.front() == '+');
}

}  // namespace
}  // namespace cardsmith::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace cardsmith::fuzz;
    if (size < 2) {
        return 0;
    }
    const std::uint8_t kind = data[0] % 8;
    const std::uint8_t salt = static_cast<std::uint8_t>(data[0] / 8);
    const std::string_view text = text_of(data + 1, size - 1);
    if (kind == 4) {
        stored_enrollment(text);
        return 0;
    }
    if (kind == 5) {
        applicant(text);
        return 0;
    }
    auto body = api_body(text);
    if (!body) {
        return 0;
    }
    switch (kind) {
        case 0:
            design_patch(*body);
            break;
        case 1:
            campaign(*body, salt);
            break;
        case 2:
            stored_campaign(*body, salt);
            break;
        case 3:
            enrollment(*body);
            break;
        case 6:
            transaction(*body, salt);
            break;
        default:
            new_card(*body);
            break;
    }
    return 0;
}
