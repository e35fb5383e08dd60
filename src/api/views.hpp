#pragma once
// JSON views of domain objects as the API returns them (CONTRACT §3 card object).
#include <boost/json.hpp>

#include "api/api_context.hpp"

namespace cardsmith::api {

// Unix seconds as ISO 8601 UTC ("2026-12-01T10:00:00Z").
[[nodiscard]] std::string iso(std::int64_t unix_seconds);
// Unix milliseconds as ISO 8601, or JSON null for 0 (not yet / never).
[[nodiscard]] boost::json::value iso_ms_or_null(std::int64_t unix_ms);

[[nodiscard]] boost::json::object program_view(const ApiContext& ctx, const domain::Program& p);
[[nodiscard]] boost::json::object card_view(const ApiContext& ctx, const domain::Program& p,
                                            const domain::Card& c);
// Absolute URLs of a card.
[[nodiscard]] std::string pkpass_url(const ApiContext& ctx, const domain::Card& c);
[[nodiscard]] std::string card_page_url(const ApiContext& ctx, const domain::Card& c);
// links.googleSave: /g/{serial}, or nullopt while Google Wallet is off.
[[nodiscard]] std::optional<std::string> google_save_url(const ApiContext& ctx,
                                                         const domain::Card& c);

}  // namespace cardsmith::api
