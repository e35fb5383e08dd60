// The store's API keys (looked up by their SHA-256, rotated with a grace period, revoked)
// and the server key's sealed secrets (re-sealed in one transaction by a key rotation):
// store.hpp.
#include <boost/json.hpp>

#include "storage/sql/sql_store.hpp"

namespace cardsmith::storage::sql {
namespace {

// An admin key's owner is "no merchant": one statement per owner kind, as statements are
// cached by their text's address.
#define KEY_SELECT \
    "SELECT id, merchant_id, prefix, created_at, expires_at, revoked_at FROM api_keys "
constexpr const char* kMerchantKeys = KEY_SELECT "WHERE merchant_id = ?1 ORDER BY id";
constexpr const char* kAdminKeys = KEY_SELECT "WHERE role = 'admin' ORDER BY id";
#undef KEY_SELECT
constexpr const char* kExpireMerchantKeys =
    "UPDATE api_keys SET expires_at = ?2 WHERE merchant_id = ?1 AND revoked_at IS NULL AND "
    "(expires_at IS NULL OR expires_at > ?2)";
constexpr const char* kExpireAdminKeys =
    "UPDATE api_keys SET expires_at = ?1 WHERE role = 'admin' AND revoked_at IS NULL AND "
    "(expires_at IS NULL OR expires_at > ?1)";
constexpr const char* kRevokeMerchantKey =
    "UPDATE api_keys SET revoked_at = ?3 WHERE id = ?2 AND merchant_id = ?1 AND "
    "revoked_at IS NULL";
constexpr const char* kRevokeAdminKey =
    "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND role = 'admin' AND revoked_at IS NULL";

// The sealed secrets, locked on PostgreSQL so a concurrent change (an identity renewed
// meanwhile) waits for the rotation rather than being overwritten with its old value.
constexpr const char* kSealedIdentities =
    "SELECT id, pass_type_id, key_sealed, relay_keys_sealed FROM identities ORDER BY id";
constexpr const char* kSealedIdentitiesPg =
    "SELECT id, pass_type_id, key_sealed, relay_keys_sealed FROM identities ORDER BY id "
    "FOR UPDATE";
constexpr const char* kSealedWebhooks =
    "SELECT id, merchant_id, secret_sealed FROM webhooks ORDER BY id";
constexpr const char* kSealedWebhooksPg =
    "SELECT id, merchant_id, secret_sealed FROM webhooks ORDER BY id FOR UPDATE";
constexpr const char* kSealedPrograms =
    "SELECT id, enrollment_json FROM programs WHERE enrollment_json LIKE "
    "'%webhookSecretSealed%' ORDER BY id";
constexpr const char* kSealedProgramsPg =
    "SELECT id, enrollment_json FROM programs WHERE enrollment_json LIKE "
    "'%webhookSecretSealed%' ORDER BY id FOR UPDATE";

ApiKeyInfo read_key(Statement& st) {
    ApiKeyInfo k;
    k.id = st.int64(0);
    if (!st.is_null(1)) {
        k.merchant = MerchantId(st.int64(1));
    }
    k.prefix = st.text(2);
    k.created_at = st.int64(3);
    if (!st.is_null(4)) {
        k.expires_at = st.int64(4);
    }
    if (!st.is_null(5)) {
        k.revoked_at = st.int64(5);
    }
    return k;
}

// The verification webhook secret inside a program's stored enrollment settings.
boost::json::value* verification_secret(boost::json::value& settings) {
    auto* o = settings.if_object();
    auto* v = o != nullptr ? o->if_contains("verification") : nullptr;
    auto* vo = v != nullptr ? v->if_object() : nullptr;
    auto* secret = vo != nullptr ? vo->if_contains("webhookSecretSealed") : nullptr;
    return secret != nullptr && secret->is_string() ? secret : nullptr;
}

}  // namespace

std::optional<domain::Principal> SqlStore::find_api_key(std::string_view hash, std::int64_t now) {
    auto c = lease();
    auto st = c->prepare(
        "SELECT role, merchant_id FROM api_keys WHERE key_hash = ?1 AND revoked_at IS NULL AND "
        "(expires_at IS NULL OR expires_at > ?2)");
    st.bind(1, hash).bind(2, now);
    if (!st.step()) {
        return std::nullopt;
    }
    domain::Principal p;
    p.admin = st.text(0) == "admin";
    p.merchant = MerchantId(st.int64(1));
    return p;
}

bool SqlStore::has_admin_key(std::int64_t now) {
    auto c = lease();
    auto st = c->prepare(
        "SELECT 1 FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL AND "
        "(expires_at IS NULL OR expires_at > ?1)");
    st.bind(1, now);
    return st.step();
}

void SqlStore::add_admin_key(std::string_view hash, std::string_view prefix, std::int64_t now) {
    auto c = lease();
    c->prepare(
         "INSERT INTO api_keys (merchant_id, role, key_hash, prefix, created_at) "
         "VALUES (NULL, 'admin', ?1, ?2, ?3)")
        .bind(1, hash)
        .bind(2, prefix)
        .bind(3, now)
        .run();
}

ApiKeyInfo SqlStore::rotate_api_key(std::optional<MerchantId> owner, std::string_view hash,
                                    std::string_view prefix, std::int64_t now,
                                    std::int64_t others_expire_at) {
    auto c = lease();
    Transaction tx(*c);
    if (owner) {
        c->prepare(kExpireMerchantKeys).bind(1, owner->value()).bind(2, others_expire_at).run();
    } else {
        c->prepare(kExpireAdminKeys).bind(1, others_expire_at).run();
    }
    auto st = c->prepare(
        "INSERT INTO api_keys (merchant_id, role, key_hash, prefix, created_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5)");
    if (owner) {
        st.bind(1, owner->value()).bind(2, "merchant");
    } else {
        st.bind_null(1).bind(2, "admin");
    }
    st.bind(3, hash).bind(4, prefix).bind(5, now).run();
    ApiKeyInfo out;
    out.id = c->last_insert_id();
    out.merchant = owner;
    out.prefix = std::string(prefix);
    out.created_at = now;
    tx.commit();
    return out;
}

std::vector<ApiKeyInfo> SqlStore::list_api_keys(std::optional<MerchantId> owner) {
    auto c = lease();
    auto st = c->prepare(owner ? kMerchantKeys : kAdminKeys);
    if (owner) {
        st.bind(1, owner->value());
    }
    std::vector<ApiKeyInfo> out;
    while (st.step()) {
        out.push_back(read_key(st));
    }
    return out;
}

StoreStatus SqlStore::revoke_api_key(std::optional<MerchantId> owner, std::int64_t id,
                                     std::int64_t now) {
    auto c = lease();
    if (owner) {
        c->prepare(kRevokeMerchantKey).bind(1, owner->value()).bind(2, id).bind(3, now).run();
    } else {
        c->prepare(kRevokeAdminKey).bind(1, id).bind(2, now).run();
    }
    return c->changes() > 0 ? StoreStatus::ok : StoreStatus::not_found;
}

int SqlStore::reseal_secrets(
    const std::function<std::optional<std::string>(const SealedSecret&)>& reseal) {
    auto c = lease();
    Transaction tx(*c);
    const bool pg = c->dialect() == Dialect::postgres;
    // Read everything first: a statement's rows are not read while another one writes.
    std::vector<SealedSecret> found;
    std::vector<std::pair<std::int64_t, boost::json::value>> programs;
    {
        auto st = c->prepare(pg ? kSealedIdentitiesPg : kSealedIdentities);
        while (st.step()) {
            SealedSecret s;
            s.kind = SealedSecret::Kind::identity_key;
            s.row = st.int64(0);
            s.pass_type_id = st.text(1);
            s.sealed = st.text(2);
            found.push_back(s);
            if (!st.is_null(3) && !st.text(3).empty()) {
                s.kind = SealedSecret::Kind::identity_relay_keys;
                s.sealed = st.text(3);
                found.push_back(std::move(s));
            }
        }
    }
    {
        auto st = c->prepare(pg ? kSealedWebhooksPg : kSealedWebhooks);
        while (st.step()) {
            SealedSecret s;
            s.kind = SealedSecret::Kind::webhook_secret;
            s.row = st.int64(0);
            s.merchant = MerchantId(st.int64(1));
            s.sealed = st.text(2);
            found.push_back(std::move(s));
        }
    }
    {
        auto st = c->prepare(pg ? kSealedProgramsPg : kSealedPrograms);
        while (st.step()) {
            boost::system::error_code ec;
            auto settings = boost::json::parse(st.text(1), ec);
            const auto* secret = !ec ? verification_secret(settings) : nullptr;
            if (secret == nullptr) {
                continue;
            }
            SealedSecret s;
            s.kind = SealedSecret::Kind::verification_secret;
            s.row = st.int64(0);
            s.sealed = std::string(secret->as_string());
            programs.emplace_back(s.row, std::move(settings));
            found.push_back(std::move(s));
        }
    }
    int replaced = 0;
    for (const auto& s : found) {
        auto fresh = reseal(s);
        if (!fresh) {
            continue;
        }
        ++replaced;
        switch (s.kind) {
            case SealedSecret::Kind::identity_key:
                c->prepare("UPDATE identities SET key_sealed = ?2 WHERE id = ?1")
                    .bind(1, s.row)
                    .bind(2, *fresh)
                    .run();
                break;
            case SealedSecret::Kind::identity_relay_keys:
                c->prepare("UPDATE identities SET relay_keys_sealed = ?2 WHERE id = ?1")
                    .bind(1, s.row)
                    .bind(2, *fresh)
                    .run();
                break;
            case SealedSecret::Kind::webhook_secret:
                c->prepare("UPDATE webhooks SET secret_sealed = ?2 WHERE id = ?1")
                    .bind(1, s.row)
                    .bind(2, *fresh)
                    .run();
                break;
            case SealedSecret::Kind::verification_secret:
                for (auto& [id, settings] : programs) {
                    if (id == s.row) {
                        *verification_secret(settings) = *fresh;
                        c->prepare("UPDATE programs SET enrollment_json = ?2 WHERE id = ?1")
                            .bind(1, id)
                            .bind(2, boost::json::serialize(settings))
                            .run();
                    }
                }
                break;
        }
    }
    tx.commit();
    return replaced;
}

}  // namespace cardsmith::storage::sql
