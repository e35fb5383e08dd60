#pragma once
// Domain entities as plain values: merchants, API-key principals, programs and cards.
// Storage fills them; handlers and the pass builder read them. Thread-safe as values.
#include <cstdint>
#include <optional>
#include <string>

#include "common/ids.hpp"
#include "domain/design.hpp"
#include "domain/enrollment.hpp"
#include "domain/holder.hpp"

namespace cardsmith::domain {

struct Merchant {
    MerchantId id;
    std::string name;
    std::int64_t created_at = 0;  // unix seconds
};

// Who is calling the API: the admin (everything) or one merchant (its own data only).
struct Principal {
    bool admin = false;
    MerchantId merchant;  // valid when !admin
    [[nodiscard]] bool may_touch(MerchantId owner) const { return admin || merchant == owner; }
};

struct Program {
    ProgramId id;
    MerchantId merchant;
    std::string slug;
    std::string name;
    std::string template_name;
    std::int64_t design_version = 1;
    Design design;
    std::int64_t created_at = 0;
    std::optional<IdentityId> identity;  // the merchant's own Apple identity; none: config's
    EnrollmentSettings enrollment;       // the /join form
    std::string time_zone = "UTC";       // IANA name: campaign schedules, quiet hours
};

// A merchant's own Apple pass identity (pass type id certificate and key), checked at
// upload. The private key is sealed with the server key; it never leaves the server.
struct Identity {
    IdentityId id;
    MerchantId merchant;
    std::string pass_type_id;
    std::string team_id;
    std::string certificate_pem;
    std::string key_sealed;  // SecretBox::seal of the PKCS#8 PEM key
    std::string subject;
    std::string fingerprint;      // SHA-256 of the certificate's DER, hex
    std::int64_t not_after = 0;   // unix seconds
    std::int64_t created_at = 0;  // unix seconds
    std::int64_t updated_at = 0;
    // SecretBox::seal of {"walletunion": key, ...} (the merchant's own relay API keys,
    // android-wallets.md §8.6) with "relay-keys:<id>"; empty: none.
    std::string relay_keys_sealed;
};

struct Card {
    CardId id;
    ProgramId program;
    CardNumber number;
    SerialNumber serial;
    AuthToken auth_token;
    Holder holder;
    std::int64_t balance = 0;
    std::int64_t lifetime_points = 0;
    std::string offer;                     // empty: the design's default offer
    std::string offer_header, offer_link;  // a campaign's, shown with it on the back
    std::int64_t offer_expires_at = 0;     // unix ms; 0: until replaced
    std::int64_t update_seq = 0;           // pass update tag (apple-wallet.md §2.3)
    std::int64_t modified_at = 0;          // unix seconds, Last-Modified of the pass
    std::int64_t created_at = 0;
    std::string source = "api";       // enrollment channel: "api", "join", or a /join?src= tag
    std::string referral_code;        // the card's invite code (/join/{slug}?ref=)
    bool verified = false;            // the holder proved the phone or email by a code
    std::int64_t design_version = 0;  // the design its pass carries (a rollout moves it)
};

// A slug is the program's public name in URLs: [a-z0-9-], 2-64 chars, no leading or
// trailing hyphen.
[[nodiscard]] bool is_valid_slug(std::string_view slug);

}  // namespace cardsmith::domain
