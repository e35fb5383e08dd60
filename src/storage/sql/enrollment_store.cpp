// The store's enrollment parts (see store.hpp): verification codes with their send
// limits, finding a card by contact or invite code, referral bonuses, birthday grants and
// the program's stats.
#include "storage/sql/events.hpp"
#include "storage/sql/rows.hpp"
#include "storage/sql/sql_store.hpp"

namespace cardsmith::storage::sql {
namespace {

constexpr std::int64_t kKeepCodesMs = 86'400'000;  // verification rows and sends: one day

constexpr const char* kVerificationById =
    "SELECT id, program_id, channel, destination, form_json, state, attempts, expires_at, "
    "created_at FROM verifications WHERE id = ?1";

PendingVerification read_verification(const Statement& st) {
    PendingVerification v;
    v.id = st.text(0);
    v.program = ProgramId(st.int64(1));
    v.channel = st.text(2);
    v.destination = st.text(3);
    v.form_json = st.text(4);
    v.state = st.text(5);
    v.attempts = static_cast<int>(st.int64(6));
    v.expires_at_ms = st.int64(7);
    v.created_at_ms = st.int64(8);
    return v;
}

// Sends to (or from) `value` inside the window, and when the send that must leave the
// window before one more is allowed does so (0 when under the limit).
struct WindowUse {
    std::int64_t count = 0;
    std::int64_t frees_at_ms = 0;
};

WindowUse window_use(Connection& c, const char* count_sql, const char* nth_sql,
                     std::string_view value, std::int64_t since, int limit,
                     std::int64_t window_ms) {
    WindowUse use;
    auto st = c.prepare(count_sql);
    st.bind(1, value).bind(2, since);
    st.step();
    use.count = st.int64(0);
    if (use.count >= limit) {
        // With count sends in the window, the (count - limit + 1)-th oldest must leave.
        auto nth = c.prepare(nth_sql);
        nth.bind(1, value).bind(2, since).bind(3, use.count - limit);
        if (nth.step()) {
            use.frees_at_ms = nth.int64(0) + window_ms;
        }
    }
    return use;
}

bool same_hash(std::string_view a, std::string_view b) {
    // Constant time for equal lengths; the hashes are fixed-length hex.
    if (a.size() != b.size()) {
        return false;
    }
    unsigned char diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    }
    return diff == 0;
}

}  // namespace

std::optional<domain::Card> SqlStore::find_card_by_contact(ProgramId program, ContactKind kind,
                                                           std::string_view value) {
    auto c = lease();
    auto st = c->prepare(kind == ContactKind::phone ? kCardByPhone : kCardByEmail);
    st.bind(1, program.value()).bind(2, value);
    if (!st.step()) {
        return std::nullopt;
    }
    return read_card(st);
}

std::optional<domain::Card> SqlStore::find_card_by_referral(ProgramId program,
                                                            std::string_view code) {
    auto c = lease();
    auto st = c->prepare(kCardByReferral);
    st.bind(1, program.value()).bind(2, code);
    if (!st.step()) {
        return std::nullopt;
    }
    return read_card(st);
}

VerificationStart SqlStore::start_verification(const NewVerification& v, const SendLimits& limits) {
    auto c = lease();
    Transaction tx(*c);
    const std::int64_t purge_before = v.now_ms - std::max(kKeepCodesMs, limits.window_ms);
    c->prepare("DELETE FROM verifications WHERE created_at < ?1").bind(1, purge_before).run();
    c->prepare("DELETE FROM code_sends WHERE created_at < ?1").bind(1, purge_before).run();
    VerificationStart out;
    if (!v.replaces.empty()) {
        auto old = c->prepare(
            "UPDATE verifications SET state = 'replaced' WHERE id = ?1 AND program_id = ?2 AND "
            "state = 'pending'");
        old.bind(1, v.replaces).bind(2, v.program.value()).run();
        if (c->changes() == 0) {
            out.status = VerificationStart::Status::gone;
            return out;
        }
    }
    const std::int64_t since = v.now_ms - limits.window_ms;
    const auto to_destination =
        window_use(*c, "SELECT COUNT(*) FROM code_sends WHERE destination = ?1 AND created_at > ?2",
                   "SELECT created_at FROM code_sends WHERE destination = ?1 AND created_at > ?2 "
                   "ORDER BY created_at LIMIT 1 OFFSET ?3",
                   v.destination, since, limits.per_destination, limits.window_ms);
    const auto from_ip =
        window_use(*c, "SELECT COUNT(*) FROM code_sends WHERE ip = ?1 AND created_at > ?2",
                   "SELECT created_at FROM code_sends WHERE ip = ?1 AND created_at > ?2 ORDER BY "
                   "created_at LIMIT 1 OFFSET ?3",
                   v.ip, since, limits.per_ip, limits.window_ms);
    if (to_destination.count >= limits.per_destination || from_ip.count >= limits.per_ip) {
        // Both limits may hold: the later of the two frees the next send.
        const std::int64_t frees = std::max(to_destination.frees_at_ms, from_ip.frees_at_ms);
        out.status = VerificationStart::Status::limited;
        out.retry_after_ms = std::max<std::int64_t>(frees - v.now_ms, 1000);
        return out;  // rolled back: a resend that was refused leaves the old code usable
    }
    c->prepare("INSERT INTO code_sends (destination, ip, created_at) VALUES (?1, ?2, ?3)")
        .bind(1, v.destination)
        .bind(2, v.ip)
        .bind(3, v.now_ms)
        .run();
    c->prepare(
         "INSERT INTO verifications (id, program_id, channel, destination, code_hash, "
         "form_json, expires_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
        .bind(1, v.id)
        .bind(2, v.program.value())
        .bind(3, v.channel)
        .bind(4, v.destination)
        .bind(5, v.code_hash)
        .bind(6, v.form_json)
        .bind(7, v.expires_at_ms)
        .bind(8, v.now_ms)
        .run();
    tx.commit();
    return out;
}

std::optional<PendingVerification> SqlStore::find_verification(std::string_view id) {
    auto c = lease();
    auto st = c->prepare(kVerificationById);
    st.bind(1, id);
    if (!st.step()) {
        return std::nullopt;
    }
    return read_verification(st);
}

CodeCheckOutcome SqlStore::check_code(std::string_view id, ProgramId program,
                                      std::string_view code_hash, int max_attempts,
                                      std::int64_t now_ms) {
    auto c = lease();
    Transaction tx(*c);
    CodeCheckOutcome out;
    auto st = c->prepare(
        "SELECT id, program_id, channel, destination, form_json, state, attempts, expires_at, "
        "created_at, code_hash FROM verifications WHERE id = ?1");
    st.bind(1, id);
    if (!st.step()) {
        return out;  // gone
    }
    auto v = read_verification(st);
    const std::string stored_hash = st.text(9);
    if (v.program != program || v.state != "pending") {
        return out;
    }
    if (v.attempts >= max_attempts) {
        out.status = CodeCheckOutcome::Status::too_many;
        return out;
    }
    if (now_ms >= v.expires_at_ms) {
        out.status = CodeCheckOutcome::Status::expired;
        return out;
    }
    if (!same_hash(stored_hash, code_hash)) {
        c->prepare("UPDATE verifications SET attempts = attempts + 1 WHERE id = ?1")
            .bind(1, id)
            .run();
        tx.commit();
        out.attempts_left = max_attempts - v.attempts - 1;
        out.status = out.attempts_left > 0 ? CodeCheckOutcome::Status::wrong
                                           : CodeCheckOutcome::Status::too_many;
        return out;
    }
    c->prepare("UPDATE verifications SET state = 'used' WHERE id = ?1").bind(1, id).run();
    tx.commit();
    out.status = CodeCheckOutcome::Status::ok;
    out.attempts_left = max_attempts - v.attempts;
    out.verification = std::move(v);
    return out;
}

bool SqlStore::apply_referral(Connection& c, std::int64_t card_id, const NewCard& card) {
    const auto& r = *card.referral;
    auto referrer = c.prepare("SELECT id FROM cards WHERE program_id = ?1 AND referral_code = ?2");
    referrer.bind(1, card.program.value()).bind(2, r.code);
    if (!referrer.step() || r.person.empty()) {
        return false;
    }
    const std::int64_t referrer_id = referrer.int64(0);
    // Once per person: the unique (program, person) index says whether this one is new.
    auto ins = c.prepare(
        "INSERT INTO referrals (program_id, referrer_card_id, card_id, person, created_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING");
    ins.bind(1, card.program.value())
        .bind(2, referrer_id)
        .bind(3, card_id)
        .bind(4, r.person)
        .bind(5, card.now)
        .run();
    if (c.changes() == 0) {
        return false;
    }
    const auto credit = [&](std::int64_t id, std::int64_t points, std::string_view note) {
        if (points <= 0) {
            return;
        }
        NewTransaction t;
        t.card = CardId(id);
        t.merchant = r.merchant;
        t.points = points;
        t.note = std::string(note);
        t.now_ms = card.now * 1000;
        t.bonus = true;
        // A referrer near the balance cap simply gets nothing; the card is still issued.
        (void)apply_ledger(c, t);
    };
    credit(referrer_id, r.referrer_bonus, "Referral bonus: a friend joined");
    credit(card_id, r.friend_bonus, "Welcome bonus: joined by invitation");
    return true;
}

int SqlStore::grant_birthdays(const BirthdayGrant& g) {
    if (g.month_days.empty() || g.month_days.size() > 2) {
        throw StorageError("grant_birthdays takes one or two month-days");
    }
    auto c = lease();
    Transaction tx(*c);
    // PostgreSQL: instances granting at the same time skip the cards another is granting
    // (those are marked for the year when it commits), so no one gets two bonuses.
    auto st = c->prepare(
        c->dialect() == Dialect::postgres
            ? "SELECT id FROM cards WHERE program_id = ?1 AND birthday IS NOT NULL AND "
              "substr(birthday, 6, 5) IN (?2, ?3) AND (birthday_year IS NULL OR birthday_year < "
              "?4) ORDER BY id LIMIT ?5 FOR UPDATE SKIP LOCKED"
            : "SELECT id FROM cards WHERE program_id = ?1 AND birthday IS NOT NULL AND "
              "substr(birthday, 6, 5) IN (?2, ?3) AND (birthday_year IS NULL OR birthday_year < "
              "?4) ORDER BY id LIMIT ?5");
    st.bind(1, g.program.value())
        .bind(2, g.month_days.front())
        .bind(3, g.month_days.back())
        .bind(4, std::int64_t{g.year})
        .bind(5, std::int64_t{g.limit});
    std::vector<std::int64_t> ids;
    while (st.step()) {
        ids.push_back(st.int64(0));
    }
    for (const auto id : ids) {
        c->prepare("UPDATE cards SET birthday_year = ?2 WHERE id = ?1")
            .bind(1, id)
            .bind(2, std::int64_t{g.year})
            .run();
        if (!g.offer.empty()) {
            c->prepare(
                 "UPDATE cards SET offer = ?2, offer_expires_at = NULL, offer_header = NULL, "
                 "offer_link = NULL WHERE id = ?1")
                .bind(1, id)
                .bind(2, g.offer)
                .run();
        }
        LedgerOutcome credited;
        if (g.bonus > 0) {
            NewTransaction t;
            t.card = CardId(id);
            t.merchant = g.merchant;
            t.points = g.bonus;
            t.note = g.note;
            t.now_ms = g.now_ms;
            t.bonus = true;
            credited = apply_ledger(*c, t);
        }
        if (credited.status != LedgerStatus::applied) {
            // No ledger row (offer only, or a balance at the cap): the offer still needs
            // the pass updated.
            bump_and_enqueue(*c, id, g.now_ms);
        }
    }
    tx.commit();
    return static_cast<int>(ids.size());
}

ProgramStats SqlStore::program_stats(ProgramId program) {
    auto c = lease();
    ProgramStats s;
    const auto one = [&](const char* sql) {
        auto st = c->prepare(sql);
        st.bind(1, program.value());
        st.step();
        return st.int64(0);
    };
    {
        auto st = c->prepare(
            "SELECT source, COUNT(*), SUM(verified) FROM cards WHERE program_id = ?1 GROUP BY "
            "source");
        st.bind(1, program.value());
        while (st.step()) {
            s.cards_by_source[st.text(0)] = st.int64(1);
            s.cards += st.int64(1);
            s.verified_cards += st.int64(2);
        }
    }
    s.referrals = one("SELECT COUNT(*) FROM referrals WHERE program_id = ?1");
    s.passes_installed =
        one("SELECT COUNT(*) FROM events WHERE program_id = ?1 AND kind = 'pass.installed'");
    s.passes_removed =
        one("SELECT COUNT(*) FROM events WHERE program_id = ?1 AND kind = 'pass.removed'");
    s.devices =
        one("SELECT COUNT(DISTINCT r.device_id) FROM registrations r JOIN cards c ON c.id = "
            "r.card_id WHERE c.program_id = ?1");
    {
        auto st = c->prepare(
            "SELECT COUNT(*), COALESCE(SUM(GREATEST(t.points, 0)), 0), "
            "COALESCE(SUM(GREATEST(-t.points, "
            "0)), 0) FROM transactions t JOIN cards c ON c.id = t.card_id WHERE c.program_id = "
            "?1");
        st.bind(1, program.value());
        st.step();
        s.transactions = st.int64(0);
        s.points_earned = st.int64(1);
        s.points_redeemed = st.int64(2);
    }
    return s;
}

bool SqlStore::mark_google_saved(CardId card, std::int64_t now_ms) {
    auto c = lease();
    Transaction tx(*c);
    c->prepare("UPDATE cards SET google_saved_at = ?2 WHERE id = ?1 AND google_saved_at IS NULL")
        .bind(1, card.value())
        .bind(2, now_ms)
        .run();
    const bool marked = c->changes() > 0;
    tx.commit();
    return marked;
}

bool SqlStore::take_google_notice(CardId card, std::int64_t now_ms) {
    constexpr std::int64_t kQuietAfterSave = 12 * 3'600'000LL;
    constexpr std::int64_t kWindow = 24 * 3'600'000LL;
    constexpr std::int64_t kPerWindow = 3;
    auto c = lease();
    Transaction tx(*c);
    auto saved = c->prepare("SELECT google_saved_at FROM cards WHERE id = ?1");
    saved.bind(1, card.value());
    if (!saved.step() || saved.text(0).empty() || now_ms - saved.int64(0) < kQuietAfterSave) {
        return false;
    }
    auto recent =
        c->prepare("SELECT COUNT(*) FROM google_notices WHERE card_id = ?1 AND created_at > ?2");
    recent.bind(1, card.value()).bind(2, now_ms - kWindow);
    recent.step();
    if (recent.int64(0) >= kPerWindow) {
        return false;
    }
    c->prepare("DELETE FROM google_notices WHERE card_id = ?1 AND created_at <= ?2")
        .bind(1, card.value())
        .bind(2, now_ms - kWindow)
        .run();
    c->prepare("INSERT INTO google_notices (card_id, created_at) VALUES (?1, ?2)")
        .bind(1, card.value())
        .bind(2, now_ms)
        .run();
    tx.commit();
    return true;
}

bool SqlStore::record_google_callback(CardId card, std::string_view kind, std::string_view nonce,
                                      std::int64_t now_ms) {
    auto c = lease();
    Transaction tx(*c);
    // Nonces older than a week cannot come back (Google's messages expire sooner).
    c->prepare("DELETE FROM google_callbacks WHERE created_at < ?1")
        .bind(1, now_ms - 7 * 86'400'000LL)
        .run();
    c->prepare(
         "INSERT INTO google_callbacks (nonce, created_at) VALUES (?1, ?2) ON CONFLICT DO "
         "NOTHING")
        .bind(1, nonce)
        .bind(2, now_ms)
        .run();
    if (c->changes() == 0) {
        return false;
    }
    (void)emit_event(*c, card.value(), 0, kind, "google", std::nullopt, now_ms,
                     {{"wallet", "google"}});
    tx.commit();
    return true;
}

}  // namespace cardsmith::storage::sql
