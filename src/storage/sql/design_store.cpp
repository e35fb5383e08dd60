// The store's design versions and rollouts (issue 6, see store.hpp).
//
// A rollout walks the program's cards in id order, a chunk per transaction: each chunk's
// cards get the new design version and a fresh update tag, and every device holding one
// gets an outbox row, committed together. The cursor is committed with the chunk, so a
// process that dies resumes where the last chunk ended; cards made during the rollout
// already carry the new version (create_card copies the program's).
#include <algorithm>
#include <boost/json.hpp>

#include "storage/sql/rows.hpp"
#include "storage/sql/sql_store.hpp"

namespace cardsmith::storage::sql {
namespace {

constexpr const char* kRolloutById =
    "SELECT id, program_id, version, from_version, state, canary_percent, canary_devices, "
    "COALESCE(confirmed_at, 0), last_card_id, cursor, cards_total, cards_done, devices_total, "
    "pushes_queued, created_at, COALESCE(started_at, 0), updated_at, COALESCE(finished_at, 0), "
    "active_ms, COALESCE(running_since, 0), COALESCE(reverts, 0) FROM rollouts WHERE id = ?1";
constexpr const char* kRolloutsOfProgram =
    "SELECT id, program_id, version, from_version, state, canary_percent, canary_devices, "
    "COALESCE(confirmed_at, 0), last_card_id, cursor, cards_total, cards_done, devices_total, "
    "pushes_queued, created_at, COALESCE(started_at, 0), updated_at, COALESCE(finished_at, 0), "
    "active_ms, COALESCE(running_since, 0), COALESCE(reverts, 0) FROM rollouts WHERE program_id = "
    "?1 ORDER BY id DESC "
    "LIMIT ?2";

Rollout read_rollout(Statement& st) {
    Rollout r;
    r.id = st.int64(0);
    r.program = ProgramId(st.int64(1));
    r.version = st.int64(2);
    r.from_version = st.int64(3);
    r.state = st.text(4);
    r.canary_percent = static_cast<int>(st.int64(5));
    r.canary_devices = st.int64(6);
    r.confirmed_at = st.int64(7);
    r.last_card_id = st.int64(8);
    r.cursor = st.int64(9);
    r.cards_total = st.int64(10);
    r.cards_done = st.int64(11);
    r.devices_total = st.int64(12);
    r.pushes_queued = st.int64(13);
    r.created_at = st.int64(14);
    r.started_at = st.int64(15);
    r.updated_at = st.int64(16);
    r.finished_at = st.int64(17);
    r.active_ms = st.int64(18);
    r.running_since = st.int64(19);
    r.reverts = st.int64(20);
    return r;
}

std::optional<Rollout> rollout_by_id(Connection& c, std::int64_t id) {
    auto st = c.prepare(kRolloutById);
    st.bind(1, id);
    if (!st.step()) {
        return std::nullopt;
    }
    return read_rollout(st);
}

std::int64_t scalar(Connection& c, const char* sql, std::int64_t a) {
    auto st = c.prepare(sql);
    st.bind(1, a);
    return st.step() ? st.int64(0) : 0;
}

std::int64_t scalar(Connection& c, const char* sql, std::int64_t a, std::int64_t b) {
    auto st = c.prepare(sql);
    st.bind(1, a).bind(2, b);
    return st.step() ? st.int64(0) : 0;
}

// Time spent running, for the rate and ETA: a pause or a canary's wait does not count.
// (SET expressions see the row as it was, so both read the old state and running_since.)
#define ACCOUNT_RUNNING(NEW_STATE, NOW)                                                           \
    "active_ms = active_ms + CASE WHEN running_since IS NOT NULL AND " NEW_STATE                  \
    " != 'running' THEN " NOW " - running_since ELSE 0 END, running_since = CASE WHEN " NEW_STATE \
    " = 'running' THEN COALESCE(running_since, " NOW ") END"

void set_state(Connection& c, std::int64_t id, std::string_view state, std::int64_t now_ms,
               bool finished) {
    c
        .prepare("UPDATE rollouts SET state = ?2, updated_at = ?3, " ACCOUNT_RUNNING(
            "?2",
            "?3") ", "
                  "finished_at = CASE WHEN ?4 <> 0 THEN ?3 ELSE finished_at END WHERE id = ?1")
        .bind(1, id)
        .bind(2, state)
        .bind(3, now_ms)
        .bind(4, finished ? 1 : 0)
        .run();
}

// The class carries the design at Google: one PATCH once every card has moved.
void queue_google_class(Connection& c, ProgramId program, std::int64_t now_ms) {
    c.prepare(
         "INSERT INTO outbox (kind, target, topic, route, not_before, created_at, updated_at, "
         "program_id) SELECT 'google_class', slug, '', '', ?2, ?2, ?2, id FROM programs "
         "WHERE id = ?1 AND "
         "EXISTS (SELECT 1 FROM cards WHERE program_id = ?1 AND google_saved_at IS NOT NULL) "
         "ON CONFLICT (kind, target, topic) WHERE state = 'pending' DO UPDATE SET "
         "updated_at = excluded.updated_at")
        .bind(1, program.value())
        .bind(2, now_ms)
        .run();
}

}  // namespace

std::int64_t SqlStore::add_design_version(const NewDesignVersion& v) {
    auto c = lease();
    Transaction tx(*c);
    const std::int64_t version =
        scalar(*c, "SELECT COALESCE(MAX(version), 0) + 1 FROM designs WHERE program_id = ?1",
               v.program.value());
    auto note = v.note;  // an empty note binds NULL
    c->prepare(
         "INSERT INTO designs (program_id, version, design_json, created_at, note) "
         "VALUES (?1, ?2, ?3, ?4, ?5)")
        .bind(1, v.program.value())
        .bind(2, version)
        .bind(3, v.design_json)
        .bind(4, v.now_ms / 1000)
        .bind_optional(5, note)
        .run();
    c->prepare(
         "INSERT INTO design_images (program_id, version, name, blob_sha256) "
         "SELECT program_id, ?3, name, blob_sha256 FROM design_images "
         "WHERE program_id = ?1 AND version = ?2")
        .bind(1, v.program.value())
        .bind(2, v.base_version)
        .bind(3, version)
        .run();
    for (const auto& [name, image] : v.images) {
        const auto& sha = put_blob(*c, image);
        c->prepare(
             "INSERT INTO design_images (program_id, version, name, blob_sha256) "
             "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (program_id, version, name) DO UPDATE SET "
             "blob_sha256 = excluded.blob_sha256")
            .bind(1, v.program.value())
            .bind(2, version)
            .bind(3, name)
            .bind(4, sha)
            .run();
    }
    tx.commit();
    return version;
}

std::vector<DesignVersion> SqlStore::list_design_versions(ProgramId program) {
    auto c = lease();
    auto st = c->prepare(
        "SELECT d.version, d.design_json, d.note, d.created_at, COALESCE(d.published_at, 0), "
        "(SELECT string_agg(name, ',') FROM design_images i WHERE "
        "i.program_id = d.program_id AND i.version = d.version) "
        "FROM designs d WHERE d.program_id = ?1 ORDER BY d.version DESC");
    st.bind(1, program.value());
    std::vector<DesignVersion> out;
    while (st.step()) {
        DesignVersion d;
        d.version = st.int64(0);
        d.design_json = st.text(1);
        d.note = st.text(2);
        d.created_at = st.int64(3);
        d.published_at = st.int64(4);
        const std::string names = st.text(5);
        for (std::size_t at = 0; at < names.size();) {
            auto comma = names.find(',', at);
            if (comma == std::string::npos) {
                comma = names.size();
            }
            d.images.push_back(names.substr(at, comma - at));
            at = comma + 1;
        }
        std::sort(d.images.begin(), d.images.end());  // string_agg's order is unspecified
        out.push_back(std::move(d));
    }
    return out;
}

std::optional<DesignVersion> SqlStore::find_design_version(ProgramId program,
                                                           std::int64_t version) {
    for (auto& d : list_design_versions(program)) {
        if (d.version == version) {
            return std::move(d);
        }
    }
    return std::nullopt;
}

bool SqlStore::load_design_version(domain::Program& program, std::int64_t version) {
    auto c = lease();
    auto st = c->prepare("SELECT design_json FROM designs WHERE program_id = ?1 AND version = ?2");
    st.bind(1, program.id.value()).bind(2, version);
    if (!st.step()) {
        return false;
    }
    std::vector<domain::Problem> problems;
    auto design = domain::design_from_json(boost::json::parse(st.text(0)), problems);
    if (!problems.empty()) {
        throw StorageError("stored design " + std::to_string(version) + " of " + program.slug +
                           " is invalid: " + problems[0].field + " " + problems[0].message);
    }
    program.design = std::move(design);
    program.design_version = version;
    return true;
}

Rollout SqlStore::begin_rollout(Connection& c, ProgramId program, std::int64_t version,
                                int canary_percent, std::int64_t now_ms) {
    const std::int64_t from =
        scalar(c, "SELECT design_version FROM programs WHERE id = ?1", program.value());
    c.prepare(
         "UPDATE rollouts SET state = 'superseded', updated_at = ?2, finished_at = "
         "?2, " ACCOUNT_RUNNING(
             "'superseded'",
             "?2") " WHERE program_id = ?1 AND state IN ('running', 'paused', 'canary')")
        .bind(1, program.value())
        .bind(2, now_ms)
        .run();
    c.prepare("UPDATE programs SET design_version = ?2 WHERE id = ?1")
        .bind(1, program.value())
        .bind(2, version)
        .run();
    c.prepare("UPDATE designs SET published_at = ?3 WHERE program_id = ?1 AND version = ?2")
        .bind(1, program.value())
        .bind(2, version)
        .bind(3, now_ms)
        .run();
    const std::int64_t last =
        scalar(c, "SELECT COALESCE(MAX(id), 0) FROM cards WHERE program_id = ?1", program.value());
    const std::int64_t cards =
        scalar(c, "SELECT COUNT(*) FROM cards WHERE program_id = ?1 AND design_version != ?2",
               program.value(), version);
    const std::int64_t devices = scalar(c,
                                        "SELECT COUNT(*) FROM cards c JOIN registrations r ON "
                                        "r.card_id = c.id WHERE c.program_id = ?1 AND "
                                        "c.design_version != ?2 AND " PUSHABLE,
                                        program.value(), version);
    const int percent = std::clamp(canary_percent, 0, 100);
    // No device to try it on: no canary.
    const std::int64_t canary = percent > 0 && percent < 100 && devices > 0
                                    ? std::max<std::int64_t>(1, (devices * percent + 99) / 100)
                                    : 0;
    const bool nothing_to_do = cards == 0;
    auto insert = c.prepare(
        "INSERT INTO rollouts (program_id, version, from_version, state, canary_percent, "
        "canary_devices, last_card_id, cards_total, devices_total, created_at, updated_at, "
        "finished_at, running_since) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11, "
        "CASE WHEN ?4 = 'running' THEN ?10 END)");
    insert.bind(1, program.value())
        .bind(2, version)
        .bind(3, from)
        .bind(4, nothing_to_do ? "done" : "running")
        .bind(5, percent)
        .bind(6, canary)
        .bind(7, last)
        .bind(8, cards)
        .bind(9, devices)
        .bind(10, now_ms);
    if (nothing_to_do) {
        insert.bind(11, now_ms);
    } else {
        insert.bind_null(11);
    }
    insert.run();
    const std::int64_t id = c.last_insert_id();
    if (nothing_to_do && from != version) {
        queue_google_class(c, program, now_ms);
    }
    return *rollout_by_id(c, id);
}

Rollout SqlStore::start_rollout(ProgramId program, std::int64_t version, int canary_percent,
                                std::int64_t now_ms) {
    auto c = lease();
    Transaction tx(*c);
    auto r = begin_rollout(*c, program, version, canary_percent, now_ms);
    tx.commit();
    return r;
}

namespace {
// One text, so both callers share one prepared statement per connection.
const char* const kLockRollout = "SELECT id FROM rollouts WHERE id = ?1 FOR UPDATE";
}  // namespace

std::optional<Rollout> SqlStore::rollout_step(std::int64_t id, int max_cards, std::int64_t now_ms) {
    auto c = lease();
    Transaction tx(*c);
    lock_row(*c, kLockRollout, id);
    auto r = rollout_by_id(*c, id);
    if (!r || r->state != "running") {
        return r;
    }
    const bool canary_pending = r->canary_devices > 0 && r->confirmed_at == 0;
    std::int64_t limit = std::max(1, max_cards);
    if (canary_pending) {
        const std::int64_t remaining = r->canary_devices - r->pushes_queued;
        if (remaining <= 0) {
            set_state(*c, id, "canary", now_ms, false);
            tx.commit();
            return rollout_by_id(*c, id);
        }
        limit = std::min(limit, remaining);
    }
    std::int64_t end = 0;
    std::int64_t walked = 0;
    {
        auto st = c->prepare(
            "SELECT COALESCE(MAX(id), 0), COUNT(*) FROM (SELECT id FROM cards WHERE "
            "program_id = ?1 AND id > ?2 AND id <= ?3 ORDER BY id LIMIT ?4) AS chunk");
        st.bind(1, r->program.value()).bind(2, r->cursor).bind(3, r->last_card_id).bind(4, limit);
        if (st.step()) {
            end = st.int64(0);
            walked = st.int64(1);
        }
    }
    int changed = 0;
    int pushes = 0;
    if (walked > 0) {
        lock_program_cards(*c, r->program.value(), r->cursor, end);
        const std::int64_t seq = next_update_seq(*c);
        c->prepare(
             "UPDATE cards SET design_version = ?4, update_seq = ?5, "
             "modified_at = GREATEST(?6, modified_at + 1) WHERE program_id = ?1 AND id > ?2 AND "
             "id <= ?3 AND design_version != ?4")
            .bind(1, r->program.value())
            .bind(2, r->cursor)
            .bind(3, end)
            .bind(4, r->version)
            .bind(5, seq)
            .bind(6, now_ms / 1000)
            .run();
        changed = c->changes();
        auto st = c->prepare(
            "INSERT INTO outbox (kind, target, topic, route, not_before, created_at, updated_at, "
            "program_id) SELECT DISTINCT " OUTBOX_KIND
            ", r.push_token, r.pass_type_id, COALESCE(r.push_service_url, ''), ?5, ?5, ?5, ?1 "
            "FROM cards c JOIN registrations r ON r.card_id = c.id WHERE c.program_id = ?1 "
            "AND c.id > ?2 AND c.id <= ?3 AND c.update_seq = ?4 AND " PUSHABLE
            " ON CONFLICT (kind, target, topic) WHERE state = 'pending' DO UPDATE SET "
            "updated_at = excluded.updated_at");
        st.bind(1, r->program.value()).bind(2, r->cursor).bind(3, end).bind(4, seq).bind(5, now_ms);
        st.run();
        pushes = c->changes();
    }
    const bool finished = walked < limit || end >= r->last_card_id;
    const std::int64_t queued = r->pushes_queued + pushes;
    std::string state = "running";
    if (finished) {
        state = "done";
    } else if (canary_pending && queued >= r->canary_devices) {
        state = "canary";
    }
    c->prepare(
         "UPDATE rollouts SET cursor = GREATEST(cursor, ?2), cards_done = cards_done + ?3, "
         "pushes_queued = pushes_queued + ?4, started_at = COALESCE(started_at, ?5), "
         "updated_at = ?5, state = ?6, finished_at = CASE WHEN ?6 = 'done' THEN ?5 "
         "END, " ACCOUNT_RUNNING("?6", "?5") " WHERE id = ?1")
        .bind(1, id)
        .bind(2, end)
        .bind(3, changed)
        .bind(4, pushes)
        .bind(5, now_ms)
        .bind(6, state)
        .run();
    if (finished) {
        queue_google_class(*c, r->program, now_ms);
    }
    tx.commit();
    return rollout_by_id(*c, id);
}

RolloutChange SqlStore::control_rollout(std::int64_t id, RolloutAction action,
                                        std::int64_t now_ms) {
    auto c = lease();
    Transaction tx(*c);
    RolloutChange out;
    lock_row(*c, kLockRollout, id);
    auto r = rollout_by_id(*c, id);
    if (!r) {
        out.status = StoreStatus::not_found;
        return out;
    }
    const bool active = r->state == "running" || r->state == "paused" || r->state == "canary";
    switch (action) {
        case RolloutAction::pause:
            if (r->state != "running" && r->state != "canary") {
                out.status = StoreStatus::conflict;
                break;
            }
            set_state(*c, id, "paused", now_ms, false);
            break;
        case RolloutAction::resume:
            if (r->state != "paused") {
                out.status = StoreStatus::conflict;
                break;
            }
            set_state(*c, id, "running", now_ms, false);  // a due canary stops it again
            break;
        case RolloutAction::confirm:
            if (!active || r->canary_devices == 0 || r->confirmed_at != 0) {
                out.status = StoreStatus::conflict;
                break;
            }
            c->prepare("UPDATE rollouts SET confirmed_at = ?2, updated_at = ?2 WHERE id = ?1")
                .bind(1, id)
                .bind(2, now_ms)
                .run();
            if (r->state == "canary") {
                set_state(*c, id, "running", now_ms, false);
            }
            break;
        case RolloutAction::cancel: {
            // Cancelling a revert would publish the cancelled version again.
            if (!active || r->reverts != 0) {
                out.status = StoreStatus::conflict;
                break;
            }
            set_state(*c, id, "cancelled", now_ms, true);
            // The cards already moved go back, as a rollout of the version before.
            const std::int64_t live =
                scalar(*c, "SELECT design_version FROM programs WHERE id = ?1", r->program.value());
            if (live == r->version) {
                out.revert = begin_rollout(*c, r->program, r->from_version, 0, now_ms);
                c->prepare("UPDATE rollouts SET reverts = ?2 WHERE id = ?1")
                    .bind(1, out.revert->id)
                    .bind(2, id)
                    .run();
                out.revert->reverts = id;
            }
            break;
        }
    }
    if (out.status == StoreStatus::ok) {
        tx.commit();
    }
    out.rollout = rollout_by_id(*c, id);
    return out;
}

std::optional<Rollout> SqlStore::find_rollout(std::int64_t id) {
    auto c = lease();
    return rollout_by_id(*c, id);
}

std::vector<Rollout> SqlStore::list_rollouts(ProgramId program, int limit) {
    auto c = lease();
    auto st = c->prepare(kRolloutsOfProgram);
    st.bind(1, program.value()).bind(2, limit);
    std::vector<Rollout> out;
    while (st.step()) {
        out.push_back(read_rollout(st));
    }
    return out;
}

std::vector<std::int64_t> SqlStore::running_rollouts() {
    auto c = lease();
    auto st = c->prepare("SELECT id FROM rollouts WHERE state = 'running' ORDER BY id");
    std::vector<std::int64_t> out;
    while (st.step()) {
        out.push_back(st.int64(0));
    }
    return out;
}

}  // namespace cardsmith::storage::sql
