#pragma once
// A program as a Google Wallet LoyaltyClass and a card as a LoyaltyObject
// (google-wallet.md §2-3), built from the same design as the Apple pass. Pure functions.
// Arrays (text modules, links) are always sent whole: a PATCH replaces them.
#include <boost/json/object.hpp>
#include <string>
#include <string_view>

#include "domain/models.hpp"

namespace cardsmith::google {

// "<issuer>.<suffix>" with the suffix cut to Google's alphabet (letters, digits, . _ -).
[[nodiscard]] std::string resource_id(std::string_view issuer_id, std::string_view suffix);
// True for ^[0-9]+\.[A-Za-z0-9._-]+$ (pitfall 3).
[[nodiscard]] bool is_resource_id(std::string_view id);

[[nodiscard]] std::string class_id(std::string_view issuer_id, const domain::Program& p);
[[nodiscard]] std::string object_id(std::string_view issuer_id, const domain::Card& c);

struct ClassLinks {
    std::string public_url;    // images and the join page hang off it
    std::string callback_url;  // callbackOptions.url (saves and deletions); empty: none
};

// The class: names, logo and hero image from our public image URLs (versioned by the
// design version so Google fetches a redesign), colour, labels, text modules, links.
// Always with reviewStatus UNDER_REVIEW (pitfall 4).
[[nodiscard]] boost::json::object class_json(std::string_view issuer_id, const domain::Program& p,
                                             const ClassLinks& links);
// The object: account id (card number), holder, balance, tier, QR code of the card
// number, offer, state ACTIVE.
[[nodiscard]] boost::json::object object_json(std::string_view issuer_id, const domain::Program& p,
                                              const domain::Card& c);
// The fields that change with the balance (for PATCH), with or without a notification.
[[nodiscard]] boost::json::object object_patch_json(const domain::Program& p, const domain::Card& c,
                                                    bool notify);

}  // namespace cardsmith::google
