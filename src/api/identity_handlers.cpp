// Merchants' own Apple identities: POST/GET /api/v1/identities,
// PUT /api/v1/identities/{id}/relay-keys and PUT /api/v1/programs/{slug}/identity
// (docs/api.md "Apple identities").
#include <algorithm>
#include <boost/beast/core/detail/base64.hpp>
#include <boost/json.hpp>
#include <map>

#include "api/handlers.hpp"
#include "api/request_helpers.hpp"
#include "api/views.hpp"
#include "common/async_run.hpp"
#include "common/log.hpp"
#include "common/time_format.hpp"
#include "crypto/identity.hpp"

namespace cardsmith::api {
namespace json = boost::json;
namespace {

constexpr auto kExpiryWarning = std::chrono::hours(24 * 30);

// The relays whose keys an identity may hold (android-wallets.md §8.6), by their config names.
constexpr std::string_view kRelays[] = {"walletunion", "walletpasses", "pass2u"};
constexpr std::size_t kMaxRelayKey = 512;

// Bound to the row: sealed keys copied to another identity do not open.
std::string relay_keys_context(IdentityId id) { return "relay-keys:" + std::to_string(id.value()); }

// The identity's own relay keys; nullopt when the sealed value does not open (another
// server key) or is not the JSON object of strings it was sealed as.
std::optional<std::map<std::string, std::string>> open_relay_keys(const ApiContext& ctx,
                                                                  const domain::Identity& i) {
    std::map<std::string, std::string> out;
    if (i.relay_keys_sealed.empty()) {
        return out;
    }
    if (ctx.secrets == nullptr) {
        return std::nullopt;
    }
    auto text = ctx.secrets->open(i.relay_keys_sealed, relay_keys_context(i.id));
    if (!text) {
        return std::nullopt;
    }
    boost::system::error_code ec;
    auto v = json::parse(*text, ec);
    if (ec || !v.is_object()) {
        return std::nullopt;
    }
    for (const auto& [name, key] : v.as_object()) {
        if (key.is_string()) {
            out.emplace(std::string(name), std::string(key.as_string()));
        }
    }
    return out;
}

// An API key goes into a request header: printable ASCII, no surrounding spaces.
bool valid_relay_key(std::string_view key) {
    return !key.empty() && key.size() <= kMaxRelayKey && key.front() != ' ' && key.back() != ' ' &&
           std::all_of(key.begin(), key.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

json::object identity_view(const ApiContext& ctx, const domain::Identity& i) {
    const auto now = std::chrono::system_clock::now();
    const auto not_after = SysTime(std::chrono::seconds(i.not_after));
    const auto days_left =
        std::chrono::duration_cast<std::chrono::hours>(not_after - now).count() / 24;
    // Which relay keys are set, never the keys.
    const auto keys = open_relay_keys(ctx, i).value_or(std::map<std::string, std::string>{});
    json::object relay_keys;
    for (auto relay : kRelays) {
        relay_keys[relay] = keys.contains(std::string(relay));
    }
    return {{"id", i.id.value()},
            {"merchant", i.merchant.value()},
            {"passTypeId", i.pass_type_id},
            {"teamId", i.team_id},
            {"subject", i.subject},
            {"fingerprint", i.fingerprint},
            {"notAfter", format_iso8601(not_after)},
            {"daysLeft", days_left},
            {"expiresSoon", not_after - now < kExpiryWarning},
            {"relayKeys", std::move(relay_keys)},
            {"createdAt", format_iso8601_unix(i.created_at)},
            {"updatedAt", format_iso8601_unix(i.updated_at)}};
}

std::optional<std::string> decode_base64(std::string_view in) {
    namespace b64 = boost::beast::detail::base64;
    std::string clean;
    for (char c : in) {
        if (c != '\n' && c != '\r' && c != ' ') {
            clean.push_back(c);
        }
    }
    while (!clean.empty() && clean.back() == '=') {
        clean.pop_back();  // Beast decodes unpadded input and stops at padding
    }
    std::string out(b64::decoded_size(clean.size()) + 3, '\0');
    auto [written, read] = b64::decode(out.data(), clean.data(), clean.size());
    if (read != clean.size() || written == 0) {
        return std::nullopt;
    }
    out.resize(written);
    return out;
}

}  // namespace

net::awaitable<Response> handle_save_identity(ApiContext& ctx, RequestContext& rc) {
    auto who = co_await async_authenticate(ctx, rc.request);
    if (!who) {
        co_return fail(who.error(), rc.request);
    }
    if (who->admin) {
        co_return fail({ApiErrc::forbidden,
                        "an identity belongs to a merchant: upload it with the merchant's key",
                        {}},
                       rc.request);
    }
    if (ctx.secrets == nullptr || !ctx.default_signer || !ctx.on_identity_saved) {
        co_return fail({ApiErrc::unavailable, "identities are not enabled on this server", {}},
                       rc.request);
    }
    auto body = parse_json_object(rc.request);
    if (!body) {
        co_return fail(body.error(), rc.request);
    }
    if (auto e = reject_unknown(
            *body, {"certificate", "privateKey", "password", "pkcs12", "passTypeId", "teamId"})) {
        co_return fail(*e, rc.request);
    }
    crypto::IdentityUpload upload;
    for (auto [name, out] :
         {std::pair{"certificate", &upload.certificate_pem},
          std::pair{"privateKey", &upload.private_key_pem}, std::pair{"password", &upload.password},
          std::pair{"passTypeId", &upload.pass_type_id}, std::pair{"teamId", &upload.team_id}}) {
        auto v = get_string(*body, name);
        if (!v) {
            co_return fail(v.error(), rc.request);
        }
        if (*v) {
            *out = std::move(**v);
        }
    }
    auto p12 = get_string(*body, "pkcs12");
    if (!p12) {
        co_return fail(p12.error(), rc.request);
    }
    if (*p12) {
        auto der = decode_base64(**p12);
        if (!der) {
            co_return fail(invalid("pkcs12", "must be the .p12 file in base64"), rc.request);
        }
        upload.pkcs12_der = std::move(*der);
    }
    // Parsing keys, decrypting PKCS#12 and verifying the chain are CPU work.
    auto checked = co_await async_run(ctx.cpu, [&] {
        return crypto::check_identity(upload, ctx.default_signer->wwdr(),
                                      std::chrono::system_clock::now());
    });
    if (const auto* problem = std::get_if<crypto::IdentityProblem>(&checked)) {
        co_return fail(invalid(problem->field, problem->message), rc.request);
    }
    auto& good = std::get<crypto::CheckedIdentity>(checked);
    if (good.pass_type_id == ctx.passes.identities().default_identity()->pass.pass_type_id) {
        co_return fail(
            {ApiErrc::conflict,
             "pass type id " + good.pass_type_id + " is the server's own identity", "certificate"},
            rc.request);
    }
    const auto now = unix_seconds(std::chrono::system_clock::now());
    domain::Identity identity;
    identity.merchant = who->merchant;
    identity.pass_type_id = good.pass_type_id;
    identity.team_id = good.team_id;
    identity.certificate_pem = good.certificate_pem;
    // Bound to its pass type id: a sealed key copied to another row does not open.
    identity.key_sealed = ctx.secrets->seal(good.private_key_pem, good.pass_type_id);
    identity.subject = good.subject;
    identity.fingerprint = good.sha256_fingerprint;
    identity.not_after = unix_seconds(good.not_after);
    identity.created_at = identity.updated_at = now;
    bool created = false;
    auto saved =
        co_await ctx.db.run([&](storage::Store& s) { return s.save_identity(identity, created); });
    if (saved.status == storage::StoreStatus::conflict) {
        co_return fail(
            {ApiErrc::conflict,
             "pass type id " + good.pass_type_id + " belongs to another merchant", "certificate"},
            rc.request);
    }
    // Parsing the key and certificate again for the registry is CPU work too.
    auto problem = co_await async_run(ctx.cpu, [&] { return ctx.on_identity_saved(*saved.value); });
    if (problem) {
        co_return fail({ApiErrc::internal, *problem, {}}, rc.request);  // details in the log
    }
    co_return json_ok(created ? http::status::created : http::status::ok,
                      identity_view(ctx, *saved.value), rc.request);
}

net::awaitable<Response> handle_list_identities(ApiContext& ctx, RequestContext& rc) {
    auto who = co_await async_authenticate(ctx, rc.request);
    if (!who) {
        co_return fail(who.error(), rc.request);
    }
    std::optional<MerchantId> merchant;
    if (!who->admin) {
        merchant = who->merchant;
    }
    auto list = co_await ctx.db.run([&](storage::Store& s) { return s.list_identities(merchant); });
    json::array out;
    for (const auto& i : list) {
        out.push_back(identity_view(ctx, i));
    }
    co_return json_ok(http::status::ok, json::object{{"identities", std::move(out)}}, rc.request);
}

net::awaitable<Response> handle_set_identity_relay_keys(
    ApiContext& ctx, RequestContext& rc,
    const std::function<void(const domain::Identity&)>& on_saved) {
    auto who = co_await async_authenticate(ctx, rc.request);
    if (!who) {
        co_return fail(who.error(), rc.request);
    }
    if (ctx.secrets == nullptr) {
        co_return fail({ApiErrc::unavailable, "no server key to seal relay keys", {}}, rc.request);
    }
    auto body = parse_json_object(rc.request);
    if (!body) {
        co_return fail(body.error(), rc.request);
    }
    if (auto e = reject_unknown(*body, {kRelays[0], kRelays[1], kRelays[2]})) {
        co_return fail(*e, rc.request);
    }
    std::map<std::string, std::optional<std::string>> changes;  // nullopt: remove
    for (const auto& [name, value] : *body) {
        if (value.is_null()) {
            changes[std::string(name)] = std::nullopt;
        } else if (value.is_string() && valid_relay_key(value.as_string())) {
            changes[std::string(name)] = std::string(value.as_string());
        } else {
            co_return fail(invalid(std::string(name),
                                   "must be the relay's API key (1-512 printable ASCII "
                                   "characters), or null to remove it"),
                           rc.request);
        }
    }
    auto path = path_id(rc, "id", "identity");
    if (!path) {
        co_return fail(path.error(), rc.request);
    }
    const IdentityId id(*path);
    auto found = co_await ctx.db.run([&](storage::Store& s) { return s.find_identity(id); });
    // Another merchant's identity is as absent as one that does not exist.
    if (!found || !who->may_touch(found->merchant)) {
        co_return fail(not_found("identity"), rc.request);
    }
    auto keys = open_relay_keys(ctx, *found);
    if (!keys) {
        // Sealed under another server key: what is sent now replaces them.
        log::warn("identity relay keys do not open with this server key; replacing them",
                  {{"identity", std::to_string(id.value())}});
        keys.emplace();
    }
    for (auto& [name, key] : changes) {
        if (key) {
            (*keys)[name] = std::move(*key);
        } else {
            keys->erase(name);
        }
    }
    std::string sealed;
    if (!keys->empty()) {
        json::object stored;
        for (const auto& [name, key] : *keys) {
            stored[name] = key;
        }
        sealed = ctx.secrets->seal(json::serialize(stored), relay_keys_context(id));
    }
    const auto now = unix_seconds(std::chrono::system_clock::now());
    auto status = co_await ctx.db.run(
        [&](storage::Store& s) { return s.set_identity_relay_keys(id, sealed, now); });
    if (status == storage::StoreStatus::not_found) {
        co_return fail(not_found("identity"), rc.request);
    }
    found->relay_keys_sealed = std::move(sealed);
    found->updated_at = std::max(found->updated_at, now);
    if (on_saved) {
        on_saved(*found);  // the push side uses the new keys from the next request on
    }
    co_return json_ok(http::status::ok, identity_view(ctx, *found), rc.request);
}

net::awaitable<Response> handle_set_program_identity(ApiContext& ctx, RequestContext& rc) {
    auto who = co_await async_authenticate(ctx, rc.request);
    if (!who) {
        co_return fail(who.error(), rc.request);
    }
    auto body = parse_json_object(rc.request);
    if (!body) {
        co_return fail(body.error(), rc.request);
    }
    if (auto e = reject_unknown(*body, {"identity"})) {
        co_return fail(*e, rc.request);
    }
    const json::value* value = body->if_contains("identity");
    if (value == nullptr || !(value->is_null() || value->is_int64())) {
        co_return fail(invalid("identity", "must be an identity id, or null for the server's"),
                       rc.request);
    }
    std::optional<IdentityId> identity;
    if (value->is_int64()) {
        identity = IdentityId(value->as_int64());
    }
    auto program = co_await async_own_program(ctx, *who, rc.param("slug"));
    if (!program) {
        co_return fail(program.error(), rc.request);
    }
    if (identity) {
        auto found =
            co_await ctx.db.run([&](storage::Store& s) { return s.find_identity(*identity); });
        // Only the program's own merchant's identities.
        if (!found || found->merchant != program->merchant) {
            co_return fail(invalid("identity", "no such identity for this merchant"), rc.request);
        }
    }
    const ProgramId id = program->id;
    auto status = co_await ctx.db.run(
        [&](storage::Store& s) { return s.set_program_identity(id, identity); });
    if (status == storage::StoreStatus::conflict) {
        co_return fail({ApiErrc::conflict,
                        "the program has issued cards: their passes carry the current pass type "
                        "id, so it cannot change",
                        "identity"},
                       rc.request);
    }
    program->identity = identity;
    co_return json_ok(http::status::ok, program_view(ctx, *program), rc.request);
}

}  // namespace cardsmith::api
