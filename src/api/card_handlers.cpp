#include <boost/json.hpp>

#include "api/card_issuer.hpp"
#include "api/handlers.hpp"
#include "api/request_bodies.hpp"
#include "api/request_helpers.hpp"
#include "api/views.hpp"
#include "common/time_format.hpp"
#include "domain/card_number.hpp"
#include "http/response.hpp"

namespace cardsmith::api {

net::awaitable<Response> handle_create_card(ApiContext& ctx, RequestContext& rc) {
    auto who = co_await async_authenticate(ctx, rc.request);
    if (!who) {
        co_return fail(who.error(), rc.request);
    }
    auto program = co_await async_own_program(ctx, *who, rc.param("slug"));
    if (!program) {
        co_return fail(program.error(), rc.request);
    }
    auto body = parse_json_object(rc.request);
    if (!body) {
        co_return fail(body.error(), rc.request);
    }
    auto parsed = parse_new_card(*body);
    if (!parsed) {
        co_return fail(parsed.error(), rc.request);
    }
    const IssueOptions options;
    auto card = co_await async_issue_card(ctx, *program, parsed->holder, parsed->balance, options);
    if (!card) {
        co_return fail(card.error(), rc.request);
    }
    auto res = json_ok(http::status::created, card_view(ctx, *program, *card), rc.request);
    res.set(http::field::location, ctx.public_url + "/api/v1/cards/" + card->number.value());
    co_return res;
}

net::awaitable<Response> handle_get_card(ApiContext& ctx, RequestContext& rc) {
    auto who = co_await async_authenticate(ctx, rc.request);
    if (!who) {
        co_return fail(who.error(), rc.request);
    }
    const auto& number = rc.param("cardNumber");
    if (!domain::is_valid_card_number(number)) {
        co_return fail(not_found("card"), rc.request);
    }
    auto found =
        co_await ctx.db.run([&](storage::Store& s) { return s.find_pass(CardNumber(number)); });
    if (!found || !who->may_touch(found->second.merchant)) {
        co_return fail(not_found("card"), rc.request);
    }
    co_return json_ok(http::status::ok, card_view(ctx, found->second, found->first), rc.request);
}

net::awaitable<Response> handle_download_pass(ApiContext& ctx, RequestContext& rc) {
    const std::string& file = rc.param("file");
    constexpr std::string_view kSuffix = ".pkpass";
    if (file.size() <= kSuffix.size() || !file.ends_with(kSuffix)) {
        co_return fail(not_found("pass"), rc.request);
    }
    std::string serial = file.substr(0, file.size() - kSuffix.size());
    auto found =
        co_await ctx.db.run([&](storage::Store& s) { return s.find_pass(SerialNumber(serial)); });
    if (!found) {
        co_return fail(not_found("pass"), rc.request);
    }
    const auto& [card, program] = *found;
    auto pass = co_await ctx.passes.async_pass(program, card);
    auto last_modified = format_http_date(pass->modified_at);
    auto since = parse_http_date(rc.request[http::field::if_modified_since]);
    Response res;
    if (since && *since >= pass->modified_at) {
        res = http_server::bytes_response(http::status::not_modified,
                                          "application/vnd.apple.pkpass", "", rc.request.version());
    } else {
        res = http_server::bytes_response(http::status::ok, "application/vnd.apple.pkpass",
                                          pass->bytes, rc.request.version());
        res.set(http::field::content_disposition,
                "attachment; filename=\"" + program.slug + ".pkpass\"");
    }
    res.set(http::field::last_modified, last_modified);
    // The pass carries its authentication token: no shared caches.
    res.set(http::field::cache_control, "private, no-cache");
    co_return res;
}

}  // namespace cardsmith::api
