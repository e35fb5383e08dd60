#pragma once
// Row helpers shared by the SQLite store's files: the card SELECT statements, reading a
// card row, and the pass update tag counter.
#include <cstdint>
#include <string>
#include <vector>

#include "domain/models.hpp"
#include "storage/sql/connection.hpp"
#include "storage/store.hpp"

namespace cardsmith::storage::sql {

// Statements are cached by the address of their SQL text, so each lives in one constant.
#define CARD_SELECT                                                                        \
    "SELECT id, program_id, card_number, serial, auth_token, holder_name, holder_phone, "  \
    "holder_email, balance, lifetime_points, offer, update_seq, modified_at, created_at, " \
    "source, referral_code, verified, design_version, offer_header, offer_link, "          \
    "COALESCE(offer_expires_at, 0) "                                                       \
    "FROM cards "
inline constexpr const char* kCardById = CARD_SELECT "WHERE id = ?1";
inline constexpr const char* kCardByNumber = CARD_SELECT "WHERE card_number = ?1";
inline constexpr const char* kCardBySerial = CARD_SELECT "WHERE serial = ?1";
inline constexpr const char* kCardByPhone =
    CARD_SELECT "WHERE program_id = ?1 AND holder_phone = ?2 ORDER BY id LIMIT 1";
inline constexpr const char* kCardByEmail =
    CARD_SELECT "WHERE program_id = ?1 AND holder_email = ?2 ORDER BY id LIMIT 1";
inline constexpr const char* kCardByReferral =
    CARD_SELECT "WHERE program_id = ?1 AND referral_code = ?2";
// ?2: a LIKE prefix pattern for the number, ?3: a contains pattern (both escaped with \).
inline constexpr const char* kCardSearch = CARD_SELECT
    "WHERE program_id = ?1 AND (?4 = 1 OR card_number LIKE ?2 ESCAPE '\\' OR "
    "LOWER(holder_name) LIKE LOWER(?3) ESCAPE '\\' OR holder_phone LIKE ?3 ESCAPE '\\' OR "
    "LOWER(holder_email) LIKE LOWER(?3) ESCAPE '\\') ORDER BY id DESC LIMIT ?5";
#undef CARD_SELECT

// The outbox row kind that reaches a registration's wallet; wallets without a push route
// (unknown apps, the dead Passworks relay) get none.
#define OUTBOX_KIND "CASE r.wallet WHEN 'apple' THEN 'apns' ELSE r.wallet END"
#define PUSHABLE "r.wallet NOT IN ('unknown', 'passworks')"

inline domain::Card read_card(Statement& st) {
    domain::Card c;
    c.id = CardId(st.int64(0));
    c.program = ProgramId(st.int64(1));
    c.number = CardNumber(st.text(2));
    c.serial = SerialNumber(st.text(3));
    c.auth_token = AuthToken(st.text(4));
    c.holder = {st.text(5), st.text(6), st.text(7)};
    c.balance = st.int64(8);
    c.lifetime_points = st.int64(9);
    c.offer = st.text(10);
    c.update_seq = st.int64(11);
    c.modified_at = st.int64(12);
    c.created_at = st.int64(13);
    c.source = st.text(14);
    c.referral_code = st.text(15);
    c.verified = st.int64(16) != 0;
    c.design_version = st.int64(17);
    c.offer_header = st.text(18);
    c.offer_link = st.text(19);
    c.offer_expires_at = st.int64(20);
    return c;
}

// Content-addressed: the same PNG in many design versions is stored once.
inline const std::string& put_blob(Connection& c, const StoredImage& image) {
    c.prepare("INSERT INTO blobs (sha256, bytes) VALUES (?1, ?2) ON CONFLICT DO NOTHING")
        .bind(1, image.sha256)
        .bind_blob(2, image.bytes)
        .run();
    return image.sha256;
}

// The next pass update tag, taken inside the caller's write transaction, so commit order
// equals tag order (apple-wallet.md §2.3).
//
// Lock order (PostgreSQL): the counter row is the last lock a transaction takes. Whatever
// changes cards locks them first (lock_cards, lock_program_cards below, or its own
// SELECT ... FOR UPDATE), as a posting does (its card, then the counter); then no one
// holds the counter while waiting for a card, and a posting never deadlocks with a rollout
// step, a campaign batch or a touch (docs/benchmarks.md, "Several instances").
inline std::int64_t next_update_seq(Connection& c) {
    auto st = c.prepare(
        "UPDATE counters SET value = value + 1 WHERE name = 'pass_update_seq' RETURNING value");
    if (!st.step()) {
        throw StorageError("counter pass_update_seq missing");
    }
    return st.int64(0);
}

// Ids as a JSON array ("[1,2,3]"): one parameter for a list of any length, read by
// json_each (SQLite) or json_array_elements_text (PostgreSQL), so the statement's text is
// fixed and prepared once.
inline std::string json_ids(const std::vector<std::int64_t>& ids) {
    std::string list = "[";
    for (const std::int64_t id : ids) {
        if (list.size() > 1) {
            list += ',';
        }
        list += std::to_string(id);
    }
    list += ']';
    return list;
}

// PostgreSQL: locks these cards, in id order, for the rest of the transaction (before the
// counter: see next_update_seq). SQLite has one writer at a time already: nothing to do.
inline void lock_cards(Connection& c, const std::vector<std::int64_t>& ids) {
    if (c.dialect() != Dialect::postgres || ids.empty()) {
        return;
    }
    c.prepare(
         "SELECT COUNT(*) FROM (SELECT id FROM cards WHERE id IN (SELECT CAST(value AS BIGINT) "
         "FROM json_array_elements_text(CAST(?1 AS json))) ORDER BY id FOR UPDATE) AS locked")
        .bind(1, json_ids(ids))
        .run();
}

// The same for a program's cards with after_id < id <= up_to_id (a rollout's chunk, or all).
inline void lock_program_cards(Connection& c, std::int64_t program, std::int64_t after_id,
                               std::int64_t up_to_id) {
    if (c.dialect() != Dialect::postgres) {
        return;
    }
    c.prepare(
         "SELECT COUNT(*) FROM (SELECT id FROM cards WHERE program_id = ?1 AND id > ?2 AND id "
         "<= ?3 ORDER BY id FOR UPDATE) AS locked")
        .bind(1, program)
        .bind(2, after_id)
        .bind(3, up_to_id)
        .run();
}

}  // namespace cardsmith::storage::sql
