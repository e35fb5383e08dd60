#include "api/card_issuer.hpp"

#include "common/log.hpp"
#include "common/random.hpp"
#include "common/time_format.hpp"
#include "domain/card_number.hpp"

namespace cardsmith::api {

net::awaitable<Result<domain::Card>> async_issue_card(ApiContext& ctx,
                                                      const domain::Program& program,
                                                      domain::Holder holder, std::int64_t balance,
                                                      const IssueOptions& options) {
    constexpr int kAttempts = 8;
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
        storage::NewCard n;
        n.program = program.id;
        n.number = CardNumber(domain::generate_card_number());
        n.serial = SerialNumber(random::base64url(16));   // 128 bits, URL-safe
        n.auth_token = AuthToken(random::base64url(24));  // 32 characters
        n.holder = holder;
        n.balance = balance;
        n.source = options.source;
        n.birthday = options.birthday;
        n.verified = options.verified;
        n.referral = options.referral;
        // 8 characters of [a-z0-9] (41 bits): short enough to read out, unique per
        // program (a collision is retried like a card number's).
        n.referral_code = random::code(8);
        n.now = unix_seconds(std::chrono::system_clock::now());
        n.max_cards = ctx.max_cards_per_program;
        auto out = co_await ctx.db.run([&](storage::Store& s) { return s.create_card(n); });
        if (out.status == storage::StoreStatus::ok) {
            if (ctx.on_pushes_queued) {
                // The referrer's phones show the bonus; card.created webhooks go out.
                ctx.on_pushes_queued();
            }
            co_return std::move(*out.value);
        }
        if (out.status == storage::StoreStatus::not_found) {
            co_return not_found("program");
        }
        if (out.status == storage::StoreStatus::limit_reached) {
            ctx.metrics.counter_add("cardsmith_limit_refusals_total",
                                    "Cards and devices refused by limits.max_*",
                                    {{"limit", "cards_per_program"}});
            co_return ApiError{ApiErrc::limit_reached,
                               "the program has reached its card limit "
                               "(limits.max_cards_per_program = " +
                                   std::to_string(ctx.max_cards_per_program) + ")",
                               {}};
        }
        log::warn("card number collision, retrying",
                  {{"program", program.slug}, {"attempt", std::to_string(attempt + 1)}});
    }
    co_return ApiError{ApiErrc::internal, "could not allocate a unique card number", {}};
}

}  // namespace cardsmith::api
