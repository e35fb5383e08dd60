// The store's campaigns (issue 6, see store.hpp). A campaign walks its segment in
// card id order, a batch per transaction; each card's outcome (held out, capped, sent,
// unreachable) is a campaign_recipients row written with the card's offer and its pushes,
// so a crash neither loses nor repeats a card.
#include <algorithm>

#include "storage/sql/events.hpp"
#include "storage/sql/rows.hpp"
#include "storage/sql/sql_store.hpp"

namespace cardsmith::storage::sql {
namespace {

// Every optional filter is a bound parameter (NULL: not used), so this is one cached
// statement whatever the segment. Lists come as JSON arrays; tiers are lifetime-point
// ranges [[from, to], ...]. JSON functions are the one place the two dialects differ.
#define SEGMENT_WHERE_COMMON                                                                       \
    "c.program_id = ?1 AND c.id > ?2 AND c.id <= ?3 "                                              \
    "AND (CAST(?4 AS BIGINT) IS NULL OR c.balance >= ?4) AND (CAST(?5 AS BIGINT) IS NULL OR "      \
    "c.balance <= ?5) "                                                                            \
    "AND (CAST(?6 AS BIGINT) IS NULL OR c.created_at >= ?6) AND (CAST(?7 AS BIGINT) IS NULL OR "   \
    "c.created_at < ?7) "                                                                          \
    "AND (CAST(?8 AS BIGINT) IS NULL OR NOT EXISTS (SELECT 1 FROM transactions t WHERE t.card_id " \
    "= c.id "                                                                                      \
    "AND t.created_at >= ?8)) "
#define SEGMENT_WHERE_SQLITE                                                                 \
    SEGMENT_WHERE_COMMON                                                                     \
    "AND (?9 IS NULL OR c.source IN (SELECT value FROM json_each(?9))) "                     \
    "AND (?10 IS NULL OR c.card_number IN (SELECT value FROM json_each(?10))) "              \
    "AND (?11 IS NULL OR EXISTS (SELECT 1 FROM json_each(?11) r WHERE c.lifetime_points >= " \
    "json_extract(r.value, '$[0]') AND c.lifetime_points < json_extract(r.value, '$[1]'))) "
#define SEGMENT_WHERE_PG                                                                        \
    SEGMENT_WHERE_COMMON                                                                        \
    "AND (CAST(?9 AS json) IS NULL OR c.source IN (SELECT json_array_elements_text(CAST(?9 AS " \
    "json)))) "                                                                                 \
    "AND (CAST(?10 AS json) IS NULL OR c.card_number IN "                                       \
    "(SELECT json_array_elements_text(CAST(?10 AS json)))) "                                    \
    "AND (CAST(?11 AS json) IS NULL OR EXISTS (SELECT 1 FROM json_array_elements(CAST(?11 AS "  \
    "json)) r(v) "                                                                              \
    "WHERE c.lifetime_points >= CAST(r.v->>0 AS BIGINT) AND "                                   \
    "c.lifetime_points < CAST(r.v->>1 AS BIGINT))) "
#define SEGMENT_BATCH(WHERE)                                                               \
    "SELECT c.id, c.serial, COALESCE(c.last_offer_at, 0), CASE WHEN c.google_saved_at IS " \
    "NULL THEN 0 ELSE 1 END FROM cards c WHERE " WHERE "ORDER BY c.id LIMIT ?12"

constexpr const char* kSegmentBatch = SEGMENT_BATCH(SEGMENT_WHERE_SQLITE);
constexpr const char* kSegmentBatchPg = SEGMENT_BATCH(SEGMENT_WHERE_PG);
constexpr const char* kSegmentCount = "SELECT COUNT(*) FROM cards c WHERE " SEGMENT_WHERE_SQLITE;
constexpr const char* kSegmentCountPg = "SELECT COUNT(*) FROM cards c WHERE " SEGMENT_WHERE_PG;
#undef SEGMENT_BATCH
#undef SEGMENT_WHERE_PG
#undef SEGMENT_WHERE_SQLITE
#undef SEGMENT_WHERE_COMMON

constexpr const char* kCampaignById =
    "SELECT id, program_id, message, header, link, segment_json, options_json, state, send_at, "
    "COALESCE(expires_at, 0), cursor, last_card_id, targeted, held_out, capped, unreachable, "
    "sent, failed, google_notified, google_silent, created_at, COALESCE(started_at, 0), "
    "COALESCE(finished_at, 0) FROM campaigns WHERE id = ?1";
constexpr const char* kCampaignsOfProgram =
    "SELECT id, program_id, message, header, link, segment_json, options_json, state, send_at, "
    "COALESCE(expires_at, 0), cursor, last_card_id, targeted, held_out, capped, unreachable, "
    "sent, failed, google_notified, google_silent, created_at, COALESCE(started_at, 0), "
    "COALESCE(finished_at, 0) FROM campaigns WHERE program_id = ?1 ORDER BY id DESC LIMIT ?2";

Campaign read_campaign(Statement& st) {
    Campaign c;
    c.id = st.int64(0);
    c.program = ProgramId(st.int64(1));
    c.message = st.text(2);
    c.header = st.text(3);
    c.link = st.text(4);
    c.segment_json = st.text(5);
    c.options_json = st.text(6);
    c.state = st.text(7);
    c.send_at = st.int64(8);
    c.expires_at = st.int64(9);
    c.cursor = st.int64(10);
    c.last_card_id = st.int64(11);
    c.targeted = st.int64(12);
    c.held_out = st.int64(13);
    c.capped = st.int64(14);
    c.unreachable = st.int64(15);
    c.sent = st.int64(16);
    c.failed = st.int64(17);
    c.google_notified = st.int64(18);
    c.google_silent = st.int64(19);
    c.created_at = st.int64(20);
    c.started_at = st.int64(21);
    c.finished_at = st.int64(22);
    return c;
}

std::optional<Campaign> campaign_by_id(Connection& c, std::int64_t id) {
    auto st = c.prepare(kCampaignById);
    st.bind(1, id);
    if (!st.step()) {
        return std::nullopt;
    }
    return read_campaign(st);
}

void bind_optional_int(Statement& st, int index, const std::optional<std::int64_t>& v) {
    if (v) {
        st.bind(index, *v);
    } else {
        st.bind_null(index);
    }
}

void bind_filter(Statement& st, ProgramId program, std::int64_t after, std::int64_t upto,
                 const SegmentFilter& f) {
    st.bind(1, program.value()).bind(2, after).bind(3, upto);
    bind_optional_int(st, 4, f.balance_min);
    bind_optional_int(st, 5, f.balance_max);
    bind_optional_int(st, 6, f.created_from);
    bind_optional_int(st, 7, f.created_before);
    bind_optional_int(st, 8, f.no_transaction_since);
    st.bind_optional(9, f.channels_json);
    st.bind_optional(10, f.cards_json);
    st.bind_optional(11, f.lifetime_ranges_json);
}

// The newest ledger row's id (0: none): redemptions are the rows after it.
std::int64_t newest_transaction(Connection& c) {
    auto st = c.prepare("SELECT COALESCE(MAX(id), 0) FROM transactions");
    return st.step() ? st.int64(0) : 0;
}

// The holdout draw: a fixed hash of campaign and card, so a retried batch draws the same.
bool held_out(std::int64_t campaign, std::int64_t card, std::int64_t percent) {
    if (percent <= 0) {
        return false;
    }
    std::uint64_t x =
        (static_cast<std::uint64_t>(campaign) << 32) ^ static_cast<std::uint64_t>(card);
    x += 0x9E3779B97F4A7C15ULL;  // splitmix64
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    x ^= x >> 31;
    return static_cast<std::int64_t>(x % 100) < percent;
}

}  // namespace

std::int64_t SqlStore::create_campaign(const NewCampaign& n) {
    auto c = lease();
    Transaction tx(*c);
    auto header = n.header;
    auto link = n.link;
    c->prepare(
         "INSERT INTO campaigns (program_id, message, header, link, segment_json, options_json, "
         "state, send_at, expires_at, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
         "'scheduled', ?7, ?8, ?9, ?9)")
        .bind(1, n.program.value())
        .bind(2, n.message)
        .bind(3, header)
        .bind(4, link)
        .bind(5, n.segment_json)
        .bind(6, n.options_json)
        .bind(7, n.send_at_ms)
        .bind(8, n.expires_at_ms)
        .bind(9, n.now_ms)
        .run();
    const auto id = c->last_insert_id();
    tx.commit();
    return id;
}

std::optional<Campaign> SqlStore::find_campaign(std::int64_t id) {
    auto c = lease();
    return campaign_by_id(*c, id);
}

std::vector<Campaign> SqlStore::list_campaigns(ProgramId program, int limit) {
    auto c = lease();
    auto st = c->prepare(kCampaignsOfProgram);
    st.bind(1, program.value()).bind(2, limit);
    std::vector<Campaign> out;
    while (st.step()) {
        out.push_back(read_campaign(st));
    }
    return out;
}

std::vector<std::int64_t> SqlStore::due_campaigns(std::int64_t now_ms) {
    auto c = lease();
    auto st = c->prepare(
        "SELECT id FROM campaigns WHERE state IN ('scheduled', 'sending') AND send_at <= ?1 "
        "ORDER BY send_at, id");
    st.bind(1, now_ms);
    std::vector<std::int64_t> out;
    while (st.step()) {
        out.push_back(st.int64(0));
    }
    return out;
}

std::int64_t SqlStore::count_segment(ProgramId program, const SegmentFilter& filter) {
    auto c = lease();
    auto st = c->prepare(c->dialect() == Dialect::postgres ? kSegmentCountPg : kSegmentCount);
    bind_filter(st, program, 0, std::numeric_limits<std::int64_t>::max(), filter);
    return st.step() ? st.int64(0) : 0;
}

std::optional<Campaign> SqlStore::campaign_step(std::int64_t id, const SegmentFilter& filter,
                                                const CampaignStep& step) {
    auto c = lease();
    Transaction tx(*c);
    lock_row(*c, "SELECT id FROM campaigns WHERE id = ?1 FOR UPDATE", id);
    auto campaign = campaign_by_id(*c, id);
    if (!campaign || (campaign->state != "scheduled" && campaign->state != "sending")) {
        return campaign;
    }
    const std::int64_t now = step.now_ms;
    if (campaign->state == "scheduled") {
        // The segment is the cards that exist when sending starts.
        c->prepare(
             "UPDATE campaigns SET state = 'sending', started_at = ?2, updated_at = ?2, "
             "last_card_id = (SELECT COALESCE(MAX(id), 0) FROM cards WHERE program_id = ?3) "
             "WHERE id = ?1")
            .bind(1, id)
            .bind(2, now)
            .bind(3, campaign->program.value())
            .run();
        campaign = campaign_by_id(*c, id);
    }
    std::int64_t limit = step.limit;
    if (step.rate_per_minute > 0) {
        // At most the rate in each minute, as a share per second (rounded up, so 90 a minute
        // sends 2 a second until the minute's 90 are out).
        auto st = c->prepare(
            "SELECT pace_minute, pace_in_minute, pace_second, pace_in_second FROM campaigns "
            "WHERE id = ?1");
        st.bind(1, id);
        std::int64_t in_minute = 0, in_second = 0;
        if (st.step()) {
            in_minute = st.int64(0) == now / 60000 ? st.int64(1) : 0;
            in_second = st.int64(2) == now / 1000 ? st.int64(3) : 0;
        }
        const std::int64_t per_second = (step.rate_per_minute + 59) / 60;
        limit = std::min({limit, per_second - in_second, step.rate_per_minute - in_minute});
        if (limit <= 0) {
            tx.commit();  // a campaign just started stays 'sending'
            return campaign;
        }
        c->prepare(
             "UPDATE campaigns SET pace_minute = ?2, pace_in_minute = ?3, pace_second = ?4, "
             "pace_in_second = ?5 WHERE id = ?1")
            .bind(1, id)
            .bind(2, now / 60000)
            .bind(3, in_minute + limit)
            .bind(4, now / 1000)
            .bind(5, in_second + limit)
            .run();
    }
    struct Row {
        std::int64_t id;
        std::string serial;
        std::int64_t last_offer_at;
        bool google;
    };
    std::vector<Row> rows;
    {
        auto st = c->prepare(c->dialect() == Dialect::postgres ? kSegmentBatchPg : kSegmentBatch);
        bind_filter(st, campaign->program, campaign->cursor, campaign->last_card_id, filter);
        st.bind(12, limit);
        while (st.step()) {
            rows.push_back({st.int64(0), st.text(1), st.int64(2), st.int64(3) != 0});
        }
    }
    {
        std::vector<std::int64_t> ids;
        ids.reserve(rows.size());
        for (const auto& row : rows) {
            ids.push_back(row.id);
        }
        lock_cards(*c, ids);  // before the counter (rows.hpp, next_update_seq)
    }
    std::int64_t held = 0, capped = 0, sent = 0, unreachable = 0;
    const std::int64_t last_tx = newest_transaction(*c);
    const std::string google_topic = "campaign:" + std::to_string(id);
    for (const auto& row : rows) {
        const char* status = "sent";
        if (held_out(id, row.id, step.holdout_percent)) {
            status = "held_out";
            ++held;
        } else if (step.cap_ms > 0 && row.last_offer_at > now - step.cap_ms) {
            status = "capped";
            ++capped;
        } else {
            c->prepare(
                 "UPDATE cards SET offer = ?2, offer_expires_at = NULLIF(?3, 0), "
                 "last_offer_at = ?4, offer_header = NULLIF(?5, ''), offer_link = NULLIF(?6, '') "
                 "WHERE id = ?1")
                .bind(1, row.id)
                .bind(2, campaign->message)
                .bind(3, campaign->expires_at)
                .bind(4, now)
                .bind(5, campaign->header)
                .bind(6, campaign->link)
                .run();
            // Apple and Android wallets: the offer field's change message is the
            // notification. Google: an addMessage instead of an object PATCH.
            int channels = bump_and_enqueue(*c, row.id, now, false);
            if (row.google) {
                c->prepare(
                     "INSERT INTO outbox (kind, target, topic, route, not_before, created_at, "
                     "updated_at, program_id) VALUES ('google_message', ?1, ?2, '', ?3, ?3, ?3, "
                     "?4) "
                     "ON CONFLICT (kind, target, topic) WHERE state = 'pending' DO NOTHING")
                    .bind(1, row.serial)
                    .bind(2, google_topic)
                    .bind(3, now)
                    .bind(4, campaign->program.value())
                    .run();
                ++channels;
            }
            if (channels > 0) {
                ++sent;
            } else {
                status = "unreachable";
                ++unreachable;
            }
        }
        c->prepare(
             "INSERT INTO campaign_recipients (campaign_id, card_id, status, created_at, "
             "drawn_after_tx) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING")
            .bind(1, id)
            .bind(2, row.id)
            .bind(3, status)
            .bind(4, now)
            .bind(5, last_tx)
            .run();
    }
    const bool done = static_cast<std::int64_t>(rows.size()) < limit;
    const std::int64_t cursor = rows.empty() ? campaign->cursor : rows.back().id;
    c->prepare(
         "UPDATE campaigns SET cursor = ?2, targeted = targeted + ?3, held_out = held_out + ?4, "
         "capped = capped + ?5, sent = sent + ?6, unreachable = unreachable + ?7, "
         "state = CASE WHEN ?8 <> 0 THEN 'done' ELSE state END, "
         "finished_at = CASE WHEN ?8 <> 0 THEN ?9 ELSE finished_at END, updated_at = ?9 "
         "WHERE id = ?1")
        .bind(1, id)
        .bind(2, cursor)
        .bind(3, static_cast<std::int64_t>(rows.size()))
        .bind(4, held)
        .bind(5, capped)
        .bind(6, sent)
        .bind(7, unreachable)
        .bind(8, done ? 1 : 0)
        .bind(9, now)
        .run();
    if (done) {
        const auto finished = campaign_by_id(*c, id);
        (void)emit_event(*c, 0, campaign->program.value(), "campaign.finished", {}, std::nullopt,
                         now,
                         {{"campaignId", id},
                          {"targeted", finished->targeted},
                          {"heldOut", finished->held_out},
                          {"capped", finished->capped},
                          {"unreachable", finished->unreachable},
                          {"sent", finished->sent}});
    }
    tx.commit();
    return campaign_by_id(*c, id);
}

bool SqlStore::cancel_campaign(std::int64_t id, std::int64_t now_ms) {
    auto c = lease();
    Transaction tx(*c);
    c->prepare(
         "UPDATE campaigns SET state = 'cancelled', finished_at = ?2, updated_at = ?2 "
         "WHERE id = ?1 AND state IN ('scheduled', 'sending')")
        .bind(1, id)
        .bind(2, now_ms)
        .run();
    const bool changed = c->changes() > 0;
    tx.commit();
    return changed;
}

CampaignResults SqlStore::campaign_results(std::int64_t id, std::int64_t window_seconds) {
    auto c = lease();
    auto st = c->prepare(
        "SELECT "
        "(SELECT COUNT(*) FROM campaign_recipients WHERE campaign_id = ?1 AND "
        "delivered_at IS NOT NULL), "
        "(SELECT COUNT(*) FROM campaign_recipients r WHERE r.campaign_id = ?1 AND "
        "r.delivered_at IS NOT NULL AND EXISTS (SELECT 1 FROM transactions t WHERE "
        "t.card_id = r.card_id AND t.bonus = 0 AND t.id > r.delivered_after_tx AND "
        "t.created_at < r.delivered_at / 1000 + ?2)), "
        "(SELECT COUNT(*) FROM campaign_recipients r WHERE r.campaign_id = ?1 AND "
        "r.status <> 'held_out'), "
        "(SELECT COUNT(*) FROM campaign_recipients r WHERE r.campaign_id = ?1 AND "
        "r.status <> 'held_out' AND EXISTS (SELECT 1 FROM transactions t WHERE t.card_id = "
        "r.card_id AND t.bonus = 0 AND t.id > r.drawn_after_tx AND "
        "t.created_at < r.created_at / 1000 + ?2)), "
        "(SELECT COUNT(*) FROM campaign_recipients r WHERE r.campaign_id = ?1 AND "
        "r.status = 'held_out' AND EXISTS (SELECT 1 FROM transactions t WHERE t.card_id = "
        "r.card_id AND t.bonus = 0 AND t.id > r.drawn_after_tx AND "
        "t.created_at < r.created_at / 1000 + ?2))");
    st.bind(1, id).bind(2, window_seconds);
    CampaignResults out;
    if (st.step()) {
        out.delivered = st.int64(0);
        out.redeemed = st.int64(1);
        out.offered = st.int64(2);
        out.offered_redeemed = st.int64(3);
        out.held_out_redeemed = st.int64(4);
    }
    return out;
}

void SqlStore::mark_delivered(CardId card, std::int64_t now_ms) {
    auto c = lease();
    // Most fetches have nothing to mark: look before taking the write lock.
    {
        auto st = c->prepare(
            "SELECT 1 FROM campaign_recipients WHERE card_id = ?1 AND delivered_at IS NULL "
            "AND status = 'sent' LIMIT 1");
        st.bind(1, card.value());
        if (!st.step()) {
            return;
        }
    }
    Transaction tx(*c);
    // The pass shows the newest offer only: an older campaign the phone never fetched was
    // replaced before it was seen, and stays undelivered.
    c->prepare(
         "UPDATE campaign_recipients SET delivered_at = ?2, delivered_after_tx = ?3 WHERE "
         "card_id = ?1 AND "
         "delivered_at IS NULL AND status = 'sent' AND campaign_id = (SELECT campaign_id FROM "
         "campaign_recipients WHERE card_id = ?1 AND status = 'sent' ORDER BY created_at DESC, "
         "campaign_id DESC LIMIT 1)")
        .bind(1, card.value())
        .bind(2, now_ms)
        .bind(3, newest_transaction(*c))
        .run();
    tx.commit();
}

void SqlStore::record_google_message(std::int64_t campaign, CardId card, bool ok, bool notified,
                                     std::int64_t now_ms) {
    auto c = lease();
    Transaction tx(*c);
    if (ok) {
        c->prepare(
             "UPDATE campaign_recipients SET delivered_at = COALESCE(delivered_at, ?3), "
             "delivered_after_tx = CASE WHEN delivered_at IS NULL THEN ?4 ELSE "
             "delivered_after_tx END WHERE campaign_id = ?1 AND card_id = ?2")
            .bind(1, campaign)
            .bind(2, card.value())
            .bind(3, now_ms)
            .bind(4, newest_transaction(*c))
            .run();
        c->prepare(
             "UPDATE campaigns SET google_notified = google_notified + ?2, "
             "google_silent = google_silent + ?3 WHERE id = ?1")
            .bind(1, campaign)
            .bind(2, notified ? 1 : 0)
            .bind(3, notified ? 0 : 1)
            .run();
    } else {
        // Failed only when Google was the card's one way in: a card also on an Apple or
        // Android pass was sent its offer there (delivered when the device fetches it).
        c->prepare(
             "UPDATE campaign_recipients SET status = 'failed' WHERE campaign_id = ?1 AND "
             "card_id = ?2 AND status = 'sent' AND delivered_at IS NULL AND NOT EXISTS (SELECT "
             "1 FROM registrations r WHERE r.card_id = ?2 AND " PUSHABLE ")")
            .bind(1, campaign)
            .bind(2, card.value())
            .run();
        if (c->changes() > 0) {
            c->prepare("UPDATE campaigns SET failed = failed + 1, sent = sent - 1 WHERE id = ?1")
                .bind(1, campaign)
                .run();
        }
    }
    tx.commit();
}

int SqlStore::expire_offers(std::int64_t now_ms, int limit) {
    auto c = lease();
    std::vector<std::int64_t> ids;
    {
        auto st = c->prepare(
            "SELECT id FROM cards WHERE offer_expires_at IS NOT NULL AND offer_expires_at <= ?1 "
            "LIMIT ?2");
        st.bind(1, now_ms).bind(2, limit);
        while (st.step()) {
            ids.push_back(st.int64(0));
        }
    }
    if (ids.empty()) {
        return 0;
    }
    Transaction tx(*c);
    lock_cards(*c, ids);  // before the counter (rows.hpp, next_update_seq)
    int n = 0;
    for (const auto id : ids) {
        c->prepare(
             "UPDATE cards SET offer = NULL, offer_expires_at = NULL, offer_header = NULL, "
             "offer_link = NULL WHERE id = ?1 AND "
             "offer_expires_at <= ?2")
            .bind(1, id)
            .bind(2, now_ms)
            .run();
        if (c->changes() > 0) {
            (void)bump_and_enqueue(*c, id, now_ms);
            ++n;
        }
    }
    tx.commit();
    return n;
}

StoreStatus SqlStore::set_program_time_zone(ProgramId program, std::string_view zone) {
    auto c = lease();
    Transaction tx(*c);
    std::string z(zone);
    c->prepare("UPDATE programs SET time_zone = ?2 WHERE id = ?1")
        .bind(1, program.value())
        .bind(2, z)
        .run();
    const bool changed = c->changes() > 0;
    tx.commit();
    return changed ? StoreStatus::ok : StoreStatus::not_found;
}

}  // namespace cardsmith::storage::sql
