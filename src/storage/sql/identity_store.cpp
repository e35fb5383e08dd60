// The store's Apple identities (see store.hpp).
#include "storage/sql/sql_store.hpp"

namespace cardsmith::storage::sql {
namespace {

#define IDENTITY_SELECT                                                                     \
    "SELECT id, merchant_id, pass_type_id, team_id, certificate_pem, key_sealed, subject, " \
    "fingerprint, not_after, created_at, updated_at, relay_keys_sealed FROM identities "

domain::Identity read_identity(const Statement& st) {
    domain::Identity i;
    i.id = IdentityId(st.int64(0));
    i.merchant = MerchantId(st.int64(1));
    i.pass_type_id = st.text(2);
    i.team_id = st.text(3);
    i.certificate_pem = st.text(4);
    i.key_sealed = st.text(5);
    i.subject = st.text(6);
    i.fingerprint = st.text(7);
    i.not_after = st.int64(8);
    i.created_at = st.int64(9);
    i.updated_at = st.int64(10);
    i.relay_keys_sealed = st.text(11);  // NULL: none
    return i;
}

}  // namespace

Outcome<domain::Identity> SqlStore::save_identity(const domain::Identity& in, bool& created) {
    auto c = lease();
    Transaction tx(*c);
    auto owner = c->prepare("SELECT id, merchant_id FROM identities WHERE pass_type_id = ?1");
    owner.bind(1, in.pass_type_id);
    std::int64_t id = 0;
    if (owner.step()) {
        if (owner.int64(1) != in.merchant.value()) {
            return {StoreStatus::conflict, std::nullopt};
        }
        id = owner.int64(0);
        c->prepare(
             "UPDATE identities SET team_id = ?2, certificate_pem = ?3, key_sealed = ?4, "
             "subject = ?5, fingerprint = ?6, not_after = ?7, updated_at = ?8 WHERE id = ?1")
            .bind(1, id)
            .bind(2, in.team_id)
            .bind(3, in.certificate_pem)
            .bind(4, in.key_sealed)
            .bind(5, in.subject)
            .bind(6, in.fingerprint)
            .bind(7, in.not_after)
            .bind(8, in.updated_at)
            .run();
        created = false;
    } else {
        c->prepare(
             "INSERT INTO identities (merchant_id, pass_type_id, team_id, certificate_pem, "
             "key_sealed, subject, fingerprint, not_after, created_at, updated_at) VALUES "
             "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)")
            .bind(1, in.merchant.value())
            .bind(2, in.pass_type_id)
            .bind(3, in.team_id)
            .bind(4, in.certificate_pem)
            .bind(5, in.key_sealed)
            .bind(6, in.subject)
            .bind(7, in.fingerprint)
            .bind(8, in.not_after)
            .bind(9, in.created_at)
            .run();
        id = c->last_insert_id();
        created = true;
    }
    auto st = c->prepare(IDENTITY_SELECT "WHERE id = ?1");
    st.bind(1, id);
    if (!st.step()) {
        throw StorageError("identity vanished while saving");
    }
    auto out = read_identity(st);
    tx.commit();
    return {StoreStatus::ok, std::move(out)};
}

std::vector<domain::Identity> SqlStore::list_identities(std::optional<MerchantId> merchant) {
    auto c = lease();
    auto st = c->prepare(IDENTITY_SELECT "WHERE ?1 = 0 OR merchant_id = ?1 ORDER BY id");
    st.bind(1, merchant ? merchant->value() : std::int64_t{0});
    std::vector<domain::Identity> out;
    while (st.step()) {
        out.push_back(read_identity(st));
    }
    return out;
}

std::optional<domain::Identity> SqlStore::find_identity(IdentityId id) {
    auto c = lease();
    auto st = c->prepare(IDENTITY_SELECT "WHERE id = ?1");
    st.bind(1, id.value());
    if (!st.step()) {
        return std::nullopt;
    }
    return read_identity(st);
}

StoreStatus SqlStore::set_identity_relay_keys(IdentityId id, std::string_view sealed,
                                              std::int64_t now) {
    auto c = lease();
    auto st = c->prepare(
        "UPDATE identities SET relay_keys_sealed = ?2, updated_at = GREATEST(updated_at, ?3) "
        "WHERE id = ?1");
    st.bind(1, id.value());
    if (sealed.empty()) {
        st.bind_null(2);
    } else {
        st.bind(2, sealed);
    }
    st.bind(3, now);
    st.run();
    return c->changes() > 0 ? StoreStatus::ok : StoreStatus::not_found;
}

StoreStatus SqlStore::set_program_identity(ProgramId program, std::optional<IdentityId> identity) {
    auto c = lease();
    Transaction tx(*c);
    auto cards = c->prepare("SELECT EXISTS (SELECT 1 FROM cards WHERE program_id = ?1)");
    cards.bind(1, program.value());
    if (cards.step() && cards.int64(0) != 0) {
        return StoreStatus::conflict;
    }
    auto st = c->prepare("UPDATE programs SET identity_id = ?2 WHERE id = ?1");
    st.bind(1, program.value());
    if (identity) {
        st.bind(2, identity->value());
    } else {
        st.bind_null(2);
    }
    st.run();
    if (c->changes() == 0) {
        return StoreStatus::not_found;
    }
    tx.commit();
    return StoreStatus::ok;
}

StoreStatus SqlStore::set_program_enrollment(ProgramId program, std::string_view json) {
    auto c = lease();
    c->prepare("UPDATE programs SET enrollment_json = ?2 WHERE id = ?1")
        .bind(1, program.value())
        .bind(2, json)
        .run();
    return c->changes() > 0 ? StoreStatus::ok : StoreStatus::not_found;
}

#undef IDENTITY_SELECT

}  // namespace cardsmith::storage::sql
