#pragma once
// Issuing a card: a fresh random card number (Luhn), an opaque serial and a 32-character
// authentication token, retried with new values on the (rare) collision.
#include "api/api_context.hpp"
#include "api/api_error.hpp"

namespace cardsmith::api {

inline constexpr std::int64_t kMaxBalance = 1'000'000'000'000;  // 10^12 points

[[nodiscard]] net::awaitable<Result<domain::Card>> async_issue_card(
    ApiContext& ctx, const domain::Program& program, domain::Holder holder, std::int64_t balance,
    std::string_view source = "api", std::string_view birthday = {});

}  // namespace cardsmith::api
