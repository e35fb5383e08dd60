// Fuzz target: pass building from arbitrary designs. The input is a card's numbers (24
// bytes: balance, lifetime points, offer end, each reduced to what storage can hold), then
// NUL-separated texts: the design JSON, the holder's name, phone and e-mail, a campaign's
// message, header and link, and the program name. A design is used as the API would store
// it (parsed and validated), holder data as the API normalises it, a campaign's texts only
// when they came as JSON and campaign_from_json and lint_campaign let the campaign through. Then
// everything a card becomes is built: pass.json, the signed .pkpass (with the coffee template's
// images and a dev identity made once at start-up) and Google's class, object and patch.
// Properties: every JSON document is valid JSON (so valid UTF-8), the .pkpass unzips to that
// pass.json with a manifest naming its hash, and the signature verifies.
#include <boost/json.hpp>

#include "apple/passkit/package.hpp"
#include "apple/passkit/pass_json.hpp"
#include "crypto/hash.hpp"
#include "dev_pki.hpp"
#include "domain/campaign.hpp"
#include "domain/lint.hpp"
#include "domain/time_zone.hpp"
#include "fuzz_support.hpp"
#include "google/loyalty.hpp"
#include "pkpass_reader.hpp"

namespace cardsmith::fuzz {
namespace {
namespace json = boost::json;

constexpr std::int64_t kMaxStoredPoints = 1'000'000'000'000'000;  // storage's 10^15
constexpr std::int64_t kLastInstantMs = 253'402'300'799'000;      // 9999-12-31T23:59:59Z
constexpr std::int64_t kNow = 1'767'225'600;                      // 2026-01-01T00:00:00Z

struct World {
    test::DevPki pki;
    passkit::PassIdentity identity{pki.options.pass_type_id, pki.options.team_id,
                                   "https://cards.example.com/apple"};
    passkit::DesignAssets assets =
        passkit::prepare_design_assets(starter_template("coffee").images);
};

World& world() {
    static World w;
    return w;
}

std::int64_t number_at(const std::uint8_t* p, std::int64_t max) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) {
        v = (v << 8) | p[i];
    }
    return static_cast<std::int64_t>(v % static_cast<std::uint64_t>(max + 1));
}

std::vector<std::string_view> split(std::string_view text) {
    std::vector<std::string_view> parts;
    for (;;) {
        const auto nul = text.find('\0');
        parts.push_back(text.substr(0, nul));
        if (nul == std::string_view::npos) {
            return parts;
        }
        text.remove_prefix(nul + 1);
    }
}

void expect_json(const std::string& text) {
    json::error_code ec;
    (void)json::parse(text, ec);
    if (ec) {
        std::fprintf(stderr, "not JSON (%s): %s\n", ec.message().c_str(), text.c_str());
    }
    FUZZ_EXPECT(!ec);
}

// Text as the API receives it: a JSON string, so valid UTF-8 (empty otherwise).
std::string via_json(const std::string& text) {
    json::error_code ec;
    const auto v = json::parse(json::serialize(json::value(text)), ec);
    return ec ? std::string() : std::string(v.as_string());
}

// A campaign's texts as they reach a card: sent as JSON (so valid UTF-8), accepted by
// campaign_from_json and by lint_campaign.
std::optional<domain::CampaignRequest> campaign_offer(const domain::Design& design,
                                                      const std::string& message,
                                                      const std::string& header,
                                                      const std::string& link) {
    if (message.empty()) {
        return std::nullopt;
    }
    json::object body{{"message", via_json(message)}};
    if (!header.empty()) {
        body["header"] = via_json(header);
    }
    if (!link.empty()) {
        body["link"] = via_json(link);
    }
    static const auto utc = domain::find_time_zone("UTC");
    std::vector<domain::Problem> problems;
    auto request = domain::campaign_from_json(body, design, *utc, kNow, problems);
    if (!problems.empty() || !domain::lint_campaign(design, request.header, request.message).ok()) {
        return std::nullopt;
    }
    return request;
}

void build(const domain::Program& program, const domain::Card& card) {
    auto& w = world();
    const std::string pass_json = passkit::render_pass_json(w.identity, program, card);
    expect_json(pass_json);
    const std::string manifest = passkit::build_manifest(w.assets, pass_json);
    expect_json(manifest);
    const std::string pkpass = passkit::build_pkpass(w.assets, pass_json, *w.pki.signer);
    const auto files = test::unzip(pkpass);
    FUZZ_EXPECT(files.count("pass.json") == 1 && files.at("pass.json") == pass_json);
    FUZZ_EXPECT(files.count("manifest.json") == 1);
    const auto& shipped = files.at("manifest.json");
    FUZZ_EXPECT(shipped.find(crypto::sha1_hex(pass_json)) != std::string::npos);
    FUZZ_EXPECT(files.count("signature") == 1);
    FUZZ_EXPECT(test::verify_signature(files.at("signature"), shipped, w.pki.root()).verified);

    const google::ClassLinks links{"https://cards.example.com",
                                   "https://cards.example.com/google/callback"};
    expect_json(json::serialize(google::class_json("3388000000022222228", program, links)));
    expect_json(json::serialize(google::object_json("3388000000022222228", program, card)));
    expect_json(json::serialize(google::object_patch_json(program, card, true)));
}

}  // namespace
}  // namespace cardsmith::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace cardsmith;
    using namespace cardsmith::fuzz;
    if (size < 24) {
        return 0;
    }
    const auto parts = split(text_of(data + 24, size - 24));
    const auto part = [&parts](std::size_t i) {
        return i < parts.size() ? std::string(parts[i]) : std::string();
    };
    boost::json::error_code ec;
    const auto design_json = boost::json::parse(parts[0], ec);
    if (ec) {
        return 0;
    }
    domain::Program program;
    program.id = ProgramId(7);
    program.slug = "bean-there";
    std::vector<domain::Problem> problems;
    program.design = domain::design_from_json(design_json, problems);
    if (problems.empty()) {
        domain::validate_design(program.design, problems);
    }
    if (!problems.empty()) {
        return 0;
    }
    const std::string name = via_json(part(7));
    program.name =
        !name.empty() && name.size() <= 100 && domain::is_clean_text(name) ? name : "Bean There";
    domain::Card card;
    card.number = CardNumber("4000123412341234");
    card.serial = SerialNumber("3f1c9a7e5b2d4c6a8e0f1b3d5a7c9e1f");
    card.auth_token = AuthToken("a1b2c3d4e5f60718293a4b5c6d7e8f90");
    card.balance = number_at(data, kMaxStoredPoints);
    card.lifetime_points = number_at(data + 8, kMaxStoredPoints);
    card.holder.name = domain::normalize_name(via_json(part(1))).value_or("");
    card.holder.phone = domain::normalize_phone(via_json(part(2))).value_or("");
    card.holder.email = domain::normalize_email(via_json(part(3))).value_or("");
    if (auto offer = campaign_offer(program.design, part(4), part(5), part(6))) {
        card.offer = offer->message;
        card.offer_header = offer->header;
        card.offer_link = offer->link;
        card.offer_expires_at = number_at(data + 16, kLastInstantMs);
    }
    build(program, card);
    return 0;
}
