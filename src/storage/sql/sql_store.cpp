#include "storage/sql/sql_store.hpp"

#include <boost/json.hpp>
#include <ctime>

#include "common/random.hpp"
#include "storage/sql/events.hpp"
#include "storage/sql/rows.hpp"

namespace cardsmith::storage::sql {
namespace {

#define PROGRAM_SELECT                                                                        \
    "SELECT id, merchant_id, slug, name, template, design_version, created_at, identity_id, " \
    "enrollment_json, time_zone FROM programs "
constexpr const char* kProgramById = PROGRAM_SELECT "WHERE id = ?1";
constexpr const char* kProgramBySlug = PROGRAM_SELECT "WHERE slug = ?1";
constexpr const char* kAllPrograms = PROGRAM_SELECT "ORDER BY id";
#undef PROGRAM_SELECT

}  // namespace

SqlStore::SqlStore(std::vector<std::unique_ptr<Connection>> pool,
                   std::span<const Migration> migrations)
    : migrations_(migrations), idle_(std::move(pool)) {
    if (idle_.empty()) {
        throw StorageError("a store needs at least one connection");
    }
}

SqlStore::Lease::~Lease() {
    {
        std::lock_guard lock(store_.mutex_);
        store_.idle_.push_back(std::move(conn_));
    }
    store_.available_.notify_one();
}

SqlStore::Lease SqlStore::lease() {
    std::unique_lock lock(mutex_);
    available_.wait(lock, [this] { return !idle_.empty(); });
    auto c = std::move(idle_.back());
    idle_.pop_back();
    return Lease(*this, std::move(c));
}

namespace {
constexpr std::int64_t kMigrationLock = 0x43617264736d6974;  // "Cardsmit"
}  // namespace

int SqlStore::migrate() {
    auto c = lease();
    // Instances starting together on one database: PostgreSQL runs one migration at a time
    // (a transaction-scoped advisory lock), SQLite's write lock does the same, and each
    // migration checks again inside its transaction whether another applied it meanwhile.
    const auto lock = [&] {
        if (c->dialect() == Dialect::postgres) {
            c->prepare("SELECT pg_advisory_xact_lock(?1)").bind(1, kMigrationLock).run();
        }
    };
    {
        Transaction tx(*c);
        lock();
        c->exec(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
            "description TEXT NOT NULL, applied_at INTEGER NOT NULL)");
        tx.commit();
    }
    const auto applied = [&] {
        auto st = c->prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
        return st.step() ? static_cast<int>(st.int64(0)) : 0;
    };
    int current = applied();
    for (const auto& m : migrations_) {
        if (m.version <= current) {
            continue;
        }
        Transaction tx(*c);
        lock();
        current = applied();
        if (m.version <= current) {
            continue;
        }
        c->exec(m.sql);
        c->prepare(
             "INSERT INTO schema_migrations (version, description, applied_at) "
             "VALUES (?1, ?2, ?3)")
            .bind(1, std::int64_t{m.version})
            .bind(2, m.description)
            .bind(3, static_cast<std::int64_t>(std::time(nullptr)))
            .run();
        tx.commit();
        current = m.version;
    }
    return current;
}

int SqlStore::schema_version() {
    auto c = lease();
    try {
        auto st = c->prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
        return st.step() ? static_cast<int>(st.int64(0)) : 0;
    } catch (const StorageError&) {
        return 0;  // no schema_migrations table: nothing migrated yet
    }
}

bool SqlStore::ping() {
    try {
        auto c = lease();
        auto st = c->prepare("SELECT 1");
        return st.step();
    } catch (const StorageError&) {
        return false;
    }
}

domain::Merchant SqlStore::create_merchant(std::string_view name, std::string_view key_hash,
                                           std::string_view key_prefix, std::int64_t now) {
    auto c = lease();
    Transaction tx(*c);
    c->prepare("INSERT INTO merchants (name, created_at) VALUES (?1, ?2)")
        .bind(1, name)
        .bind(2, now)
        .run();
    domain::Merchant m{MerchantId(c->last_insert_id()), std::string(name), now};
    c->prepare(
         "INSERT INTO api_keys (merchant_id, role, key_hash, prefix, created_at) "
         "VALUES (?1, 'merchant', ?2, ?3, ?4)")
        .bind(1, m.id.value())
        .bind(2, key_hash)
        .bind(3, key_prefix)
        .bind(4, now)
        .run();
    tx.commit();
    return m;
}

std::optional<domain::Merchant> SqlStore::find_merchant(MerchantId id) {
    auto c = lease();
    auto st = c->prepare("SELECT id, name, created_at FROM merchants WHERE id = ?1");
    st.bind(1, id.value());
    if (!st.step()) {
        return std::nullopt;
    }
    return domain::Merchant{MerchantId(st.int64(0)), st.text(1), st.int64(2)};
}

Outcome<domain::Program> SqlStore::create_program(const NewProgram& p) {
    auto c = lease();
    Transaction tx(*c);
    try {
        auto st = c->prepare(
            "INSERT INTO programs (merchant_id, slug, name, template, design_version, "
            "created_at, identity_id, time_zone) VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?7)");
        st.bind(1, p.merchant.value())
            .bind(2, p.slug)
            .bind(3, p.name)
            .bind(4, p.template_name)
            .bind(5, p.now);
        if (p.identity) {
            st.bind(6, p.identity->value());
        } else {
            st.bind_null(6);
        }
        st.bind(7, p.time_zone);
        st.run();
    } catch (const UniqueViolation&) {
        return {StoreStatus::conflict, std::nullopt};
    }
    auto id = c->last_insert_id();
    c->prepare(
         "INSERT INTO designs (program_id, version, design_json, created_at, published_at) "
         "VALUES (?1, 1, ?2, ?3, ?3 * 1000)")
        .bind(1, id)
        .bind(2, p.design_json)
        .bind(3, p.now)
        .run();
    for (const auto& [name, image] : p.images) {
        const auto& sha = put_blob(*c, image);
        c->prepare(
             "INSERT INTO design_images (program_id, version, name, blob_sha256) "
             "VALUES (?1, 1, ?2, ?3)")
            .bind(1, id)
            .bind(2, name)
            .bind(3, sha)
            .run();
    }
    tx.commit();
    auto st = c->prepare(kProgramById);
    st.bind(1, id);
    return {StoreStatus::ok, read_program(st, *c)};
}

std::optional<domain::Program> SqlStore::read_program(Statement& st, Connection& c) {
    if (!st.step()) {
        return std::nullopt;
    }
    domain::Program p;
    p.id = ProgramId(st.int64(0));
    p.merchant = MerchantId(st.int64(1));
    p.slug = st.text(2);
    p.name = st.text(3);
    p.template_name = st.text(4);
    p.design_version = st.int64(5);
    p.created_at = st.int64(6);
    p.time_zone = st.text(9);
    if (auto identity = st.int64(7); identity != 0) {
        p.identity = IdentityId(identity);
    }
    {
        std::vector<domain::Problem> bad;
        p.enrollment = domain::enrollment_from_json(boost::json::parse(st.text(8)), bad,
                                                    domain::SettingsJson::storage);
        if (!bad.empty()) {
            throw StorageError("stored enrollment settings of " + p.slug +
                               " are invalid: " + bad[0].field + " " + bad[0].message);
        }
    }
    auto d = c.prepare("SELECT design_json FROM designs WHERE program_id = ?1 AND version = ?2");
    d.bind(1, p.id.value()).bind(2, p.design_version);
    if (!d.step()) {
        throw StorageError("program " + p.slug + " has no design version " +
                           std::to_string(p.design_version));
    }
    std::vector<domain::Problem> problems;
    p.design = domain::design_from_json(boost::json::parse(d.text(0)), problems);
    if (!problems.empty()) {
        throw StorageError("stored design of " + p.slug + " is invalid: " + problems[0].field +
                           " " + problems[0].message);
    }
    return p;
}

std::optional<domain::Program> SqlStore::find_program(std::string_view slug) {
    auto c = lease();
    auto st = c->prepare(kProgramBySlug);
    st.bind(1, slug);
    return read_program(st, *c);
}

std::vector<domain::Program> SqlStore::list_programs() {
    auto c = lease();
    auto st = c->prepare(kAllPrograms);
    std::vector<domain::Program> out;
    while (auto p = read_program(st, *c)) {
        out.push_back(std::move(*p));
    }
    return out;
}

std::optional<domain::Program> SqlStore::find_program(ProgramId id) {
    auto c = lease();
    auto st = c->prepare(kProgramById);
    st.bind(1, id.value());
    return read_program(st, *c);
}

std::map<std::string, std::string> SqlStore::design_images(ProgramId program,
                                                           std::int64_t version) {
    auto c = lease();
    auto st = c->prepare(
        "SELECT di.name, b.bytes FROM design_images di JOIN blobs b ON b.sha256 = di.blob_sha256 "
        "WHERE di.program_id = ?1 AND di.version = ?2");
    st.bind(1, program.value()).bind(2, version);
    std::map<std::string, std::string> out;
    while (st.step()) {
        out.emplace(st.text(0), st.blob(1));
    }
    return out;
}

// Each program's card count is a row of `counters` ("cards:<program id>"), written in the
// transaction that adds the card: limits.max_cards_per_program is checked without counting
// millions of rows, and on PostgreSQL instances adding cards to one program take turns on
// the row, so none goes past the limit. The row is made on the first card after this
// existed, from a count of the program's cards; cards are never deleted. Kept whether or
// not a limit is set, so setting one later finds the count right.
bool SqlStore::count_new_card(Connection& c, ProgramId program, std::int64_t max_cards) {
    const std::string name = "cards:" + std::to_string(program.value());
    // Once the program has its counter row (every program after its first card), one
    // statement counts the card; the row is locked until COMMIT, so two instances cannot
    // pass the limit together.
    const auto count = [&] {
        auto st = c.prepare(
            "UPDATE counters SET value = value + 1 WHERE name = ?1 AND (CAST(?2 AS BIGINT) = 0 "
            "OR value < CAST(?2 AS BIGINT)) RETURNING value");
        st.bind(1, name).bind(2, max_cards);
        const bool counted = st.step();
        if (counted) {
            st.run();  // finish the statement before COMMIT
        }
        return counted;
    };
    if (count()) {
        return true;
    }
    bool exists = false;
    {
        auto st = c.prepare("SELECT 1 FROM counters WHERE name = ?1");
        st.bind(1, name);
        exists = st.step();
    }
    if (exists) {
        return false;  // the limit
    }
    // The program's first card since the limit came in: the row starts at the count.
    c.prepare(
         "INSERT INTO counters (name, value) SELECT ?1, COUNT(*) FROM cards WHERE program_id "
         "= ?2 ON CONFLICT (name) DO NOTHING")
        .bind(1, name)
        .bind(2, program.value())
        .run();
    return count();
}

Outcome<domain::Card> SqlStore::create_card(const NewCard& n) {
    auto c = lease();
    Transaction tx(*c);
    if (n.referral && c->dialect() == Dialect::postgres) {
        // The referrer's card gets its bonus after the counter: locked before it (rows.hpp).
        c->prepare("SELECT id FROM cards WHERE program_id = ?1 AND referral_code = ?2 FOR UPDATE")
            .bind(1, n.program.value())
            .bind(2, n.referral->code)
            .run();
    }
    std::int64_t seq = next_update_seq(*c);
    if (!count_new_card(*c, n.program, n.max_cards)) {
        return {StoreStatus::limit_reached, std::nullopt};
    }
    try {
        c->prepare(
             "INSERT INTO cards (program_id, card_number, serial, auth_token, holder_name, "
             "holder_phone, holder_email, balance, lifetime_points, update_seq, "
             "modified_at, created_at, source, birthday, referral_code, verified, "
             "design_version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?10, ?10, ?11, "
             "?12, ?13, ?14, "
             "COALESCE((SELECT design_version FROM programs WHERE id = ?1), 1))")
            .bind(1, n.program.value())
            .bind(2, n.number.value())
            .bind(3, n.serial.value())
            .bind(4, n.auth_token.value())
            .bind_optional(5, n.holder.name)
            .bind_optional(6, n.holder.phone)
            .bind_optional(7, n.holder.email)
            .bind(8, n.balance)
            .bind(9, seq)
            .bind(10, n.now)
            .bind(11, n.source)
            .bind_optional(12, n.birthday)
            .bind(13, n.referral_code.empty() ? random::hex(5) : n.referral_code)
            .bind(14, std::int64_t{n.verified ? 1 : 0})
            .run();
    } catch (const UniqueViolation&) {
        return {StoreStatus::conflict, std::nullopt};
    } catch (const ForeignKeyViolation&) {
        return {StoreStatus::not_found, std::nullopt};  // the program vanished in between
    }
    auto id = c->last_insert_id();
    if (n.referral) {
        (void)apply_referral(*c, id, n);
    }
    (void)emit_event(*c, id, 0, "card.created", {}, std::nullopt, n.now * 1000,
                     {{"serial", n.serial.value()}, {"source", n.source}, {"balance", n.balance}});
    tx.commit();
    auto st = c->prepare(kCardById);
    st.bind(1, id);
    if (!st.step()) {
        throw StorageError("card vanished after insert");
    }
    return {StoreStatus::ok, read_card(st)};
}

std::optional<domain::Card> SqlStore::find_card(const CardNumber& number) {
    auto c = lease();
    auto st = c->prepare(kCardByNumber);
    st.bind(1, number.value());
    if (!st.step()) {
        return std::nullopt;
    }
    return read_card(st);
}

std::optional<domain::Card> SqlStore::find_card(const SerialNumber& serial) {
    auto c = lease();
    auto st = c->prepare(kCardBySerial);
    st.bind(1, serial.value());
    if (!st.step()) {
        return std::nullopt;
    }
    return read_card(st);
}

std::int64_t SqlStore::count_cards(ProgramId program) {
    auto c = lease();
    auto st = c->prepare("SELECT COUNT(*) FROM cards WHERE program_id = ?1");
    st.bind(1, program.value());
    return st.step() ? st.int64(0) : 0;
}

}  // namespace cardsmith::storage::sql
