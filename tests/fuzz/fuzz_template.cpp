// Fuzz target: template and design validation. The input is a template.json (as
// check-template and start-up read a template folder: parse_template_json), or, when it
// starts with the PNG signature, an image as uploaded to PUT /programs/{slug}/images/{name}
// (check_image for every name). An accepted design is linted as a new program and as a
// redesign of, and into, each starter template, its lock-screen texts linted as a campaign,
// its placeholders rendered, and it is written back and read again to the same design.
#include <boost/json.hpp>

#include "domain/images.hpp"
#include "domain/lint.hpp"
#include "fuzz_support.hpp"

namespace cardsmith::fuzz {
namespace {
namespace json = boost::json;

void image(std::string_view bytes) {
    const auto size = domain::png_size(bytes);
    for (const auto& name : domain::all_image_names()) {
        if (domain::check_image(name, bytes).empty()) {
            FUZZ_EXPECT(size.has_value() && bytes.size() <= domain::kMaxImageBytes);
        }
    }
}

void design(std::string_view text) {
    std::vector<domain::Problem> problems;
    const auto d = domain::parse_template_json(text, problems);
    if (!problems.empty()) {
        return;
    }
    const auto stored = domain::design_to_json(d);
    const auto again = domain::design_from_json(stored, problems);
    FUZZ_EXPECT(problems.empty());
    domain::validate_design(again, problems);
    FUZZ_EXPECT(problems.empty());
    FUZZ_EXPECT(json::serialize(domain::design_to_json(again)) == json::serialize(stored));

    (void)domain::lint_to_json(domain::lint_design(nullptr, d));
    for (const auto* other : {&coffee_design(), &beauty_design()}) {
        (void)domain::lint_to_json(domain::lint_design(other, d));
        (void)domain::lint_to_json(domain::lint_design(&d, *other));
    }
    (void)domain::lint_design(&d, d);
    (void)domain::lint_campaign(d, d.logo_text, d.default_offer);
    (void)domain::lint_campaign(d, d.name, d.description);

    const domain::PlaceholderValues values{{"balance", "120"},
                                           {"cardNumber", "4000123412341234"},
                                           {"holder.name", "Alex Sample"},
                                           {"offer", d.default_offer},
                                           {"tier", domain::tier_for(d.tiers, 480)}};
    for (const auto& group : d.fields) {
        for (const auto& f : group) {
            (void)domain::render_placeholders(f.value, values);
            (void)domain::placeholders_in(f.label);
        }
    }
}

}  // namespace
}  // namespace cardsmith::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace cardsmith::fuzz;
    const std::string_view text = text_of(data, size);
    if (text.starts_with("\x89PNG")) {
        image(text);
    } else {
        design(text);
    }
    return 0;
}
