// The SQLite store's enrollment parts: verification codes with their send limits, cards
// found by contact or invite code, referral bonuses, birthday grants, program stats.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <set>

#include "domain/design.hpp"
#include "domain/enrollment.hpp"
#include "storage/store.hpp"
#include "test_database.hpp"

using namespace cardsmith;
using storage::CodeCheckOutcome;
using storage::VerificationStart;

namespace {

constexpr std::int64_t kDayMs = 86'400'000;

struct Enrollment {
    test::TestDatabase database{"e.db"};
    std::unique_ptr<storage::Store> store = database.open(4, 5000);
    domain::Merchant merchant;
    domain::Program program;
    int next_card = 0;

    Enrollment() {
        store->migrate();
        merchant = store->create_merchant("M", "hash", "prefix", 1);
        program = make_program("shop");
    }

    domain::Program make_program(const std::string& slug) {
        storage::NewProgram np;
        np.merchant = merchant.id;
        np.slug = slug;
        np.name = "Shop " + slug;
        np.template_name = "coffee";
        domain::Design d;
        d.name = d.description = d.organization_name = "x";
        np.design_json = boost::json::serialize(domain::design_to_json(d));
        np.now = 100;
        auto out = store->create_program(np);
        BOOST_REQUIRE(out.status == storage::StoreStatus::ok);
        return *out.value;
    }

    // A card with unique number and serial; the caller sets the rest.
    storage::NewCard new_card(ProgramId p, const std::string& phone = "",
                              const std::string& email = "") {
        ++next_card;
        storage::NewCard n;
        n.program = p;
        n.number = CardNumber(std::to_string(4000000000000000LL + next_card));
        n.serial = SerialNumber("serial" + std::to_string(next_card));
        n.auth_token = AuthToken(std::string(32, 'a'));
        n.holder = {"Ann", phone, email};
        n.now = 1000 + next_card;
        return n;
    }
    domain::Card create(const storage::NewCard& n) {
        auto out = store->create_card(n);
        BOOST_REQUIRE(out.status == storage::StoreStatus::ok);
        return *out.value;
    }
    domain::Card card(CardId id) {
        // No find by id in the interface: through the serial.
        for (int i = 1; i <= next_card; ++i) {
            auto c = store->find_card(SerialNumber("serial" + std::to_string(i)));
            if (c && c->id == id) {
                return *c;
            }
        }
        BOOST_FAIL("no card " << id.value());
        return {};
    }

    // One integer read through a second connection.
    long long scalar(const std::string& sql) { return database.scalar(sql); }
    long long ledger_rows(CardId card, const std::string& note = "") {
        std::string sql =
            "SELECT COUNT(*) FROM transactions WHERE card_id = " + std::to_string(card.value());
        if (!note.empty()) {
            sql += " AND note = '" + note + "'";
        }
        return scalar(sql);
    }
    long long outbox_rows() { return scalar("SELECT COUNT(*) FROM outbox"); }

    storage::NewVerification verification(const std::string& id, std::int64_t now_ms,
                                          const std::string& destination = "+4915112345678",
                                          const std::string& ip = "10.0.0.1") {
        storage::NewVerification v;
        v.id = id;
        v.program = program.id;
        v.channel = "phone";
        v.destination = destination;
        v.code_hash = "hash-of-" + id;
        v.form_json = R"({"name":"Ann"})";
        v.ip = ip;
        v.now_ms = now_ms;
        v.expires_at_ms = now_ms + 600'000;
        return v;
    }
    VerificationStart::Status start(const storage::NewVerification& v,
                                    const storage::SendLimits& limits = {}) {
        return store->start_verification(v, limits).status;
    }
    std::string state(const std::string& id) {
        auto v = store->find_verification(id);
        return v ? v->state : "(none)";
    }
};

storage::SendLimits limits(int per_destination, int per_ip, std::int64_t window_ms = 60'000) {
    storage::SendLimits l;
    l.per_destination = per_destination;
    l.per_ip = per_ip;
    l.window_ms = window_ms;
    return l;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(enrollment_store)

BOOST_FIXTURE_TEST_CASE(sends_per_destination_in_a_sliding_window, Enrollment) {
    const auto l = limits(3, 100);
    // Three codes to one phone from three addresses: the destination limit.
    BOOST_TEST((start(verification("v1", 1000, "+491", "1.1.1.1"), l) ==
                VerificationStart::Status::started));
    BOOST_TEST((start(verification("v2", 2000, "+491", "1.1.1.2"), l) ==
                VerificationStart::Status::started));
    BOOST_TEST((start(verification("v3", 3000, "+491", "1.1.1.3"), l) ==
                VerificationStart::Status::started));
    auto refused = store->start_verification(verification("v4", 4000, "+491", "1.1.1.4"), l);
    BOOST_TEST((refused.status == VerificationStart::Status::limited));
    // The oldest send (1000) leaves the window at 1000 + 60000.
    BOOST_TEST(refused.retry_after_ms == 57'000);
    BOOST_TEST(!store->find_verification("v4"));
    // Another destination is not limited by this one.
    BOOST_TEST((start(verification("other", 4000, "+492", "1.1.1.4"), l) ==
                VerificationStart::Status::started));
    // One millisecond early: still limited.
    BOOST_TEST((start(verification("v5", 4000 + refused.retry_after_ms - 1, "+491", "1.1.1.5"),
                      l) == VerificationStart::Status::limited));
    // At retry_after the window slid past the oldest send; the refused sends did not count.
    BOOST_TEST((start(verification("v6", 4000 + refused.retry_after_ms, "+491", "1.1.1.6"), l) ==
                VerificationStart::Status::started));
    BOOST_TEST(state("v6") == "pending");
    // Full again (2000, 3000, 61000): 2000 leaves the window in 500 ms, but retry_after is
    // never less than a second (Retry-After is in seconds).
    auto soon = store->start_verification(verification("v8", 61'500, "+491", "1.1.1.8"), l);
    BOOST_TEST((soon.status == VerificationStart::Status::limited));
    BOOST_TEST(soon.retry_after_ms == 1000);
}

BOOST_FIXTURE_TEST_CASE(sends_per_ip_in_a_sliding_window, Enrollment) {
    const auto l = limits(100, 2);
    BOOST_TEST((start(verification("a", 10'000, "+491", "9.9.9.9"), l) ==
                VerificationStart::Status::started));
    BOOST_TEST((start(verification("b", 20'000, "+492", "9.9.9.9"), l) ==
                VerificationStart::Status::started));
    auto refused = store->start_verification(verification("c", 30'000, "+493", "9.9.9.9"), l);
    BOOST_TEST((refused.status == VerificationStart::Status::limited));
    BOOST_TEST(refused.retry_after_ms == 10'000 + 60'000 - 30'000);
    BOOST_TEST(refused.retry_after_ms > 0);
    BOOST_TEST(refused.retry_after_ms <= l.window_ms);
    // The same destination from another address is fine.
    BOOST_TEST((start(verification("d", 30'000, "+493", "8.8.8.8"), l) ==
                VerificationStart::Status::started));
    BOOST_TEST((start(verification("e", 70'001, "+494", "9.9.9.9"), l) ==
                VerificationStart::Status::started));
}

BOOST_FIXTURE_TEST_CASE(retry_after_waits_for_both_limits, Enrollment) {
    // Both limits reached, the address's oldest send leaves the window last: retry_after
    // must wait for it, or the retry it announces is refused again.
    const auto l = limits(2, 2);
    BOOST_TEST(
        (start(verification("a", 0, "+49X", "2.2.2.2"), l) == VerificationStart::Status::started));
    BOOST_TEST((start(verification("b", 100, "+49Y", "1.1.1.1"), l) ==
                VerificationStart::Status::started));
    BOOST_TEST((start(verification("c", 200, "+49X", "1.1.1.1"), l) ==
                VerificationStart::Status::started));
    // +49X: sends at 0 and 200; 1.1.1.1: sends at 100 and 200. Both full.
    auto refused = store->start_verification(verification("d", 300, "+49X", "1.1.1.1"), l);
    BOOST_TEST((refused.status == VerificationStart::Status::limited));
    BOOST_TEST(refused.retry_after_ms == 100 + 60'000 - 300);  // the address frees at 60100
    auto retried = store->start_verification(
        verification("e", 300 + refused.retry_after_ms, "+49X", "1.1.1.1"), l);
    BOOST_TEST((retried.status == VerificationStart::Status::started));
}

BOOST_FIXTURE_TEST_CASE(a_resend_replaces_the_pending_verification, Enrollment) {
    BOOST_TEST((start(verification("v1", 1000)) == VerificationStart::Status::started));
    auto v2 = verification("v2", 2000);
    v2.replaces = "v1";
    BOOST_TEST((start(v2) == VerificationStart::Status::started));
    BOOST_TEST(state("v1") == "replaced");
    BOOST_TEST(state("v2") == "pending");
    // The replaced code no longer works.
    auto old = store->check_code("v1", program.id, "hash-of-v1", 5, 3000);
    BOOST_TEST((old.status == CodeCheckOutcome::Status::gone));
    // Resending the replaced one again: gone, nothing recorded.
    auto v3 = verification("v3", 3000);
    v3.replaces = "v1";
    BOOST_TEST((start(v3) == VerificationStart::Status::gone));
    BOOST_TEST(!store->find_verification("v3"));
    BOOST_TEST(state("v2") == "pending");
    // A used one cannot be resent either.
    BOOST_TEST((store->check_code("v2", program.id, "hash-of-v2", 5, 3000).status ==
                CodeCheckOutcome::Status::ok));
    auto v4 = verification("v4", 4000);
    v4.replaces = "v2";
    BOOST_TEST((start(v4) == VerificationStart::Status::gone));
    BOOST_TEST(!store->find_verification("v4"));
    // Unknown, or another program's verification: gone.
    BOOST_TEST((start(verification("v5", 5000)) == VerificationStart::Status::started));
    auto v6 = verification("v6", 6000);
    v6.replaces = "nope";
    BOOST_TEST((start(v6) == VerificationStart::Status::gone));
    auto other = make_program("other");
    auto v7 = verification("v7", 7000);
    v7.program = other.id;
    v7.replaces = "v5";
    BOOST_TEST((start(v7) == VerificationStart::Status::gone));
    BOOST_TEST(state("v5") == "pending");
    // Only the sends that were recorded count: v1, v2, v5.
    BOOST_TEST(scalar("SELECT COUNT(*) FROM code_sends") == 3);
}

BOOST_FIXTURE_TEST_CASE(a_refused_resend_leaves_the_old_code_usable, Enrollment) {
    const auto l = limits(2, 100);
    BOOST_TEST((start(verification("v1", 1000), l) == VerificationStart::Status::started));
    auto v2 = verification("v2", 2000);
    v2.replaces = "v1";
    BOOST_TEST((start(v2, l) == VerificationStart::Status::started));
    auto v3 = verification("v3", 3000);
    v3.replaces = "v2";
    auto refused = store->start_verification(v3, l);
    BOOST_TEST((refused.status == VerificationStart::Status::limited));
    BOOST_TEST(refused.retry_after_ms == 1000 + 60'000 - 3000);
    BOOST_TEST(state("v2") == "pending");
    BOOST_TEST(!store->find_verification("v3"));
    auto ok = store->check_code("v2", program.id, "hash-of-v2", 5, 3500);
    BOOST_TEST((ok.status == CodeCheckOutcome::Status::ok));
}

BOOST_FIXTURE_TEST_CASE(wrong_codes_count_until_too_many, Enrollment) {
    BOOST_TEST((start(verification("v", 1000)) == VerificationStart::Status::started));
    auto w1 = store->check_code("v", program.id, "bad", 3, 2000);
    BOOST_TEST((w1.status == CodeCheckOutcome::Status::wrong));
    BOOST_TEST(w1.attempts_left == 2);
    BOOST_TEST(!w1.verification);
    auto w2 = store->check_code("v", program.id, "hash-of-w", 3, 2000);  // same length
    BOOST_TEST((w2.status == CodeCheckOutcome::Status::wrong));
    BOOST_TEST(w2.attempts_left == 1);
    auto w3 = store->check_code("v", program.id, "bad", 3, 2000);
    BOOST_TEST((w3.status == CodeCheckOutcome::Status::too_many));
    BOOST_TEST(w3.attempts_left == 0);
    BOOST_TEST(store->find_verification("v")->attempts == 3);
    // Locked for good: the right code does not help any more, and counts nothing.
    auto right = store->check_code("v", program.id, "hash-of-v", 3, 2000);
    BOOST_TEST((right.status == CodeCheckOutcome::Status::too_many));
    BOOST_TEST(!right.verification);
    BOOST_TEST(store->find_verification("v")->attempts == 3);
    BOOST_TEST(state("v") == "pending");
}

BOOST_FIXTURE_TEST_CASE(the_right_code_works_once, Enrollment) {
    BOOST_TEST((start(verification("v", 1000)) == VerificationStart::Status::started));
    BOOST_TEST((store->check_code("v", program.id, "bad", 5, 2000).status ==
                CodeCheckOutcome::Status::wrong));
    auto ok = store->check_code("v", program.id, "hash-of-v", 5, 2000);
    BOOST_TEST((ok.status == CodeCheckOutcome::Status::ok));
    BOOST_TEST(ok.attempts_left == 4);
    BOOST_REQUIRE(ok.verification);
    BOOST_TEST(ok.verification->id == "v");
    BOOST_TEST(ok.verification->program == program.id);
    BOOST_TEST(ok.verification->channel == "phone");
    BOOST_TEST(ok.verification->destination == "+4915112345678");
    BOOST_TEST(ok.verification->form_json == R"({"name":"Ann"})");
    BOOST_TEST(ok.verification->expires_at_ms == 601'000);
    BOOST_TEST(ok.verification->created_at_ms == 1000);
    BOOST_TEST(state("v") == "used");
    auto again = store->check_code("v", program.id, "hash-of-v", 5, 2001);
    BOOST_TEST((again.status == CodeCheckOutcome::Status::gone));
    BOOST_TEST(!again.verification);
    BOOST_TEST((store->check_code("nope", program.id, "hash-of-v", 5, 2001).status ==
                CodeCheckOutcome::Status::gone));
}

BOOST_FIXTURE_TEST_CASE(expired_codes_and_other_programs, Enrollment) {
    BOOST_TEST((start(verification("v", 1000)) == VerificationStart::Status::started));
    const std::int64_t expires = 601'000;
    BOOST_TEST((store->check_code("v", program.id, "hash-of-v", 5, expires).status ==
                CodeCheckOutcome::Status::expired));
    BOOST_TEST((store->check_code("v", program.id, "bad", 5, expires + 5).status ==
                CodeCheckOutcome::Status::expired));
    BOOST_TEST(store->find_verification("v")->attempts == 0);  // expiry counts no attempt
    // Another program's form cannot use the code; that counts nothing either.
    auto other = make_program("other");
    BOOST_TEST((store->check_code("v", other.id, "hash-of-v", 5, 2000).status ==
                CodeCheckOutcome::Status::gone));
    BOOST_TEST((store->check_code("v", other.id, "bad", 5, 2000).status ==
                CodeCheckOutcome::Status::gone));
    BOOST_TEST(store->find_verification("v")->attempts == 0);
    BOOST_TEST(state("v") == "pending");
    // One millisecond before expiry the code still works.
    BOOST_TEST((store->check_code("v", program.id, "hash-of-v", 5, expires - 1).status ==
                CodeCheckOutcome::Status::ok));
}

BOOST_FIXTURE_TEST_CASE(rows_older_than_a_day_are_purged, Enrollment) {
    BOOST_TEST(
        (start(verification("old", 0, "+491", "1.1.1.1")) == VerificationStart::Status::started));
    BOOST_TEST((start(verification("young", 10'000, "+492", "1.1.1.2")) ==
                VerificationStart::Status::started));
    BOOST_TEST(scalar("SELECT COUNT(*) FROM code_sends") == 2);
    BOOST_TEST((start(verification("new", kDayMs + 1, "+493", "1.1.1.3")) ==
                VerificationStart::Status::started));
    BOOST_TEST(!store->find_verification("old"));
    BOOST_TEST(store->find_verification("young").has_value());
    BOOST_TEST(store->find_verification("new").has_value());
    BOOST_TEST(scalar("SELECT COUNT(*) FROM code_sends") == 2);
    BOOST_TEST(scalar("SELECT COUNT(*) FROM code_sends WHERE created_at = 0") == 0);
    // A window longer than a day keeps its sends as long as the window.
    const auto long_window = limits(5, 20, 3 * kDayMs);
    BOOST_TEST((start(verification("later", 2 * kDayMs + 20'000, "+494", "1.1.1.4"), long_window) ==
                VerificationStart::Status::started));
    BOOST_TEST(store->find_verification("young").has_value());
    BOOST_TEST(scalar("SELECT COUNT(*) FROM code_sends") == 3);
}

BOOST_FIXTURE_TEST_CASE(cards_by_contact_and_referral_code, Enrollment) {
    auto first = new_card(program.id, "+4915100000001", "ann@example.com");
    first.referral_code = "ann-invite";
    auto a = create(first);
    auto b = create(new_card(program.id, "+4915100000001", ""));  // the same phone again
    auto c = create(new_card(program.id, "", "bob@example.com"));
    auto other = make_program("other");
    auto d = create(new_card(other.id, "+4915100000009", "dan@example.com"));
    using storage::ContactKind;
    auto by_phone = store->find_card_by_contact(program.id, ContactKind::phone, "+4915100000001");
    BOOST_REQUIRE(by_phone);
    BOOST_TEST(by_phone->id == a.id);  // the oldest one
    BOOST_TEST(b.id != a.id);
    BOOST_TEST(store->find_card_by_contact(program.id, ContactKind::email, "bob@example.com")->id ==
               c.id);
    BOOST_TEST(store->find_card_by_contact(program.id, ContactKind::email, "ann@example.com")->id ==
               a.id);
    // The kind decides the column; another program's cards are not found.
    BOOST_TEST(!store->find_card_by_contact(program.id, ContactKind::phone, "ann@example.com"));
    BOOST_TEST(!store->find_card_by_contact(program.id, ContactKind::phone, "+4915100000009"));
    BOOST_TEST(store->find_card_by_contact(other.id, ContactKind::phone, "+4915100000009")->id ==
               d.id);
    BOOST_TEST(!store->find_card_by_contact(program.id, ContactKind::email, ""));
    BOOST_TEST(!store->find_card_by_contact(program.id, ContactKind::phone, ""));

    BOOST_TEST(a.referral_code == "ann-invite");
    BOOST_TEST(store->find_card_by_referral(program.id, "ann-invite")->id == a.id);
    BOOST_TEST(!store->find_card_by_referral(other.id, "ann-invite"));
    BOOST_TEST(!store->find_card_by_referral(program.id, "nope"));
    BOOST_TEST(store->find_card_by_referral(program.id, c.referral_code)->id == c.id);
    // Generated codes: present and different for every card.
    std::set<std::string> codes{a.referral_code, b.referral_code, c.referral_code, d.referral_code};
    BOOST_TEST(codes.size() == 4u);
    BOOST_TEST(b.referral_code.size() == 10u);
    BOOST_TEST(b.referral_code.find_first_not_of("0123456789abcdef") == std::string::npos);
    // An invite code is unique in its program only.
    auto dup = new_card(program.id);
    dup.referral_code = "ann-invite";
    BOOST_TEST((store->create_card(dup).status == storage::StoreStatus::conflict));
    auto elsewhere = new_card(other.id);
    elsewhere.referral_code = "ann-invite";
    BOOST_TEST((store->create_card(elsewhere).status == storage::StoreStatus::ok));
    // The verified flag is stored.
    auto verified = new_card(program.id);
    verified.verified = true;
    BOOST_TEST(create(verified).verified);
    BOOST_TEST(!a.verified);
}

BOOST_FIXTURE_TEST_CASE(referrals_credit_both_cards_once_per_person, Enrollment) {
    auto r = new_card(program.id, "+4915100000001");
    r.referral_code = "ref-r";
    auto referrer = create(r);
    BOOST_TEST((store->register_device("dev1", "tok1", "pass.x", referrer.serial, 5000) ==
                storage::RegisterStatus::created));
    BOOST_TEST(outbox_rows() == 0);
    const auto invited = [&](const std::string& code, const std::string& person,
                             std::int64_t referrer_bonus = 50, std::int64_t friend_bonus = 20) {
        auto n = new_card(program.id, person.starts_with("+") ? person : "",
                          person.starts_with("+") ? "" : person);
        n.source = "join";
        storage::NewReferral ref;
        ref.code = code;
        ref.person = person;
        ref.referrer_bonus = referrer_bonus;
        ref.friend_bonus = friend_bonus;
        ref.merchant = merchant.id;
        n.referral = ref;
        return create(n);
    };

    auto f1 = invited("ref-r", "+4915100000002");
    BOOST_TEST(f1.balance == 20);  // the returned card includes the bonus
    BOOST_TEST(f1.lifetime_points == 20);
    BOOST_TEST(card(referrer.id).balance == 50);
    BOOST_TEST(card(referrer.id).update_seq > referrer.update_seq);
    BOOST_TEST(ledger_rows(f1.id, "Welcome bonus: joined by invitation") == 1);
    BOOST_TEST(ledger_rows(referrer.id, "Referral bonus: a friend joined") == 1);
    auto entries = store->list_transactions(referrer.id, 10, INT64_MAX);
    BOOST_REQUIRE(entries.size() == 1u);
    BOOST_TEST(entries[0].points == 50);
    BOOST_TEST(entries[0].balance_after == 50);
    BOOST_TEST(scalar("SELECT COUNT(*) FROM referrals") == 1);
    // The referrer's device gets a push: its pass changed.
    BOOST_TEST(outbox_rows() == 1);
    BOOST_TEST(store->outbox_counts().pending == 1);

    // The same person again (a second card): nothing for anybody.
    auto f2 = invited("ref-r", "+4915100000002");
    BOOST_TEST(f2.balance == 0);
    BOOST_TEST(ledger_rows(f2.id) == 0);
    BOOST_TEST(card(referrer.id).balance == 50);
    BOOST_TEST(ledger_rows(referrer.id) == 1);
    BOOST_TEST(scalar("SELECT COUNT(*) FROM referrals") == 1);

    // Another person through the same code: the referrer is credited again.
    auto f3 = invited("ref-r", "friend@example.com");
    BOOST_TEST(f3.balance == 20);
    BOOST_TEST(card(referrer.id).balance == 100);
    BOOST_TEST(ledger_rows(referrer.id) == 2);
    BOOST_TEST(scalar("SELECT COUNT(*) FROM referrals") == 2);
    BOOST_TEST(store->outbox_counts().pending == 1);  // coalesced into the pending push

    // An unknown code: the card is issued without any bonus.
    auto f4 = invited("no-such-code", "+4915100000004");
    BOOST_TEST(f4.balance == 0);
    BOOST_TEST(ledger_rows(f4.id) == 0);
    BOOST_TEST(card(referrer.id).balance == 100);
    BOOST_TEST(scalar("SELECT COUNT(*) FROM referrals") == 2);
    BOOST_TEST(store->find_card(f4.number).has_value());

    // A referrer bonus of 0: no ledger row for the referrer, the friend still gets theirs.
    auto f5 = invited("ref-r", "+4915100000005", 0, 10);
    BOOST_TEST(f5.balance == 10);
    BOOST_TEST(ledger_rows(f5.id) == 1);
    BOOST_TEST(ledger_rows(referrer.id) == 2);
    BOOST_TEST(card(referrer.id).balance == 100);
    // And a friend bonus of 0: no row for the friend.
    auto f6 = invited("ref-r", "+4915100000006", 7, 0);
    BOOST_TEST(f6.balance == 0);
    BOOST_TEST(ledger_rows(f6.id) == 0);
    BOOST_TEST(card(referrer.id).balance == 107);
    BOOST_TEST(scalar("SELECT COUNT(*) FROM referrals") == 4);

    // No person (neither phone nor email): no bonus.
    auto f7 = invited("ref-r", "");
    BOOST_TEST(f7.balance == 0);
    BOOST_TEST(card(referrer.id).balance == 107);

    // The referrer's code in another program means nothing there.
    auto other = make_program("other");
    auto elsewhere = new_card(other.id, "+4915100000008");
    storage::NewReferral ref;
    ref.code = "ref-r";
    ref.person = "+4915100000008";
    ref.referrer_bonus = 50;
    ref.friend_bonus = 20;
    ref.merchant = merchant.id;
    elsewhere.referral = ref;
    BOOST_TEST(create(elsewhere).balance == 0);
    BOOST_TEST(card(referrer.id).balance == 107);
}

BOOST_FIXTURE_TEST_CASE(birthday_grants_once_a_year, Enrollment) {
    auto make = [&](const std::string& birthday) {
        auto n = new_card(program.id);
        n.birthday = birthday;
        return create(n);
    };
    auto a = make("1990-03-15");
    auto other_day = make("1990-03-16");
    auto none = make("");
    store->register_device("dev1", "tok1", "pass.x", a.serial, 5000);
    storage::BirthdayGrant g;
    g.program = program.id;
    g.merchant = merchant.id;
    g.month_days = {"03-15"};
    g.year = 2026;
    g.bonus = 25;
    g.offer = "Free cake today";
    g.note = "Birthday bonus";
    g.now_ms = 1'773'532'800'000;  // 2026-03-15
    BOOST_TEST(store->grant_birthdays(g) == 1);
    auto after = card(a.id);
    BOOST_TEST(after.balance == 25);
    BOOST_TEST(after.offer == "Free cake today");
    BOOST_TEST(after.update_seq > a.update_seq);
    BOOST_TEST(ledger_rows(a.id, "Birthday bonus") == 1);
    BOOST_TEST(store->outbox_counts().pending == 1);
    BOOST_TEST(card(other_day.id).balance == 0);
    BOOST_TEST(card(other_day.id).offer == "");
    BOOST_TEST(card(none.id).balance == 0);
    BOOST_TEST(scalar("SELECT birthday_year FROM cards WHERE id = " +
                      std::to_string(a.id.value())) == 2026);
    // Once per year.
    BOOST_TEST(store->grant_birthdays(g) == 0);
    BOOST_TEST(card(a.id).balance == 25);
    BOOST_TEST(ledger_rows(a.id) == 1);
    // The next year again.
    g.year = 2027;
    BOOST_TEST(store->grant_birthdays(g) == 1);
    BOOST_TEST(card(a.id).balance == 50);
    BOOST_TEST(ledger_rows(a.id, "Birthday bonus") == 2);
    // Two month-days at most (28 February with 29 February), at least one.
    g.year = 2028;
    g.month_days = {};
    BOOST_CHECK_THROW(store->grant_birthdays(g), storage::StorageError);
    g.month_days = {"03-15", "03-16", "03-17"};
    BOOST_CHECK_THROW(store->grant_birthdays(g), storage::StorageError);
    g.month_days = {"03-15", "03-16"};
    BOOST_TEST(store->grant_birthdays(g) == 2);
    BOOST_TEST(card(other_day.id).balance == 25);
}

BOOST_FIXTURE_TEST_CASE(birthday_grants_respect_the_limit, Enrollment) {
    std::vector<domain::Card> cards;
    for (int i = 0; i < 5; ++i) {
        auto n = new_card(program.id);
        n.birthday = "1985-07-0" + std::to_string(i % 2 == 0 ? 1 : 2);  // 3 on 07-01
        cards.push_back(create(n));
    }
    storage::BirthdayGrant g;
    g.program = program.id;
    g.merchant = merchant.id;
    g.month_days = {"07-01"};
    g.year = 2026;
    g.bonus = 5;
    g.note = "Birthday bonus";
    g.now_ms = 1'782'864'000'000;
    g.limit = 2;
    BOOST_TEST(store->grant_birthdays(g) == 2);
    BOOST_TEST(store->grant_birthdays(g) == 1);
    BOOST_TEST(store->grant_birthdays(g) == 0);
    for (std::size_t i = 0; i < cards.size(); ++i) {
        const bool on_the_day = i % 2 == 0;
        BOOST_TEST(card(cards[i].id).balance == (on_the_day ? 5 : 0));
        BOOST_TEST(ledger_rows(cards[i].id) == (on_the_day ? 1 : 0));
        BOOST_TEST(card(cards[i].id).offer == "");  // no offer in the grant: unchanged
    }
}

BOOST_FIXTURE_TEST_CASE(birthday_offer_without_bonus_updates_the_pass, Enrollment) {
    auto n = new_card(program.id);
    n.birthday = "2001-12-31";
    n.balance = 3;
    auto c = create(n);
    store->register_device("dev1", "tok1", "pass.x", c.serial, 5000);
    BOOST_TEST(outbox_rows() == 0);
    storage::BirthdayGrant g;
    g.program = program.id;
    g.merchant = merchant.id;
    g.month_days = {"12-31"};
    g.year = 2026;
    g.offer = "A free coffee for your birthday";
    g.note = "Birthday bonus";
    g.now_ms = 1'798'675'200'000;
    BOOST_TEST(store->grant_birthdays(g) == 1);
    auto after = card(c.id);
    BOOST_TEST(after.offer == "A free coffee for your birthday");
    BOOST_TEST(after.balance == 3);
    BOOST_TEST(after.update_seq > c.update_seq);
    BOOST_TEST(after.modified_at > c.modified_at);
    BOOST_TEST(ledger_rows(c.id) == 0);
    BOOST_TEST(outbox_rows() == 1);
    BOOST_TEST(store->grant_birthdays(g) == 0);
    BOOST_TEST(card(c.id).update_seq == after.update_seq);
}

BOOST_FIXTURE_TEST_CASE(program_stats_count_what_happened, Enrollment) {
    auto empty = store->program_stats(program.id);
    BOOST_TEST(empty.cards == 0);
    BOOST_TEST(empty.cards_by_source.empty());
    BOOST_TEST(empty.transactions == 0);

    auto r = new_card(program.id, "+4915100000001");
    r.referral_code = "ref-r";
    auto referrer = create(r);  // source api
    auto api2 = create(new_card(program.id));
    auto joined = new_card(program.id, "+4915100000002");
    joined.source = "join";
    joined.verified = true;
    storage::NewReferral ref;
    ref.code = "ref-r";
    ref.person = "+4915100000002";
    ref.referrer_bonus = 50;
    ref.friend_bonus = 20;
    ref.merchant = merchant.id;
    joined.referral = ref;
    auto friend_card = create(joined);
    auto flyer = new_card(program.id);
    flyer.source = "flyer";
    create(flyer);
    // Another program's activity does not count here.
    auto other = make_program("other");
    auto elsewhere = create(new_card(other.id));
    store->register_device("devX", "tokX", "pass.x", elsewhere.serial, 5000);

    storage::NewTransaction t;
    t.card = api2.id;
    t.merchant = merchant.id;
    t.points = 100;
    t.now_ms = 2'000'000;
    BOOST_TEST((store->apply_transaction(t).status == storage::LedgerStatus::applied));
    t.points = -30;
    BOOST_TEST((store->apply_transaction(t).status == storage::LedgerStatus::applied));
    t.card = elsewhere.id;
    t.points = 999;
    BOOST_TEST((store->apply_transaction(t).status == storage::LedgerStatus::applied));

    store->register_device("dev1", "tok1", "pass.x", referrer.serial, 5000);
    store->register_device("dev1", "tok1", "pass.x", api2.serial, 5000);
    store->register_device("dev2", "tok2", "pass.x", friend_card.serial, 5000);
    store->register_device("dev2", "tok2", "pass.x", friend_card.serial, 6000);  // update
    BOOST_TEST(store->unregister_device("dev1", "pass.x", api2.serial, 7000));

    auto s = store->program_stats(program.id);
    BOOST_TEST(s.cards == 4);
    BOOST_TEST(s.cards_by_source.size() == 3u);
    BOOST_TEST(s.cards_by_source["api"] == 2);
    BOOST_TEST(s.cards_by_source["join"] == 1);
    BOOST_TEST(s.cards_by_source["flyer"] == 1);
    BOOST_TEST(s.verified_cards == 1);
    BOOST_TEST(s.referrals == 1);
    BOOST_TEST(s.transactions == 4);  // two referral credits, +100, -30
    BOOST_TEST(s.points_earned == 50 + 20 + 100);
    BOOST_TEST(s.points_redeemed == 30);
    BOOST_TEST(s.passes_installed == 3);
    BOOST_TEST(s.passes_removed == 1);
    BOOST_TEST(s.devices == 2);

    auto o = store->program_stats(other.id);
    BOOST_TEST(o.cards == 1);
    BOOST_TEST(o.transactions == 1);
    BOOST_TEST(o.points_earned == 999);
    BOOST_TEST(o.passes_installed == 1);
    BOOST_TEST(o.devices == 1);
}

BOOST_FIXTURE_TEST_CASE(list_programs_returns_all_with_their_settings, Enrollment) {
    auto b = make_program("second");
    auto c = make_program("third");
    domain::EnrollmentSettings s;
    s.birthday = domain::FieldMode::optional;
    s.birthday_bonus = 15;
    s.referrer_bonus = 40;
    BOOST_TEST((store->set_program_enrollment(
                    b.id, boost::json::serialize(domain::enrollment_to_json(
                              s, domain::SettingsJson::storage))) == storage::StoreStatus::ok));
    auto all = store->list_programs();
    BOOST_REQUIRE(all.size() == 3u);
    BOOST_TEST(all[0].id == program.id);
    BOOST_TEST(all[1].id == b.id);
    BOOST_TEST(all[2].id == c.id);
    BOOST_TEST(all[2].slug == "third");
    BOOST_TEST(all[2].design.organization_name == "x");
    BOOST_TEST(all[1].enrollment.birthday_bonus == 15);
    BOOST_TEST(all[1].enrollment.referrer_bonus == 40);
    BOOST_TEST(all[1].enrollment.birthday_on());
    BOOST_TEST(!all[0].enrollment.birthday_on());
    BOOST_TEST(!all[0].enrollment.referrals_on());
}

BOOST_AUTO_TEST_SUITE_END()
