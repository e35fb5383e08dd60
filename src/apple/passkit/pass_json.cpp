#include "apple/passkit/pass_json.hpp"

#include <boost/json.hpp>

#include "common/time_format.hpp"

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

bool has_key(const domain::Design& d, std::string_view key) {
    for (const auto& group : d.fields) {
        for (const auto& f : group) {
            if (f.key == key) {
                return true;
            }
        }
    }
    return false;
}

// A campaign's offer stays on the back of the pass until it ends, with its header, link
// and end date (Wallet formats the date in the phone's locale and time zone). No change
// message: the front field carrying {{offer}} is the one that notifies. Skipped when the
// design already uses the key (a pass with two fields of one key does not install).
void add_offer_back_fields(const domain::Design& d, const domain::Card& card, json::array& back) {
    if (card.offer.empty() || has_key(d, "campaignOffer")) {
        return;
    }
    json::object offer{{"key", "campaignOffer"},
                       {"label", card.offer_header.empty() ? "Offer" : card.offer_header}};
    // Back fields' data detectors make the link tappable (apple-wallet.md §1.3).
    offer["value"] = card.offer_link.empty() ? card.offer : card.offer + "\n" + card.offer_link;
    back.push_back(std::move(offer));
    if (card.offer_expires_at > 0 && !has_key(d, "campaignOfferEnds")) {
        back.push_back(json::object{{"key", "campaignOfferEnds"},
                                    {"label", "Valid until"},
                                    {"value", format_iso8601_unix_ms(card.offer_expires_at)},
                                    {"dateStyle", "PKDateStyleMedium"},
                                    {"timeStyle", "PKDateStyleShort"}});
    }
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
        json::array arr;
        if (kGroupKeys.at(g) == "backFields") {
            add_offer_back_fields(d, card, arr);
        }
        for (const auto& f : fields) {
            arr.push_back(render_field(f, values, card));
        }
        if (!arr.empty()) {
            store[kGroupKeys.at(g)] = std::move(arr);
        }
    }
    pass["storeCard"] = std::move(store);
    return json::serialize(pass);
}

}  // namespace cardsmith::passkit
