#include "apple/passkit/pass_json.hpp"

#include <boost/json.hpp>

namespace cardsmith::passkit {
namespace json = boost::json;
namespace {

constexpr std::array<std::string_view, 5> kGroupKeys{
    "headerFields", "primaryFields", "secondaryFields", "auxiliaryFields", "backFields"};

json::object render_field(const domain::PassField& f, const domain::PlaceholderValues& values,
                          const domain::Card& card) {
    json::object o;
    o["key"] = f.key;
    if (!f.label.empty()) {
        o["label"] = domain::render_placeholders(f.label, values);
    }
    // A value that is exactly one numeric placeholder becomes a JSON number, so Wallet
    // formats it per locale.
    if (f.value == "{{balance}}") {
        o["value"] = card.balance;
    } else if (f.value == "{{lifetimePoints}}") {
        o["value"] = card.lifetime_points;
    } else {
        o["value"] = domain::render_placeholders(f.value, values);
    }
    // An offer field notifies only when a campaign or the birthday job puts an offer on
    // the card: when the offer ends and the field goes back to the design's default, the
    // change is silent (no lock-screen message for the default text).
    bool default_offer = false;
    for (const auto& name : domain::placeholders_in(f.value)) {
        default_offer = default_offer || (name == "offer" && card.offer.empty());
    }
    if (!f.change_message.empty() && !default_offer) {
        o["changeMessage"] = f.change_message;
    }
    return o;
}

}  // namespace

domain::PlaceholderValues placeholder_values(const domain::Program& program,
                                             const domain::Card& card) {
    const auto& d = program.design;
    return {
        {"cardNumber", card.number.value()},
        {"balance", std::to_string(card.balance)},
        {"lifetimePoints", std::to_string(card.lifetime_points)},
        {"holder.name", card.holder.name},
        {"holder.phone", card.holder.phone},
        {"holder.email", card.holder.email},
        {"tier", domain::tier_for(d.tiers, card.lifetime_points)},
        {"offer", card.offer.empty() ? d.default_offer : card.offer},
        {"program.name", program.name},
    };
}

std::string render_pass_json(const PassIdentity& id, const domain::Program& program,
                             const domain::Card& card) {
    const auto& d = program.design;
    auto values = placeholder_values(program, card);
    json::object pass;
    pass["formatVersion"] = 1;
    pass["passTypeIdentifier"] = id.pass_type_id;
    pass["serialNumber"] = card.serial.value();
    pass["teamIdentifier"] = id.team_id;
    pass["organizationName"] = d.organization_name;
    pass["description"] = d.description;
    if (!d.logo_text.empty()) {
        pass["logoText"] = domain::render_placeholders(d.logo_text, values);
    }
    pass["backgroundColor"] = d.background.css();
    pass["foregroundColor"] = d.foreground.css();
    pass["labelColor"] = d.label.css();
    pass["webServiceURL"] = id.web_service_url;
    pass["authenticationToken"] = card.auth_token.value();
    json::object barcode{{"format", "PKBarcodeFormatQR"},
                         {"message", card.number.value()},
                         {"messageEncoding", "iso-8859-1"},
                         {"altText", card.number.value()}};
    pass["barcodes"] = json::array{barcode};
    pass["barcode"] = barcode;  // iOS 8 and Android wallet apps that read only the old key
    json::object store;
    for (std::size_t g = 0; g < kGroupKeys.size(); ++g) {
        const auto& fields = d.fields.at(g);
        if (fields.empty()) {
            continue;
        }
        json::array arr;
        for (const auto& f : fields) {
            arr.push_back(render_field(f, values, card));
        }
        store[kGroupKeys.at(g)] = std::move(arr);
    }
    pass["storeCard"] = std::move(store);
    return json::serialize(pass);
}

}  // namespace cardsmith::passkit
