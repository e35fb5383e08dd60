#include "api/views.hpp"

#include "common/time_format.hpp"

namespace cardsmith::api {
namespace json = boost::json;
std::string iso(std::int64_t secs) { return format_iso8601_unix(secs); }
json::value iso_ms_or_null(std::int64_t ms) {
    return ms == 0 ? json::value(nullptr) : json::value(format_iso8601_unix_ms(ms));
}
namespace {
json::value or_null(const std::string& s) {
    return s.empty() ? json::value(nullptr) : json::value(s);
}
}  // namespace

std::string pkpass_url(const ApiContext& ctx, const domain::Card& c) {
    return ctx.public_url + "/p/" + c.serial.value() + ".pkpass";
}

std::optional<std::string> google_save_url(const ApiContext& ctx, const domain::Card& c) {
    if (ctx.google == nullptr) {
        return std::nullopt;
    }
    return ctx.public_url + "/g/" + c.serial.value();
}

std::string card_page_url(const ApiContext& ctx, const domain::Card& c) {
    return ctx.public_url + "/c/" + c.serial.value();
}

json::object program_view(const ApiContext& ctx, const domain::Program& p) {
    return {
        {"id", p.id.value()},
        {"slug", p.slug},
        {"name", p.name},
        {"merchant", p.merchant.value()},
        {"template", p.template_name},
        {"designVersion", p.design_version},
        {"design", domain::design_to_json(p.design)},
        {"createdAt", iso(p.created_at)},
        {"identity", p.identity ? json::value(p.identity->value()) : json::value(nullptr)},
        {"enrollment", domain::enrollment_to_json(p.enrollment)},
        {"timeZone", p.time_zone},
        {"links", {{"join", ctx.public_url + "/join/" + p.slug}}},
    };
}

json::object card_view(const ApiContext& ctx, const domain::Program& p, const domain::Card& c) {
    std::string tier = domain::tier_for(p.design.tiers, c.lifetime_points);
    return {
        {"cardNumber", c.number.value()},
        {"serial", c.serial.value()},
        {"program", p.slug},
        {"holder",
         {{"name", or_null(c.holder.name)},
          {"phone", or_null(c.holder.phone)},
          {"email", or_null(c.holder.email)}}},
        {"balance", c.balance},
        {"lifetimePoints", c.lifetime_points},
        {"tier", or_null(tier)},
        {"source", c.source},
        {"offer", or_null(c.offer)},
        {"verified", c.verified},
        {"referralCode", or_null(c.referral_code)},
        {"createdAt", iso(c.created_at)},
        {"updatedAt", iso(c.modified_at)},
        {"links",
         {{"pkpass", pkpass_url(ctx, c)},
          {"page", card_page_url(ctx, c)},
          {"invite",
           p.enrollment.referrals_on() && !c.referral_code.empty()
               ? json::value(ctx.public_url + "/join/" + p.slug + "?ref=" + c.referral_code)
               : json::value(nullptr)},
          // A short link of ours: it makes the object at Google, then redirects to a
          // freshly signed save JWT (null while Google Wallet is off).
          {"googleSave", google_save_url(ctx, c) ? json::value(*google_save_url(ctx, c))
                                                 : json::value(nullptr)}}},
    };
}

}  // namespace cardsmith::api
