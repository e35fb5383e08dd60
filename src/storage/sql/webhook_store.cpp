// The store's webhooks, their delivery log and the event feed (issue 6, see
// store.hpp and events.hpp).
#include "storage/sql/sql_store.hpp"

namespace cardsmith::storage::sql {
namespace {

constexpr const char* kWebhookById =
    "SELECT id, merchant_id, url, secret_sealed, events, active, created_at FROM webhooks "
    "WHERE id = ?1";
constexpr const char* kWebhooksOfMerchant =
    "SELECT id, merchant_id, url, secret_sealed, events, active, created_at FROM webhooks "
    "WHERE merchant_id = ?1 ORDER BY id";

Webhook read_webhook(Statement& st) {
    return Webhook{st.int64(0), MerchantId(st.int64(1)), st.text(2), st.text(3),
                   st.text(4),  st.int64(5) != 0,        st.int64(6)};
}

WebhookDelivery read_delivery(Statement& st) {
    WebhookDelivery d;
    d.id = st.int64(0);
    d.webhook_id = st.int64(1);
    d.event_id = st.int64(2);
    d.event_kind = st.text(3);
    d.state = st.text(4);
    d.attempts = static_cast<int>(st.int64(5));
    d.last_status = static_cast<int>(st.int64(6));
    d.last_error = st.text(7);
    d.created_at = st.int64(8);
    d.updated_at = st.int64(9);
    return d;
}

#define DELIVERY_SELECT                                                                 \
    "SELECT d.id, d.webhook_id, d.event_id, e.kind, d.state, d.attempts, "              \
    "COALESCE(d.last_status, 0), d.last_error, d.created_at, d.updated_at, e.payload, " \
    "e.created_at FROM webhook_deliveries d JOIN events e ON e.id = d.event_id "
constexpr const char* kDeliveriesOfHook =
    DELIVERY_SELECT "WHERE d.webhook_id = ?1 ORDER BY d.id DESC LIMIT ?2";
constexpr const char* kDeliveryById = DELIVERY_SELECT "WHERE d.id = ?1";
#undef DELIVERY_SELECT

}  // namespace

std::int64_t SqlStore::create_webhook(MerchantId merchant, std::string_view url,
                                      std::string_view secret_sealed, std::string_view events,
                                      std::int64_t now_ms) {
    auto c = lease();
    Transaction tx(*c);
    c->prepare(
         "INSERT INTO webhooks (merchant_id, url, secret_sealed, events, created_at) "
         "VALUES (?1, ?2, ?3, ?4, ?5)")
        .bind(1, merchant.value())
        .bind(2, url)
        .bind(3, secret_sealed)
        .bind(4, events)
        .bind(5, now_ms)
        .run();
    const auto id = c->last_insert_id();
    tx.commit();
    return id;
}

std::vector<Webhook> SqlStore::list_webhooks(MerchantId merchant) {
    auto c = lease();
    auto st = c->prepare(kWebhooksOfMerchant);
    st.bind(1, merchant.value());
    std::vector<Webhook> out;
    while (st.step()) {
        out.push_back(read_webhook(st));
    }
    return out;
}

std::optional<Webhook> SqlStore::find_webhook(std::int64_t id) {
    auto c = lease();
    auto st = c->prepare(kWebhookById);
    st.bind(1, id);
    if (!st.step()) {
        return std::nullopt;
    }
    return read_webhook(st);
}

bool SqlStore::delete_webhook(std::int64_t id) {
    auto c = lease();
    Transaction tx(*c);
    c->prepare("DELETE FROM webhooks WHERE id = ?1").bind(1, id).run();
    const bool deleted = c->changes() > 0;
    tx.commit();
    return deleted;
}

std::vector<WebhookDelivery> SqlStore::list_deliveries(std::int64_t webhook, int limit) {
    auto c = lease();
    auto st = c->prepare(kDeliveriesOfHook);
    st.bind(1, webhook).bind(2, limit);
    std::vector<WebhookDelivery> out;
    while (st.step()) {
        out.push_back(read_delivery(st));
    }
    return out;
}

std::optional<PendingDelivery> SqlStore::find_delivery(std::int64_t id) {
    auto c = lease();
    PendingDelivery out;
    {
        auto st = c->prepare(kDeliveryById);
        st.bind(1, id);
        if (!st.step()) {
            return std::nullopt;
        }
        out.delivery = read_delivery(st);
        out.event =
            EventRecord{out.delivery.event_id, out.delivery.event_kind, st.text(10), st.int64(11)};
    }
    auto st = c->prepare(kWebhookById);
    st.bind(1, out.delivery.webhook_id);
    if (!st.step()) {
        return std::nullopt;
    }
    out.webhook = read_webhook(st);
    return out;
}

void SqlStore::record_delivery_attempt(std::int64_t id, int status, std::string_view error,
                                       std::string_view state, std::int64_t now_ms) {
    auto c = lease();
    Transaction tx(*c);
    const std::string e(error.substr(0, 500));
    c->prepare(
         "UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = ?2, "
         "last_error = NULLIF(?3, ''), state = ?4, updated_at = ?5 WHERE id = ?1")
        .bind(1, id)
        .bind(2, static_cast<std::int64_t>(status))
        .bind(3, e)
        .bind(4, state)
        .bind(5, now_ms)
        .run();
    tx.commit();
}

std::vector<EventRecord> SqlStore::list_events(MerchantId merchant, std::int64_t after, int limit) {
    auto c = lease();
    auto st = c->prepare(
        "SELECT id, kind, COALESCE(payload, '{}'), created_at FROM events WHERE merchant_id = ?1 "
        "AND id > ?2 ORDER BY id LIMIT ?3");
    st.bind(1, merchant.value()).bind(2, after).bind(3, limit);
    std::vector<EventRecord> out;
    while (st.step()) {
        out.push_back({st.int64(0), st.text(1), st.text(2), st.int64(3)});
    }
    return out;
}

}  // namespace cardsmith::storage::sql
