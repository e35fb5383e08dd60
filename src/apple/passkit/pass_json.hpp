#pragma once
// Renders a card's pass.json (storeCard) from its program's design (apple-wallet.md
// §1.2-1.4): identifiers, colours as rgb(), fields with placeholders filled in, a QR
// barcode of the card number, webServiceURL and authenticationToken. Pure; thread-safe.
#include <string>

#include "domain/models.hpp"

namespace cardsmith::passkit {

struct PassIdentity {
    std::string pass_type_id;
    std::string team_id;
    std::string web_service_url;  // public URL + our path prefix, no trailing slash
};

[[nodiscard]] domain::PlaceholderValues placeholder_values(const domain::Program& program,
                                                           const domain::Card& card);
[[nodiscard]] std::string render_pass_json(const PassIdentity& identity,
                                           const domain::Program& program,
                                           const domain::Card& card);

}  // namespace cardsmith::passkit
