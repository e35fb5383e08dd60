// The store's operator queries (`cardsmith outbox status`; see store.hpp): read-only, on
// every backend.
#include "storage/sql/sql_store.hpp"

namespace cardsmith::storage::sql {

std::vector<OutboxGroup> SqlStore::outbox_groups(std::int64_t now_ms) {
    auto c = lease();
    auto st = c->prepare(
        "SELECT kind, state, "
        "CASE WHEN state = 'sending' THEN COALESCE(claimed_by, '') ELSE '' END AS instance, "
        "COUNT(*), SUM(CASE WHEN state = 'pending' AND not_before <= ?1 THEN 1 ELSE 0 END), "
        "MIN(created_at) FROM outbox GROUP BY kind, state, "
        "CASE WHEN state = 'sending' THEN COALESCE(claimed_by, '') ELSE '' END "
        "ORDER BY kind, state, instance");
    st.bind(1, now_ms);
    std::vector<OutboxGroup> out;
    while (st.step()) {
        OutboxGroup g;
        g.kind = st.text(0);
        g.state = st.text(1);
        g.instance = st.text(2);
        g.rows = st.int64(3);
        g.due = st.int64(4);
        g.oldest_created_ms = st.int64(5);
        out.push_back(std::move(g));
    }
    return out;
}

std::vector<DeadOutboxRow> SqlStore::dead_outbox(int limit) {
    auto c = lease();
    auto st = c->prepare(
        "SELECT id, kind, topic, target, attempts, last_error, created_at, updated_at "
        "FROM outbox WHERE state = 'dead' ORDER BY updated_at DESC, id DESC LIMIT ?1");
    st.bind(1, std::int64_t{limit});
    std::vector<DeadOutboxRow> out;
    while (st.step()) {
        DeadOutboxRow r;
        r.id = st.int64(0);
        r.kind = st.text(1);
        r.topic = st.text(2);
        r.target = st.text(3);
        r.attempts = static_cast<int>(st.int64(4));
        r.last_error = st.text(5);
        r.created_at_ms = st.int64(6);
        r.updated_at_ms = st.int64(7);
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace cardsmith::storage::sql
