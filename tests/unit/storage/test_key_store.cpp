// API key rotation and revocation, and re-sealing the server key's secrets in one
// transaction (store.hpp, sql/key_store.cpp): on every backend.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <stdexcept>

#include "domain/design.hpp"
#include "domain/enrollment.hpp"
#include "storage/store.hpp"
#include "test_database.hpp"
#include "test_program.hpp"

using namespace cardsmith;
using Kind = storage::SealedSecret::Kind;

namespace {

struct Fixture {
    test::TestDatabase database{"keys.db"};
    std::unique_ptr<storage::Store> store = database.open(2, 5000);
    Fixture() { store->migrate(); }

    domain::Program program(const std::string& slug, MerchantId m) {
        return test::create_program(*store, test::new_program(slug, m));
    }

    domain::Identity identity(MerchantId m, const std::string& pass_type_id) {
        domain::Identity i;
        i.merchant = m;
        i.pass_type_id = pass_type_id;
        i.team_id = "TEAM";
        i.certificate_pem = "CERT";
        i.key_sealed = "sealed-key-" + pass_type_id;
        i.subject = "S";
        i.fingerprint = "F-" + pass_type_id;
        i.not_after = 2'000'000'000;
        i.created_at = i.updated_at = 1;
        bool created = false;
        auto out = store->save_identity(i, created);
        BOOST_REQUIRE(out.status == storage::StoreStatus::ok);
        return *out.value;
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(key_store)

BOOST_FIXTURE_TEST_CASE(a_rotated_key_works_until_its_grace_period_ends, Fixture) {
    const auto m = store->create_merchant("Bean There", "old-hash", "csk_old1", 100);
    const auto other = store->create_merchant("Other", "other-hash", "csk_oth1", 100);
    BOOST_TEST(store->find_api_key("old-hash", 150).has_value());

    const auto fresh = store->rotate_api_key(m.id, "new-hash", "csk_new1", 200, 200 + 3600);
    BOOST_TEST(fresh.id > 0);
    BOOST_TEST(fresh.prefix == "csk_new1");
    BOOST_TEST((fresh.merchant == std::optional<MerchantId>(m.id)));
    const auto now_new = store->find_api_key("new-hash", 200);
    BOOST_REQUIRE(now_new.has_value());
    BOOST_TEST(!now_new->admin);
    BOOST_TEST(now_new->merchant == m.id);
    // The old key during the grace period, not after; the new one stays.
    BOOST_TEST(store->find_api_key("old-hash", 200 + 3599).has_value());
    BOOST_TEST(!store->find_api_key("old-hash", 200 + 3600).has_value());
    BOOST_TEST(store->find_api_key("new-hash", 10'000'000).has_value());
    // Another merchant's keys are not touched.
    BOOST_TEST(store->find_api_key("other-hash", 10'000'000).has_value());

    const auto keys = store->list_api_keys(m.id);
    BOOST_REQUIRE(keys.size() == 2U);
    BOOST_TEST(keys[0].prefix == "csk_old1");
    BOOST_TEST(keys[0].expires_at.value() == 3800);
    BOOST_TEST(!keys[0].revoked_at.has_value());
    BOOST_TEST(keys[1].id == fresh.id);
    BOOST_TEST(!keys[1].expires_at.has_value());
    BOOST_TEST(store->list_api_keys(other.id).size() == 1U);

    // A second rotation with no grace ends the previous ones at once, and never extends an
    // earlier expiry.
    (void)store->rotate_api_key(m.id, "third-hash", "csk_thr1", 300, 300);
    BOOST_TEST(!store->find_api_key("new-hash", 300).has_value());
    BOOST_TEST(store->find_api_key("third-hash", 300).has_value());
    BOOST_TEST(store->list_api_keys(m.id)[0].expires_at.value() == 300);
}

BOOST_FIXTURE_TEST_CASE(revoking_ends_a_key_of_its_owner_only, Fixture) {
    const auto m = store->create_merchant("M", "m-hash", "csk_m001", 100);
    const auto other = store->create_merchant("O", "o-hash", "csk_o001", 100);
    const auto id = store->list_api_keys(m.id).at(0).id;
    BOOST_TEST((store->revoke_api_key(other.id, id, 150) == storage::StoreStatus::not_found));
    BOOST_TEST((store->revoke_api_key(std::nullopt, id, 150) == storage::StoreStatus::not_found));
    BOOST_TEST(store->find_api_key("m-hash", 150).has_value());
    BOOST_TEST((store->revoke_api_key(m.id, id, 150) == storage::StoreStatus::ok));
    BOOST_TEST(!store->find_api_key("m-hash", 150).has_value());
    BOOST_TEST(store->list_api_keys(m.id).at(0).revoked_at.value() == 150);
    BOOST_TEST((store->revoke_api_key(m.id, id, 160) == storage::StoreStatus::not_found));
    BOOST_TEST((store->revoke_api_key(m.id, 999999, 160) == storage::StoreStatus::not_found));
}

BOOST_FIXTURE_TEST_CASE(admin_keys_rotate_apart_from_merchant_keys, Fixture) {
    BOOST_TEST(!store->has_admin_key(100));
    store->add_admin_key("admin-1", "csk_adm1", 100);
    const auto m = store->create_merchant("M", "m-hash", "csk_m001", 100);
    BOOST_TEST(store->has_admin_key(100));
    const auto fresh = store->rotate_api_key(std::nullopt, "admin-2", "csk_adm2", 200, 260);
    BOOST_TEST(!fresh.merchant.has_value());
    BOOST_TEST(store->find_api_key("admin-2", 300)->admin);
    BOOST_TEST(store->find_api_key("admin-1", 259)->admin);
    BOOST_TEST(!store->find_api_key("admin-1", 260).has_value());
    BOOST_TEST(store->find_api_key("m-hash", 300).has_value());
    const auto admins = store->list_api_keys(std::nullopt);
    BOOST_REQUIRE(admins.size() == 2U);
    BOOST_TEST(!admins[0].merchant.has_value());
    BOOST_TEST((store->revoke_api_key(std::nullopt, fresh.id, 300) == storage::StoreStatus::ok));
    // Every admin key expired or revoked: start-up makes a new one again.
    BOOST_TEST(!store->has_admin_key(300));
}

BOOST_FIXTURE_TEST_CASE(every_sealed_secret_is_resealed_in_one_transaction, Fixture) {
    const auto m = store->create_merchant("M", "m-hash", "csk_m001", 100);
    const auto a = identity(m.id, "pass.a");
    const auto b = identity(m.id, "pass.b");
    BOOST_TEST(
        (store->set_identity_relay_keys(b.id, "sealed-relay-b", 5) == storage::StoreStatus::ok));
    const auto hook =
        store->create_webhook(m.id, "https://crm.example/hook", "sealed-hook", "*", 1000);
    const auto p = program("shop", m.id);
    domain::EnrollmentSettings settings;
    settings.phone = domain::FieldMode::required;
    settings.verification.channel = domain::VerifyChannel::phone;
    settings.verification.provider = domain::CodeProvider::webhook;
    settings.verification.webhook_url = "https://sms.example/send";
    settings.verification.webhook_secret_sealed = "sealed-verification";
    BOOST_TEST(
        (store->set_program_enrollment(p.id, boost::json::serialize(domain::enrollment_to_json(
                                                 settings, domain::SettingsJson::storage))) ==
         storage::StoreStatus::ok));
    (void)program("plain", m.id);  // no secret: not listed

    std::vector<storage::SealedSecret> seen;
    const int n = store->reseal_secrets([&](const storage::SealedSecret& s) {
        seen.push_back(s);
        return std::optional<std::string>("re:" + s.sealed);
    });
    BOOST_TEST(n == 5);
    BOOST_REQUIRE(seen.size() == 5U);
    const auto has = [&](Kind kind, std::int64_t row, const std::string& sealed) {
        return std::any_of(seen.begin(), seen.end(), [&](const storage::SealedSecret& s) {
            return s.kind == kind && s.row == row && s.sealed == sealed;
        });
    };
    BOOST_TEST(has(Kind::identity_key, a.id.value(), "sealed-key-pass.a"));
    BOOST_TEST(has(Kind::identity_key, b.id.value(), "sealed-key-pass.b"));
    BOOST_TEST(has(Kind::identity_relay_keys, b.id.value(), "sealed-relay-b"));
    BOOST_TEST(has(Kind::webhook_secret, hook, "sealed-hook"));
    BOOST_TEST(has(Kind::verification_secret, p.id.value(), "sealed-verification"));
    for (const auto& s : seen) {
        if (s.kind == Kind::identity_key || s.kind == Kind::identity_relay_keys) {
            BOOST_TEST(s.pass_type_id == (s.row == a.id.value() ? "pass.a" : "pass.b"));
        }
        if (s.kind == Kind::webhook_secret) {
            BOOST_TEST(s.merchant == m.id);
        }
    }

    BOOST_TEST(store->find_identity(a.id)->key_sealed == "re:sealed-key-pass.a");
    BOOST_TEST(store->find_identity(b.id)->relay_keys_sealed == "re:sealed-relay-b");
    BOOST_TEST(store->find_webhook(hook)->secret_sealed == "re:sealed-hook");
    BOOST_TEST(store->find_program(p.id)->enrollment.verification.webhook_secret_sealed ==
               "re:sealed-verification");
    BOOST_TEST(store->find_program(p.id)->enrollment.verification.webhook_url ==
               "https://sms.example/send");

    // nullopt leaves a value as it is; a failure rolls every change back.
    BOOST_TEST(store->reseal_secrets(
                   [](const storage::SealedSecret&) { return std::optional<std::string>(); }) == 0);
    BOOST_CHECK_THROW((void)store->reseal_secrets([](const storage::SealedSecret& s) {
        if (s.kind == Kind::webhook_secret) {
            throw std::runtime_error("does not open");
        }
        return std::optional<std::string>("x");
    }),
                      std::runtime_error);
    BOOST_TEST(store->find_identity(a.id)->key_sealed == "re:sealed-key-pass.a");
    BOOST_TEST(store->find_webhook(hook)->secret_sealed == "re:sealed-hook");
}

BOOST_AUTO_TEST_SUITE_END()
