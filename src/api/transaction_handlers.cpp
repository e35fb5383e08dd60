// POST/GET /api/v1/cards/{cardNumber}/transactions: the points ledger (CONTRACT §3).
#include <boost/json.hpp>

#include "api/card_issuer.hpp"
#include "api/handlers.hpp"
#include "api/request_bodies.hpp"
#include "api/request_helpers.hpp"
#include "api/views.hpp"
#include "common/time_format.hpp"
#include "crypto/hash.hpp"
#include "domain/card_number.hpp"
#include "domain/holder.hpp"

namespace cardsmith::api {
namespace json = boost::json;
namespace {

struct CardAndProgram {
    domain::Card card;
    domain::Program program;
};

// The card named in the path, if the caller may touch it.
net::awaitable<Result<CardAndProgram>> async_own_card(ApiContext& ctx, const domain::Principal& who,
                                                      const std::string& number) {
    if (!domain::is_valid_card_number(number)) {
        co_return not_found("card");
    }
    auto found = co_await ctx.db.run([&](storage::Store& s) {
        std::optional<CardAndProgram> out;
        if (auto card = s.find_card(CardNumber(number))) {
            if (auto program = s.find_program(card->program)) {
                out.emplace(CardAndProgram{std::move(*card), std::move(*program)});
            }
        }
        return out;
    });
    if (!found || !who.may_touch(found->program.merchant)) {
        co_return not_found("card");
    }
    co_return std::move(*found);
}

json::object entry_view(const storage::LedgerEntry& e) {
    json::object o{{"id", e.id},
                   {"points", e.points},
                   {"balanceAfter", e.balance_after},
                   {"createdAt", format_iso8601_unix(e.created_at)}};
    o["amount"] = e.amount ? json::value(*e.amount) : json::value(nullptr);
    o["note"] = e.note.empty() ? json::value(nullptr) : json::value(e.note);
    return o;
}

}  // namespace

net::awaitable<Response> handle_create_transaction(ApiContext& ctx, RequestContext& rc) {
    auto who = co_await async_authenticate(ctx, rc.request);
    if (!who) {
        co_return fail(who.error(), rc.request);
    }
    auto owned = co_await async_own_card(ctx, *who, rc.param("cardNumber"));
    if (!owned) {
        co_return fail(owned.error(), rc.request);
    }
    std::string key(rc.request["Idempotency-Key"]);
    if (key.size() > 255 || !domain::is_clean_text(key)) {
        co_return fail(invalid("Idempotency-Key", "must be 1-255 characters of text"), rc.request);
    }
    auto body = parse_json_object(rc.request);
    if (!body) {
        co_return fail(body.error(), rc.request);
    }
    auto parsed = parse_transaction(*body, owned->program.design.earn_rule);
    if (!parsed) {
        co_return fail(parsed.error(), rc.request);
    }
    storage::NewTransaction t;
    t.card = owned->card.id;
    t.merchant = owned->program.merchant;
    t.idempotency_key = key;
    t.request_hash = crypto::sha256_hex(rc.param("cardNumber") + "\n" + json::serialize(*body));
    t.points = parsed->points;
    t.amount = parsed->amount;
    t.note = parsed->note;
    t.now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    auto out = co_await ctx.db.run([&](storage::Store& s) { return s.apply_transaction(t); });
    switch (out.status) {
        case storage::LedgerStatus::not_found:
            co_return fail(not_found("card"), rc.request);
        case storage::LedgerStatus::insufficient:
            co_return fail({ApiErrc::insufficient_balance,
                            "balance " + std::to_string(out.card->balance) + " is too low for " +
                                std::to_string(-t.points) + " points",
                            "points"},
                           rc.request);
        case storage::LedgerStatus::overflow:
            co_return fail(invalid("points", "the balance would exceed 10^15"), rc.request);
        case storage::LedgerStatus::key_reused:
            co_return fail({ApiErrc::idempotency_key_reused,
                            "this Idempotency-Key was used with a different request",
                            {}},
                           rc.request);
        case storage::LedgerStatus::applied:
        case storage::LedgerStatus::replayed:
            break;
    }
    // Pushes, and the transaction.created webhooks.
    if (out.status == storage::LedgerStatus::applied && ctx.on_pushes_queued) {
        ctx.on_pushes_queued();
    }
    // A replay answers exactly what the first request got: built from the stored ledger
    // row alone (the card may have moved on since).
    json::object res{{"balance", out.entry->balance_after},
                     {"transaction", entry_view(*out.entry)}};
    auto response = json_ok(http::status::created, res, rc.request);
    if (out.status == storage::LedgerStatus::replayed) {
        response.set("Idempotent-Replayed", "true");
    }
    co_return response;
}

net::awaitable<Response> handle_list_transactions(ApiContext& ctx, RequestContext& rc) {
    auto who = co_await async_authenticate(ctx, rc.request);
    if (!who) {
        co_return fail(who.error(), rc.request);
    }
    auto owned = co_await async_own_card(ctx, *who, rc.param("cardNumber"));
    if (!owned) {
        co_return fail(owned.error(), rc.request);
    }
    int limit = 50;
    std::int64_t before = INT64_MAX;
    // Out of range or not a number: clamped (garbage counts as 0), never refused.
    if (auto it = rc.query.find("limit"); it != rc.query.end()) {
        limit =
            static_cast<int>(std::clamp<std::int64_t>(parse_int(it->second).value_or(0), 1, 500));
    }
    if (auto it = rc.query.find("before"); it != rc.query.end()) {
        before = std::max<std::int64_t>(0, parse_int(it->second).value_or(0));
    }
    const CardId card = owned->card.id;
    auto entries = co_await ctx.db.run(
        [&](storage::Store& s) { return s.list_transactions(card, limit, before); });
    json::array list;
    for (const auto& e : entries) {
        list.push_back(entry_view(e));
    }
    json::object res{{"transactions", std::move(list)}};
    res["next"] = entries.size() == static_cast<std::size_t>(limit) ? json::value(entries.back().id)
                                                                    : json::value(nullptr);
    co_return json_ok(http::status::ok, res, rc.request);
}

}  // namespace cardsmith::api
