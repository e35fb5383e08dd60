#include "google/loyalty.hpp"

#include <boost/json.hpp>

namespace cardsmith::google {
namespace json = boost::json;
namespace {

bool ru(const domain::Program& p) {
    const auto& lang = p.enrollment.language.empty() ? p.design.locale : p.enrollment.language;
    return lang == "ru";
}

json::object localized(const domain::Program& p, std::string_view text) {
    return {{"defaultValue", {{"language", ru(p) ? "ru" : "en"}, {"value", text}}}};
}

json::object image(const domain::Program& p, const std::string& url, std::string_view what) {
    return {{"sourceUri", {{"uri", url}}}, {"contentDescription", localized(p, what)}};
}

std::string image_url(const ClassLinks& links, const domain::Program& p, std::string_view name) {
    // Versioned: a redesign gives new URLs, so Google fetches the new images.
    return links.public_url + "/images/" + p.slug + "/" + std::string(name) +
           ".png?v=" + std::to_string(p.design_version);
}

std::string grouped(std::string_view number) {
    std::string out;
    for (std::size_t i = 0; i < number.size(); ++i) {
        if (i > 0 && i % 4 == 0) out += ' ';
        out += number[i];
    }
    return out;
}

json::object points(const domain::Program& p, std::int64_t balance) {
    // int32 in Google's model; beyond it the balance is shown as text.
    json::object value;
    if (balance <= 2'147'483'647) {
        value["int"] = balance;
    } else {
        value["string"] = std::to_string(balance);
    }
    return {{"label", ru(p) ? "Баллы" : "Points"}, {"balance", std::move(value)}};
}

json::array text_modules(const domain::Program& p, const domain::Card& c) {
    json::array modules;
    const std::string offer = c.offer.empty() ? p.design.default_offer : c.offer;
    if (!offer.empty()) {
        modules.push_back(json::object{{"id", "offer"},
                                       {"header", ru(p) ? "Предложение" : "Offer"},
                                       {"body", offer.substr(0, 500)}});
    }
    return modules;
}

}  // namespace

std::string resource_id(std::string_view issuer_id, std::string_view suffix) {
    std::string out(issuer_id);
    out += '.';
    for (char ch : suffix) {
        const auto c = static_cast<unsigned char>(ch);
        out += std::isalnum(c) || ch == '.' || ch == '_' || ch == '-' ? ch : '_';
    }
    return out;
}

bool is_resource_id(std::string_view id) {
    const auto dot = id.find('.');
    if (dot == 0 || dot == std::string_view::npos || dot + 1 == id.size()) {
        return false;
    }
    for (std::size_t i = 0; i < id.size(); ++i) {
        const auto c = static_cast<unsigned char>(id[i]);
        if (i < dot ? !std::isdigit(c)
                    : !(std::isalnum(c) || id[i] == '.' || id[i] == '_' || id[i] == '-')) {
            return false;
        }
    }
    return true;
}

std::string class_id(std::string_view issuer_id, const domain::Program& p) {
    return resource_id(issuer_id, "program-" + p.slug);
}

std::string object_id(std::string_view issuer_id, const domain::Card& c) {
    // The card number: already on the card, unique on the server, never a name or e-mail.
    return resource_id(issuer_id, "card-" + c.number.value());
}

json::object class_json(std::string_view issuer_id, const domain::Program& p,
                        const ClassLinks& links) {
    const auto& d = p.design;
    const std::string issuer = d.organization_name.empty() ? p.name : d.organization_name;
    json::object out{
        {"id", class_id(issuer_id, p)},
        {"issuerName", issuer.substr(0, 60)},
        {"programName", p.name.substr(0, 60)},
        {"programLogo", image(p, image_url(links, p, "icon@3x"), p.name + " logo")},
        {"heroImage", image(p, image_url(links, p, "strip@3x"), p.name)},
        {"hexBackgroundColor", d.background.hex()},
        {"reviewStatus", "UNDER_REVIEW"},
        {"multipleDevicesAndHoldersAllowedStatus", "ONE_USER_ALL_DEVICES"},
        {"accountIdLabel", ru(p) ? "Номер карты" : "Card no."},
        {"accountNameLabel", ru(p) ? "Участник" : "Member"},
    };
    json::array modules;
    if (!d.description.empty()) {
        modules.push_back(json::object{{"id", "about"},
                                       {"header", ru(p) ? "О программе" : "About"},
                                       {"body", d.description.substr(0, 500)}});
    }
    out["textModulesData"] = std::move(modules);
    json::array uris{json::object{{"uri", links.public_url + "/join/" + p.slug},
                                  {"description", ru(p) ? "Программа" : "Program"},
                                  {"id", "program"}}};
    if (!p.enrollment.terms_url.empty()) {
        uris.push_back(json::object{{"uri", p.enrollment.terms_url},
                                    {"description", ru(p) ? "Условия" : "Terms"},
                                    {"id", "terms"}});
    }
    out["linksModuleData"] = {{"uris", std::move(uris)}};
    if (!links.callback_url.empty()) {
        out["callbackOptions"] = {{"url", links.callback_url}};
    }
    return out;
}

json::object object_json(std::string_view issuer_id, const domain::Program& p,
                         const domain::Card& c) {
    json::object out{{"id", object_id(issuer_id, c)},
                     {"classId", class_id(issuer_id, p)},
                     {"state", "ACTIVE"},
                     {"accountId", c.number.value()},
                     {"barcode",
                      {{"type", "QR_CODE"},
                       {"value", c.number.value()},
                       {"alternateText", grouped(c.number.value())}}}};
    for (auto& [k, v] : object_patch_json(p, c, false)) {
        out[k] = v;
    }
    return out;
}

json::object object_patch_json(const domain::Program& p, const domain::Card& c, bool notify) {
    json::object out{{"loyaltyPoints", points(p, c.balance)},
                     {"textModulesData", text_modules(p, c)}};
    if (!c.holder.name.empty()) {
        out["accountName"] = c.holder.name;
    }
    if (const auto tier = domain::tier_for(p.design.tiers, c.lifetime_points); !tier.empty()) {
        json::object balance{{"string", tier}};
        out["secondaryLoyaltyPoints"] = {{"label", ru(p) ? "Уровень" : "Tier"},
                                         {"balance", std::move(balance)}};
    }
    if (notify) {
        out["notifyPreference"] = "NOTIFY_ON_UPDATE";  // per request, not stored (§6)
    }
    return out;
}

}  // namespace cardsmith::google
