#pragma once
// Events (issue 6): what happened to a merchant's cards and campaigns, with a JSON payload,
// recorded inside the transaction of the change, for stats, the pull API
// (GET /api/v1/events) and webhooks: a delivery row and an outbox row per subscribed
// webhook are written in the same transaction, so a crash loses no webhook call.
#include <boost/json.hpp>
#include <optional>
#include <string_view>

#include "storage/sql/connection.hpp"

namespace cardsmith::storage::sql {

// `card_id` 0: a program's event (campaign.finished). The payload gets "program" (slug)
// and, for a card's event, "cardNumber". Returns the event id.
inline std::int64_t emit_event(Connection& c, std::int64_t card_id, std::int64_t program_id,
                               std::string_view kind, std::string_view wallet,
                               std::optional<std::int64_t> device_id, std::int64_t now_ms,
                               boost::json::object data = {}) {
    std::int64_t merchant = 0;
    {
        auto st = card_id != 0
                      ? c.prepare(
                            "SELECT p.id, p.merchant_id, p.slug, c.card_number FROM cards c JOIN "
                            "programs p ON p.id = c.program_id WHERE c.id = ?1")
                      : c.prepare("SELECT id, merchant_id, slug, '' FROM programs WHERE id = ?1");
        st.bind(1, card_id != 0 ? card_id : program_id);
        if (!st.step()) {
            return 0;
        }
        program_id = st.int64(0);
        merchant = st.int64(1);
        data["program"] = st.text(2);
        if (card_id != 0) {
            data["cardNumber"] = st.text(3);
        }
    }
    const std::string payload = boost::json::serialize(data);
    const std::string wallet_text(wallet);
    auto ins = c.prepare(
        "INSERT INTO events (program_id, card_id, kind, wallet, device_id, created_at, "
        "merchant_id, payload) VALUES (?1, NULLIF(?2, 0), ?3, ?4, ?5, ?6, ?7, ?8)");
    ins.bind(1, program_id).bind(2, card_id).bind(3, kind).bind_optional(4, wallet_text);
    if (device_id) {
        ins.bind(5, *device_id);
    } else {
        ins.bind_null(5);
    }
    ins.bind(6, now_ms / 1000).bind(7, merchant).bind(8, payload).run();
    const std::int64_t event = c.last_insert_id();
    c.prepare(
         "INSERT INTO webhook_deliveries (webhook_id, event_id, state, created_at, updated_at) "
         "SELECT id, ?2, 'pending', ?3, ?3 FROM webhooks WHERE merchant_id = ?1 AND active = 1 "
         "AND (events = '*' OR ',' || events || ',' LIKE '%,' || ?4 || ',%')")
        .bind(1, merchant)
        .bind(2, event)
        .bind(3, now_ms)
        .bind(4, kind)
        .run();
    if (c.changes() > 0) {
        c.prepare(
             "INSERT INTO outbox (kind, target, topic, route, not_before, created_at, "
             "updated_at) SELECT 'webhook', CAST(id AS TEXT), '', '', ?2, ?2, ?2 FROM "
             "webhook_deliveries WHERE event_id = ?1")
            .bind(1, event)
            .bind(2, now_ms)
            .run();
    }
    return event;
}

}  // namespace cardsmith::storage::sql
