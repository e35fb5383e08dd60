// The store's Apple web service, ledger and outbox (see store.hpp).
#include <algorithm>
#include <map>
#include <tuple>

#include "storage/sql/events.hpp"
#include "storage/sql/rows.hpp"
#include "storage/sql/sql_store.hpp"

namespace cardsmith::storage::sql {

const char* const kClaimOutboxSql =
    "UPDATE outbox SET state = 'sending', not_before = ?2, updated_at = ?1, claimed_by = ?4 "
    "WHERE id IN "
    "(SELECT o.id FROM outbox o WHERE o.state IN ('pending', 'sending') AND "
    "o.not_before <= ?1 AND NOT EXISTS (SELECT 1 FROM outbox s WHERE s.target = o.target "
    "AND s.state = 'sending' AND +s.not_before > ?1 AND s.kind = o.kind AND "
    "s.topic = o.topic) ORDER BY o.not_before LIMIT ?3) "
    "RETURNING id, kind, target, topic, attempts, created_at, route, program_id";

// PostgreSQL: instances claiming at the same time skip each other's locked rows instead
// of waiting for them (and then claiming nothing). The in-flight check is NOT IN, not
// NOT EXISTS: the outbox is usually analysed nearly empty, and with those estimates
// NOT EXISTS was planned as a nested loop over every in-flight row for every due row
// (~1 s per claim of 1,000 rows with 2,000 in flight); NOT IN is a hashed subplan whatever
// the estimates (~20 ms). kind, target and topic are NOT NULL, so NOT IN means "not in".
const char* const kClaimOutboxSqlPg =
    "UPDATE outbox SET state = 'sending', not_before = ?2, updated_at = ?1, claimed_by = ?4 "
    "WHERE id IN "
    "(SELECT o.id FROM outbox o WHERE o.state IN ('pending', 'sending') AND "
    "o.not_before <= ?1 AND (o.kind, o.target, o.topic) NOT IN (SELECT s.kind, s.target, "
    "s.topic FROM outbox s WHERE s.state = 'sending' AND s.not_before > ?1) "
    "ORDER BY o.not_before LIMIT ?3 FOR UPDATE SKIP LOCKED) "
    "RETURNING id, kind, target, topic, attempts, created_at, route, program_id";

namespace {

constexpr std::int64_t kMaxBalance = 1'000'000'000'000'000;  // 10^15 points

std::optional<std::int64_t> card_id_by_serial(Connection& c, const SerialNumber& serial) {
    auto st = c.prepare("SELECT id FROM cards WHERE serial = ?1");
    st.bind(1, serial.value());
    if (!st.step()) {
        return std::nullopt;
    }
    return st.int64(0);
}

void record_event(Connection& c, std::int64_t card_id, std::string_view kind,
                  std::string_view wallet, std::optional<std::int64_t> device_id,
                  std::int64_t now_ms) {
    (void)emit_event(c, card_id, 0, kind, wallet, device_id, now_ms,
                     {{"wallet", std::string(wallet)}});
}

LedgerEntry read_entry(Statement& st) {
    LedgerEntry e;
    e.id = st.int64(0);
    e.points = st.int64(1);
    if (!st.text(2).empty()) {
        e.amount = st.int64(2);
    }
    e.note = st.text(3);
    e.balance_after = st.int64(4);
    e.created_at = st.int64(5);
    return e;
}

constexpr const char* kEntryById =
    "SELECT id, points, amount, note, balance_after, created_at FROM transactions WHERE id = ?1";

std::optional<domain::Card> card_by_id(Connection& c, std::int64_t id) {
    auto st = c.prepare(kCardById);
    st.bind(1, id);
    if (!st.step()) {
        return std::nullopt;
    }
    return read_card(st);
}

}  // namespace

int SqlStore::bump_and_enqueue(Connection& c, std::int64_t card_id, std::int64_t now_ms,
                               bool google_object) {
    const std::int64_t seq = next_update_seq(c);
    // Every version gets a distinct Last-Modified second (apple-wallet.md §2.3).
    c.prepare(
         "UPDATE cards SET update_seq = ?2, modified_at = GREATEST(?3, modified_at + 1) "
         "WHERE id = ?1")
        .bind(1, card_id)
        .bind(2, seq)
        .bind(3, now_ms / 1000)
        .run();
    // One push per device token, coalesced into a pending row when there is one.
    auto st = c.prepare(
        "INSERT INTO outbox (kind, target, topic, route, not_before, created_at, updated_at, "
        "program_id) SELECT DISTINCT " OUTBOX_KIND
        ", r.push_token, r.pass_type_id, "
        "COALESCE(r.push_service_url, ''), ?2, ?2, ?2, c.program_id "
        "FROM registrations r JOIN cards c ON c.id = r.card_id WHERE r.card_id = ?1 AND " PUSHABLE
        " "
        "ON CONFLICT (kind, target, topic) WHERE state = 'pending' DO UPDATE SET updated_at = "
        "excluded.updated_at");
    st.bind(1, card_id).bind(2, now_ms).run();
    int queued = c.changes();
    if (!google_object) {
        return queued;
    }
    // A card saved to Google Wallet: one PATCH of its object (coalesced like a push).
    auto google = c.prepare(
        "INSERT INTO outbox (kind, target, topic, route, not_before, created_at, updated_at, "
        "program_id) SELECT 'google_object', serial, '', '', ?2, ?2, ?2, program_id FROM cards "
        "WHERE id = ?1 AND "
        "google_saved_at IS NOT NULL "
        "ON CONFLICT (kind, target, topic) WHERE state = 'pending' DO UPDATE SET updated_at = "
        "excluded.updated_at");
    google.bind(1, card_id).bind(2, now_ms).run();
    queued += c.changes();
    return queued;
}

RegisterStatus SqlStore::register_device(std::string_view library_id, std::string_view push_token,
                                         std::string_view pass_type_id, const SerialNumber& serial,
                                         std::int64_t now_ms, const WalletClient& wallet,
                                         int max_devices) {
    auto c = lease();
    Transaction tx(*c);
    auto card = card_id_by_serial(*c, serial);
    if (!card) {
        return RegisterStatus::not_found;
    }
    if (max_devices > 0) {
        // Two devices registering the same pass at once take turns on its card (PostgreSQL;
        // SQLite has one writer), so the count below cannot be passed by both.
        lock_row(*c, "SELECT id FROM cards WHERE id = ?1 FOR UPDATE", *card);
        auto known = c->prepare(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN device_id = (SELECT id FROM devices WHERE "
            "library_id = ?2) THEN 1 ELSE 0 END), 0) FROM registrations WHERE card_id = ?1");
        known.bind(1, *card).bind(2, library_id);
        if (known.step() && known.int64(1) == 0 && known.int64(0) >= max_devices) {
            return RegisterStatus::too_many_devices;
        }
    }
    auto dev = c->prepare(
        "INSERT INTO devices (library_id, created_at) VALUES (?1, ?2) ON CONFLICT (library_id) "
        "DO UPDATE SET library_id = excluded.library_id RETURNING id");
    dev.bind(1, library_id).bind(2, now_ms / 1000);
    if (!dev.step()) {
        throw StorageError("device upsert returned nothing");
    }
    const std::int64_t device_id = dev.int64(0);
    dev.run();  // finish the statement before COMMIT
    // A new token for the pass type replaces the one on the device's other passes of it.
    c->prepare(
         "UPDATE registrations SET push_token = ?3, token_at = ?4 WHERE device_id = ?1 AND "
         "pass_type_id = ?2 AND push_token <> ?3")
        .bind(1, device_id)
        .bind(2, pass_type_id)
        .bind(3, push_token)
        .bind(4, now_ms)
        .run();
    bool inserted = false;
    {
        auto known =
            c->prepare("SELECT 1 FROM registrations WHERE device_id = ?1 AND card_id = ?2");
        known.bind(1, device_id).bind(2, *card);
        inserted = !known.step();
    }
    c->prepare(
         "INSERT INTO registrations (device_id, card_id, pass_type_id, push_token, token_at, "
         "created_at, wallet, push_service_url, user_agent) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
         "?8, ?9) ON CONFLICT (device_id, card_id) DO UPDATE SET push_token = excluded.push_token, "
         "token_at = "
         "excluded.token_at, wallet = excluded.wallet, push_service_url = "
         "excluded.push_service_url, user_agent = excluded.user_agent")
        .bind(1, device_id)
        .bind(2, *card)
        .bind(3, pass_type_id)
        .bind(4, push_token)
        .bind(5, now_ms)
        .bind(6, now_ms / 1000)
        .bind(7, wallet.kind)
        .bind_optional(8, wallet.push_service_url)
        .bind_optional(9, wallet.user_agent.substr(0, 300))
        .run();
    const bool created = inserted;
    if (created) {
        record_event(*c, *card, "pass.installed", wallet.kind, device_id, now_ms);
    }
    tx.commit();
    return created ? RegisterStatus::created : RegisterStatus::updated;
}

bool SqlStore::unregister_device(std::string_view library_id, std::string_view pass_type_id,
                                 const SerialNumber& serial, std::int64_t now_ms) {
    auto c = lease();
    Transaction tx(*c);
    auto card = card_id_by_serial(*c, serial);
    if (!card) {
        return false;
    }
    auto del = c->prepare(
        "DELETE FROM registrations WHERE card_id = ?1 AND pass_type_id = ?2 AND device_id = "
        "(SELECT id FROM devices WHERE library_id = ?3) RETURNING device_id, wallet");
    del.bind(1, *card).bind(2, pass_type_id).bind(3, library_id);
    std::optional<std::int64_t> device_id;
    std::string wallet;
    if (del.step()) {
        device_id = del.int64(0);
        wallet = del.text(1);
    }
    del.run();
    if (device_id) {
        record_event(*c, *card, "pass.removed", wallet, device_id, now_ms);
        c->prepare(
             "DELETE FROM devices WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM "
             "registrations WHERE device_id = ?1)")
            .bind(1, *device_id)
            .run();
    }
    tx.commit();
    return device_id.has_value();
}

UpdatedSerials SqlStore::updated_serials(std::string_view library_id, std::string_view pass_type_id,
                                         std::optional<std::int64_t> since) {
    auto c = lease();
    auto st = c->prepare(
        "SELECT c.serial, c.update_seq FROM registrations r JOIN devices d ON d.id = r.device_id "
        "JOIN cards c ON c.id = r.card_id WHERE d.library_id = ?1 AND r.pass_type_id = ?2 AND "
        "c.update_seq > ?3 ORDER BY c.update_seq");
    st.bind(1, library_id).bind(2, pass_type_id).bind(3, since.value_or(-1));
    UpdatedSerials out;
    while (st.step()) {
        out.serials.push_back(st.text(0));
        out.last_updated = std::max(out.last_updated, st.int64(1));
    }
    return out;
}

LedgerOutcome SqlStore::apply_transaction(const NewTransaction& t) {
    auto c = lease();
    for (int attempt = 0;; ++attempt) {
        try {
            Transaction tx(*c);
            auto out = apply_ledger(*c, t);
            if (out.status == LedgerStatus::applied) {
                tx.commit();
            }
            return out;
        } catch (const UniqueViolation&) {
            // PostgreSQL: another instance posted the same idempotency key for another card
            // (a different card lock) and committed first. Once more: now the key is seen,
            // and the answer is the replay or 409.
            if (attempt > 0 || t.idempotency_key.empty()) {
                throw;
            }
        } catch (const TransientConflict&) {
            // PostgreSQL chose this posting to break a deadlock: it holds its card and waits
            // for the update-tag counter, while a rollout step or campaign batch holding the
            // counter waits for the card (found by bench/instances_bench, tills posting during
            // a rollout). Nothing of it was applied; the other side finishes, so again.
            if (attempt >= 3) {
                throw;
            }
        }
    }
}

LedgerOutcome SqlStore::apply_ledger(Connection& conn, const NewTransaction& t) {
    Connection* c = &conn;
    LedgerOutcome out;
    // PostgreSQL: the card's row is locked for the transaction, so concurrent postings to
    // one card (from any instance) apply one after the other and see each other's balance
    // and idempotency key. SQLite has one writer at a time already.
    lock_row(*c, "SELECT id FROM cards WHERE id = ?1 FOR UPDATE", t.card.value());
    if (!t.idempotency_key.empty()) {
        auto st = c->prepare(
            "SELECT request_hash, transaction_id FROM idempotency_keys WHERE merchant_id = ?1 AND "
            "key = ?2");
        st.bind(1, t.merchant.value()).bind(2, t.idempotency_key);
        if (st.step()) {
            if (st.text(0) != t.request_hash) {
                out.status = LedgerStatus::key_reused;
                return out;
            }
            auto e = c->prepare(kEntryById);
            e.bind(1, st.int64(1));
            if (e.step()) {
                out.entry = read_entry(e);
            }
            out.card = card_by_id(*c, t.card.value());
            out.status = LedgerStatus::replayed;
            return out;
        }
    }
    auto card = card_by_id(*c, t.card.value());
    if (!card) {
        return out;
    }
    const std::int64_t balance = card->balance + t.points;
    if (balance < 0) {
        out.status = LedgerStatus::insufficient;
        out.card = card;
        return out;
    }
    if (balance > kMaxBalance ||
        card->lifetime_points + std::max<std::int64_t>(t.points, 0) > kMaxBalance) {
        out.status = LedgerStatus::overflow;
        return out;
    }
    c->prepare(
         "UPDATE cards SET balance = ?2, lifetime_points = lifetime_points + ?3 WHERE id = ?1")
        .bind(1, card->id.value())
        .bind(2, balance)
        .bind(3, std::max<std::int64_t>(t.points, 0))
        .run();
    auto ins = c->prepare(
        "INSERT INTO transactions (card_id, points, amount, note, balance_after, created_at, "
        "bonus) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    ins.bind(1, card->id.value()).bind(2, t.points);
    if (t.amount) {
        ins.bind(3, *t.amount);
    } else {
        ins.bind_null(3);
    }
    ins.bind_optional(4, t.note)
        .bind(5, balance)
        .bind(6, t.now_ms / 1000)
        .bind(7, std::int64_t{t.bonus ? 1 : 0})
        .run();
    const std::int64_t entry_id = c->last_insert_id();
    if (!t.idempotency_key.empty()) {
        c->prepare(
             "INSERT INTO idempotency_keys (merchant_id, key, request_hash, transaction_id, "
             "created_at) VALUES (?1, ?2, ?3, ?4, ?5)")
            .bind(1, t.merchant.value())
            .bind(2, t.idempotency_key)
            .bind(3, t.request_hash)
            .bind(4, entry_id)
            .bind(5, t.now_ms / 1000)
            .run();
    }
    {
        boost::json::object data{
            {"transactionId", entry_id}, {"points", t.points}, {"balance", balance}};
        data["amount"] = t.amount ? boost::json::value(*t.amount) : boost::json::value(nullptr);
        data["note"] = t.note.empty() ? boost::json::value(nullptr) : boost::json::value(t.note);
        (void)emit_event(*c, card->id.value(), 0, "transaction.created", {}, std::nullopt, t.now_ms,
                         std::move(data));
    }
    out.pushes = bump_and_enqueue(*c, card->id.value(), t.now_ms);
    {
        auto e = c->prepare(kEntryById);
        e.bind(1, entry_id);
        if (e.step()) {
            out.entry = read_entry(e);
        }
    }
    out.card = card_by_id(*c, card->id.value());
    out.status = LedgerStatus::applied;
    return out;
}

std::vector<LedgerEntry> SqlStore::list_transactions(CardId card, int limit,
                                                     std::int64_t before_id) {
    auto c = lease();
    auto st = c->prepare(
        "SELECT id, points, amount, note, balance_after, created_at FROM transactions "
        "WHERE card_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3");
    st.bind(1, card.value()).bind(2, before_id).bind(3, std::int64_t{limit});
    std::vector<LedgerEntry> out;
    while (st.step()) {
        out.push_back(read_entry(st));
    }
    return out;
}

int SqlStore::touch_program(ProgramId program, std::int64_t now_ms) {
    auto c = lease();
    Transaction tx(*c);
    lock_program_cards(*c, program.value(), 0, INT64_MAX);
    const std::int64_t seq = next_update_seq(*c);
    c->prepare(
         "UPDATE cards SET update_seq = ?2, modified_at = GREATEST(?3, modified_at + 1) "
         "WHERE program_id = ?1")
        .bind(1, program.value())
        .bind(2, seq)
        .bind(3, now_ms / 1000)
        .run();
    auto st = c->prepare(
        "INSERT INTO outbox (kind, target, topic, route, not_before, created_at, updated_at, "
        "program_id) SELECT DISTINCT " OUTBOX_KIND
        ", r.push_token, r.pass_type_id, "
        "COALESCE(r.push_service_url, ''), ?2, ?2, ?2, ?1 "
        "FROM cards c JOIN registrations r ON r.card_id = c.id WHERE c.program_id = ?1 "
        "AND " PUSHABLE
        " "
        "ON CONFLICT (kind, target, topic) WHERE state = 'pending' DO UPDATE SET updated_at = "
        "excluded.updated_at");
    st.bind(1, program.value()).bind(2, now_ms).run();
    int n = c->changes();
    // Google Wallet: the class carries the design, so one PATCH reaches every saved card.
    auto google = c->prepare(
        "INSERT INTO outbox (kind, target, topic, route, not_before, created_at, updated_at, "
        "program_id) SELECT 'google_class', slug, '', '', ?2, ?2, ?2, id FROM programs "
        "WHERE id = ?1 AND "
        "EXISTS (SELECT 1 FROM cards WHERE program_id = ?1 AND google_saved_at IS NOT NULL) "
        "ON CONFLICT (kind, target, topic) WHERE state = 'pending' DO UPDATE SET updated_at = "
        "excluded.updated_at");
    google.bind(1, program.value()).bind(2, now_ms).run();
    n += c->changes();
    tx.commit();
    return n;
}

int SqlStore::touch_card(CardId card, std::int64_t now_ms) {
    auto c = lease();
    Transaction tx(*c);
    lock_row(*c, "SELECT id FROM cards WHERE id = ?1 FOR UPDATE", card.value());
    int n = bump_and_enqueue(*c, card.value(), now_ms);
    tx.commit();
    return n;
}

std::vector<OutboxItem> SqlStore::claim_outbox(int limit, std::int64_t now_ms,
                                               std::int64_t lease_ms, std::string_view instance) {
    auto c = lease();
    Transaction tx(*c);
    // A 'sending' row whose lease ran out belongs to a process that died: claim it again,
    // unless a newer pending row for the same token exists (then that one carries the push).
    // A pending row waits while a push to its token is in flight: changes made meanwhile
    // coalesce into it, and the device fetches them all after one more push. (The unary
    // + keeps SQLite on the outbox_target index for that check: without statistics it
    // would pick outbox_due and scan every row in flight for each due row.)
    c->prepare(
         "DELETE FROM outbox WHERE state = 'sending' AND not_before <= ?1 AND EXISTS "
         "(SELECT 1 FROM outbox p WHERE p.state = 'pending' AND p.kind = outbox.kind AND "
         "p.target = outbox.target AND p.topic = outbox.topic)")
        .bind(1, now_ms)
        .run();
    auto st = c->prepare(c->dialect() == Dialect::postgres ? kClaimOutboxSqlPg : kClaimOutboxSql);
    st.bind(1, now_ms).bind(2, now_ms + lease_ms).bind(3, std::int64_t{limit}).bind(4, instance);
    std::vector<OutboxItem> out;
    while (st.step()) {
        out.push_back({st.int64(0), st.text(1), st.text(2), st.text(3), st.text(6),
                       static_cast<int>(st.int64(4)), now_ms + lease_ms, st.int64(5), st.int64(7)});
    }
    tx.commit();
    return out;
}

namespace {

// Settling touches the row only while it is still this claim's (state 'sending' with the
// claim's lease end): a row claimed again after its lease ran out belongs to the new claim.
void finish_row(Connection& c, std::int64_t id, std::int64_t lease) {
    c.prepare("DELETE FROM outbox WHERE id = ?1 AND state = 'sending' AND not_before = ?2")
        .bind(1, id)
        .bind(2, lease)
        .run();
}

// The rows one settle removes, by claim (nearly always one claim a batch): one statement
// for each claim's rows, not one per row. Per row, PostgreSQL's generic plan for the
// prepared DELETE could take the due index (state, not_before) when the outbox had been
// analysed nearly empty, and walk the whole batch for every row: 540 ms for 1,000 rows
// instead of 24 (bench/outbox_settle_plan_pg.sql). One statement walks it at most once.
const char* const kFinishRows =
    "DELETE FROM outbox WHERE state = 'sending' AND not_before = ?2 AND id IN (SELECT value "
    "FROM json_each(?1))";
const char* const kFinishRowsPg =
    "DELETE FROM outbox WHERE state = 'sending' AND not_before = ?2 AND id IN (SELECT "
    "CAST(value AS BIGINT) FROM json_array_elements_text(CAST(?1 AS json)))";

void finish_rows(Connection& c, const std::map<std::int64_t, std::vector<std::int64_t>>& by_lease) {
    for (const auto& [lease, ids] : by_lease) {
        c.prepare(c.dialect() == Dialect::postgres ? kFinishRowsPg : kFinishRows)
            .bind(1, json_ids(ids))
            .bind(2, lease)
            .run();
    }
}

void requeue_row(Connection& c, std::int64_t id, std::int64_t lease, std::int64_t not_before_ms,
                 std::string_view error, bool dead, bool count_attempt, std::int64_t now_ms) {
    if (!dead) {
        // A newer pending row for the same token carries the next push: it keeps this
        // row's backoff (APNs said "not now" for the token) and this row goes.
        c.prepare(
             "UPDATE outbox SET not_before = GREATEST(not_before, ?3) WHERE id = (SELECT p.id FROM "
             "outbox p, outbox me WHERE me.id = ?1 AND me.state = 'sending' AND me.not_before = "
             "?2 AND p.id <> me.id AND p.state = 'pending' AND p.kind = me.kind AND p.target = "
             "me.target AND p.topic = me.topic)")
            .bind(1, id)
            .bind(2, lease)
            .bind(3, not_before_ms)
            .run();
        if (c.changes() > 0) {
            finish_row(c, id, lease);
            return;
        }
    }
    c.prepare(
         "UPDATE outbox SET state = ?3, attempts = attempts + ?7, not_before = ?4, "
         "last_error = ?5, updated_at = ?6 WHERE id = ?1 AND state = 'sending' AND "
         "not_before = ?2")
        .bind(1, id)
        .bind(2, lease)
        .bind(3, dead ? "dead" : "pending")
        .bind(4, not_before_ms)
        .bind(5, error)
        .bind(6, now_ms)
        .bind(7, std::int64_t{count_attempt ? 1 : 0})
        .run();
}

}  // namespace

int SqlStore::drop_token_rows(Connection& c, std::string_view push_token, std::string_view topic,
                              std::int64_t unless_after_ms, std::int64_t now_ms,
                              std::string_view wallet) {
    // Only the wallet whose channel reported the token dead (empty: any).
    auto st = c.prepare(
        "DELETE FROM registrations WHERE push_token = ?1 AND pass_type_id = ?2 AND token_at <= "
        "?3 AND (?4 = '' OR wallet = ?4) RETURNING device_id, card_id, wallet");
    const std::string only(wallet);  // "" binds as text ('' = any), never as NULL
    st.bind(1, push_token).bind(2, topic).bind(3, unless_after_ms).bind(4, only);
    std::vector<std::tuple<std::int64_t, std::int64_t, std::string>> dropped;
    while (st.step()) {
        dropped.emplace_back(st.int64(0), st.int64(1), st.text(2));
    }
    for (const auto& [device, card, kind] : dropped) {
        record_event(c, card, "pass.removed", kind, device, now_ms);
        c.prepare(
             "DELETE FROM devices WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM registrations "
             "WHERE device_id = ?1)")
            .bind(1, device)
            .run();
    }
    return static_cast<int>(dropped.size());
}

void SqlStore::finish_outbox(std::int64_t id, std::int64_t claim, std::int64_t /*now_ms*/) {
    auto c = lease();
    finish_row(*c, id, claim);
}

void SqlStore::retry_outbox(std::int64_t id, std::int64_t claim, std::int64_t not_before_ms,
                            std::string_view error, bool dead, std::int64_t now_ms) {
    auto c = lease();
    Transaction tx(*c);
    requeue_row(*c, id, claim, not_before_ms, error, dead, true, now_ms);
    tx.commit();
}

int SqlStore::drop_push_token(std::string_view push_token, std::string_view topic,
                              std::int64_t unless_after_ms, std::int64_t now_ms) {
    auto c = lease();
    Transaction tx(*c);
    int n = drop_token_rows(*c, push_token, topic, unless_after_ms, now_ms);
    tx.commit();
    return n;
}

void SqlStore::settle_outbox(const std::vector<OutboxSettlement>& results, std::int64_t now_ms) {
    if (results.empty()) {
        return;
    }
    auto c = lease();
    Transaction tx(*c);
    using K = OutboxSettlement::Kind;
    // The day's push counts: one upsert per program, wallet and outcome of the batch.
    std::map<std::tuple<std::int64_t, std::string, const char*>, std::int64_t> counts;
    std::map<std::int64_t, std::vector<std::int64_t>> finished;  // lease → ids
    for (const auto& r : results) {
        const char* outcome = nullptr;
        switch (r.kind) {
            case K::done:
                outcome = "delivered";
                break;
            case K::retry:
                outcome = "retried";
                break;
            case K::dead:
                outcome = "failed";
                break;
            case K::drop_token:
                outcome = "unregistered";
                break;
            case K::defer:
                break;
        }
        if (outcome != nullptr && r.program_id > 0 && !r.counted_wallet.empty()) {
            ++counts[{r.program_id, r.counted_wallet, outcome}];
        }
        switch (r.kind) {
            case K::done:
                finished[r.lease_until_ms].push_back(r.id);
                break;
            case K::retry:
            case K::defer:
                requeue_row(*c, r.id, r.lease_until_ms, r.not_before_ms, r.error, false,
                            r.kind == K::retry, now_ms);
                break;
            case K::dead:
                requeue_row(*c, r.id, r.lease_until_ms, now_ms, r.error, true, true, now_ms);
                break;
            case K::drop_token:
                drop_token_rows(*c, r.token, r.topic, r.unless_after_ms, now_ms, r.wallet);
                finished[r.lease_until_ms].push_back(r.id);
                break;
        }
    }
    finish_rows(*c, finished);
    for (const auto& [key, n] : counts) {
        const auto& [program, wallet, outcome] = key;
        c->prepare(
             "INSERT INTO push_counts (program_id, slot, wallet, outcome, n) VALUES (?1, ?2, ?3, "
             "?4, ?5) ON CONFLICT (program_id, slot, wallet, outcome) DO UPDATE SET n = "
             "push_counts.n + "
             "excluded.n")
            .bind(1, program)
            .bind(2, now_ms / 1000 / 900)
            .bind(3, wallet)
            .bind(4, outcome)
            .bind(5, n)
            .run();
    }
    tx.commit();
}

int SqlStore::release_outbox_claims(std::int64_t now_ms, std::string_view instance) {
    auto c = lease();
    Transaction tx(*c);
    // Of several rows for one token keep one pending row: the push carries no data.
    c->prepare(
         "DELETE FROM outbox WHERE state = 'sending' AND (claimed_by = ?1 OR claimed_by IS "
         "NULL) AND EXISTS (SELECT 1 FROM outbox p WHERE p.kind = outbox.kind AND p.target = "
         "outbox.target AND p.topic = outbox.topic AND (p.state = 'pending' OR (p.state = "
         "'sending' AND p.id > outbox.id AND (p.claimed_by = ?1 OR p.claimed_by IS NULL))))")
        .bind(1, instance)
        .run();
    c->prepare(
         "UPDATE outbox SET state = 'pending', not_before = ?1, updated_at = ?1, claimed_by = "
         "NULL WHERE state = 'sending' AND (claimed_by = ?2 OR claimed_by IS NULL)")
        .bind(1, now_ms)
        .bind(2, instance)
        .run();
    int n = c->changes();
    tx.commit();
    return n;
}

int SqlStore::retry_dead_outbox(std::int64_t now_ms) {
    auto c = lease();
    Transaction tx(*c);
    c->prepare(
         "DELETE FROM outbox WHERE state = 'dead' AND EXISTS (SELECT 1 FROM outbox p WHERE "
         "p.kind = outbox.kind AND p.target = outbox.target AND p.topic = outbox.topic AND "
         "(p.state = 'pending' OR (p.state = 'dead' AND p.id > outbox.id)))")
        .run();
    c->prepare(
         "UPDATE outbox SET state = 'pending', attempts = 0, not_before = ?1, updated_at = ?1 "
         "WHERE state = 'dead'")
        .bind(1, now_ms)
        .run();
    int n = c->changes();
    tx.commit();
    return n;
}

std::int64_t SqlStore::due_outbox(std::int64_t now_ms, std::int64_t cap) {
    auto c = lease();
    auto st = c->prepare(
        "SELECT COUNT(*) FROM (SELECT 1 FROM outbox WHERE state = 'pending' AND "
        "not_before <= ?1 LIMIT ?2) AS due");
    st.bind(1, now_ms).bind(2, cap);
    return st.step() ? st.int64(0) : 0;
}

OutboxCounts SqlStore::outbox_counts() {
    auto c = lease();
    OutboxCounts out;
    auto st = c->prepare("SELECT state, COUNT(*), MIN(created_at) FROM outbox GROUP BY state");
    while (st.step()) {
        auto state = st.text(0);
        auto n = st.int64(1);
        if (state == "pending") {
            out.pending = n;
            out.oldest_pending_ms = st.int64(2);
        } else if (state == "sending") {
            out.sending = n;
        } else if (state == "done") {
            out.done = n;
        } else if (state == "dead") {
            out.dead = n;
        }
    }
    return out;
}

}  // namespace cardsmith::storage::sql
