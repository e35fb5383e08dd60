#pragma once
// Issuing a card: a fresh random card number (Luhn), an opaque serial and a 32-character
// authentication token, retried with new values on the (rare) collision.
#include "api/api_context.hpp"
#include "api/api_error.hpp"

namespace cardsmith::api {

inline constexpr std::int64_t kMaxBalance = 1'000'000'000'000;  // 10^12 points

// How the card came: its channel, the birthday the form asked, whether the contact was
// verified, and the invite it came through.
struct IssueOptions {
    std::string source = "api";
    std::string birthday;
    bool verified = false;
    std::optional<storage::NewReferral> referral;
};

// Callers pass a named IssueOptions (GCC 12 mishandles temporaries in co_await).
[[nodiscard]] net::awaitable<Result<domain::Card>> async_issue_card(ApiContext& ctx,
                                                                    const domain::Program& program,
                                                                    domain::Holder holder,
                                                                    std::int64_t balance,
                                                                    const IssueOptions& options);

}  // namespace cardsmith::api
