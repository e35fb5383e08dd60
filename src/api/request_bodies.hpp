#pragma once
// The typed bodies of the card and ledger requests (CONTRACT §3) with every rule on their
// values: POST /api/v1/programs/{slug}/cards ({"holder", "balance"}) and POST
// /api/v1/cards/{cardNumber}/transactions ({"points" | "amount", "note"}). Pure functions,
// shared by the handlers, their unit tests and the fuzz targets; thread-safe.
#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "api/api_error.hpp"
#include "domain/design.hpp"
#include "domain/holder.hpp"

namespace cardsmith::api {

inline constexpr std::int64_t kMaxPointsPerTransaction = 1'000'000'000'000;  // 10^12

struct NewCardBody {
    domain::Holder holder;  // normalised; empty members when not given
    std::int64_t balance = 0;
};
[[nodiscard]] Result<NewCardBody> parse_new_card(const boost::json::object& body);

struct TransactionBody {
    std::int64_t points = 0;             // signed: negative redeems
    std::optional<std::int64_t> amount;  // when the points were earned by the rule
    std::string note;
};
// `rule` turns an amount into points.
[[nodiscard]] Result<TransactionBody> parse_transaction(const boost::json::object& body,
                                                        const domain::EarnRule& rule);

}  // namespace cardsmith::api
