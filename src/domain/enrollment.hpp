#pragma once
// How a program's enrollment form (/join/{slug}) asks for personal data: which fields it
// shows (off, optional, required), the merchant's terms, and the page language.
#include <boost/json/fwd.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "domain/design.hpp"

namespace cardsmith::domain {

enum class FieldMode { off, optional, required };

// Verification of the phone or email by a one-time code before the card is issued.
enum class VerifyChannel { off, phone, email };
enum class CodeProvider {
    log,      // development: the code goes to the server log
    webhook,  // POSTs signed JSON to the merchant's SMS/email gateway
};

struct Verification {
    VerifyChannel channel = VerifyChannel::off;
    CodeProvider provider = CodeProvider::log;
    std::string webhook_url;
    // HMAC key of the webhook's signature, sealed with the server key (SecretBox) before
    // it is stored; never shown by the API.
    std::string webhook_secret_sealed;
    // Only in an API request body, in the clear, until the handler seals it.
    std::string webhook_secret;
    int code_ttl_seconds = 600;
};

struct EnrollmentSettings {
    FieldMode name = FieldMode::required;
    FieldMode phone = FieldMode::optional;
    FieldMode email = FieldMode::optional;
    FieldMode birthday = FieldMode::off;
    std::string terms_url;  // https:// link shown by the consent checkbox; empty: none
    std::string language;   // "en" or "ru"; empty: the design's locale
    Verification verification;
    // Referral bonuses in points (0: none): the card whose link brought a new person, and
    // the new person's card.
    std::int64_t referrer_bonus = 0;
    std::int64_t friend_bonus = 0;
    // Birthday: points and the card's offer text, once a year (needs the birthday field).
    std::int64_t birthday_bonus = 0;
    std::string birthday_offer;

    [[nodiscard]] bool referrals_on() const { return referrer_bonus > 0 || friend_bonus > 0; }
    [[nodiscard]] bool birthday_on() const { return birthday_bonus > 0 || !birthday_offer.empty(); }
};

// Where settings JSON comes from or goes: the API (secrets in the clear on the way in,
// only "webhookSecretSet" on the way out) or the database (the sealed secret).
enum class SettingsJson { api, storage };

[[nodiscard]] std::string_view to_string(FieldMode mode);
[[nodiscard]] std::string_view to_string(VerifyChannel channel);
[[nodiscard]] boost::json::object enrollment_to_json(const EnrollmentSettings& s,
                                                     SettingsJson to = SettingsJson::api);
// Parses and checks; problems name the JSON field. Missing keys keep their defaults. From
// the API a webhook provider needs "webhookSecret" unless `stored_secret` is set (the
// program's current sealed secret, kept).
[[nodiscard]] EnrollmentSettings enrollment_from_json(const boost::json::value& json,
                                                      std::vector<Problem>& problems,
                                                      SettingsJson from = SettingsJson::api,
                                                      std::string_view stored_secret = {});

// "YYYY-MM-DD" with a real date between 1900 and today's year; normalised as given.
[[nodiscard]] bool is_valid_birthday(std::string_view text, int current_year);

}  // namespace cardsmith::domain
