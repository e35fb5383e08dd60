#include "storage/sqlite/migrations.hpp"

#include <array>

namespace cardsmith::storage::sqlite {
namespace {

constexpr const char* kV1 = R"sql(
CREATE TABLE merchants (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE TABLE api_keys (
    id          INTEGER PRIMARY KEY,
    merchant_id INTEGER REFERENCES merchants(id) ON DELETE CASCADE,
    role        TEXT    NOT NULL CHECK (role IN ('admin', 'merchant')),
    key_hash    TEXT    NOT NULL UNIQUE,
    prefix      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER,
    CHECK ((role = 'admin') = (merchant_id IS NULL))
);
CREATE TABLE blobs (
    sha256      TEXT PRIMARY KEY,
    bytes       BLOB NOT NULL
);
CREATE TABLE programs (
    id             INTEGER PRIMARY KEY,
    merchant_id    INTEGER NOT NULL REFERENCES merchants(id),
    slug           TEXT    NOT NULL UNIQUE,
    name           TEXT    NOT NULL,
    template       TEXT    NOT NULL,
    design_version INTEGER NOT NULL,
    created_at     INTEGER NOT NULL
);
CREATE INDEX programs_merchant ON programs(merchant_id);
CREATE TABLE designs (
    program_id  INTEGER NOT NULL REFERENCES programs(id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    design_json TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (program_id, version)
);
CREATE TABLE design_images (
    program_id  INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    blob_sha256 TEXT    NOT NULL REFERENCES blobs(sha256),
    PRIMARY KEY (program_id, version, name),
    FOREIGN KEY (program_id, version) REFERENCES designs(program_id, version) ON DELETE CASCADE
);
CREATE TABLE cards (
    id              INTEGER PRIMARY KEY,
    program_id      INTEGER NOT NULL REFERENCES programs(id),
    card_number     TEXT    NOT NULL UNIQUE,
    serial          TEXT    NOT NULL UNIQUE,
    auth_token      TEXT    NOT NULL,
    holder_name     TEXT,
    holder_phone    TEXT,
    holder_email    TEXT,
    balance         INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0),
    lifetime_points INTEGER NOT NULL DEFAULT 0,
    offer           TEXT,
    update_seq      INTEGER NOT NULL,
    modified_at     INTEGER NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX cards_program ON cards(program_id);
CREATE INDEX cards_program_update ON cards(program_id, update_seq);
-- One row per named counter. pass_update_seq hands out pass update tags inside the
-- transaction that changes a pass, so commit order equals tag order.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO counters (name, value) VALUES ('pass_update_seq', 0);
)sql";

// Apple's pass web service (devices, registrations), events for stats, the points
// ledger with idempotency keys, and the durable push outbox.
constexpr const char* kV2 = R"sql(
CREATE TABLE devices (
    id          INTEGER PRIMARY KEY,
    library_id  TEXT    NOT NULL UNIQUE,   -- Wallet's deviceLibraryIdentifier
    created_at  INTEGER NOT NULL
);
-- A device's push token belongs to a pass type (an APNs topic): it lives on the
-- registration, so a dead token for one pass type leaves the device's others alone.
CREATE TABLE registrations (
    device_id    INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    card_id      INTEGER NOT NULL REFERENCES cards(id) ON DELETE CASCADE,
    pass_type_id TEXT    NOT NULL,
    push_token   TEXT    NOT NULL,
    token_at     INTEGER NOT NULL,  -- ms: when this token was last registered
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (device_id, card_id)
);
CREATE INDEX registrations_token ON registrations(push_token, pass_type_id);
CREATE INDEX registrations_card ON registrations(card_id);
CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    program_id  INTEGER NOT NULL,
    card_id     INTEGER,
    kind        TEXT    NOT NULL,   -- pass.installed, pass.removed, transaction.created
    wallet      TEXT,               -- apple, google, ...
    device_id   INTEGER,
    created_at  INTEGER NOT NULL
);
CREATE INDEX events_program ON events(program_id, kind, created_at);
CREATE TABLE transactions (
    id             INTEGER PRIMARY KEY,
    card_id        INTEGER NOT NULL REFERENCES cards(id),
    points         INTEGER NOT NULL,   -- signed: earn > 0, redeem < 0
    amount         INTEGER,            -- minor currency units, when the till sent one
    note           TEXT,
    balance_after  INTEGER NOT NULL,
    created_at     INTEGER NOT NULL
);
CREATE INDEX transactions_card ON transactions(card_id, id);
CREATE TABLE idempotency_keys (
    merchant_id    INTEGER NOT NULL,
    key            TEXT    NOT NULL,
    request_hash   TEXT    NOT NULL,
    transaction_id INTEGER NOT NULL REFERENCES transactions(id),
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, key)
);
-- One row per push to send. A pending row per (kind, target, topic) at most: later
-- changes coalesce into it. 'sending' rows carry a lease; a crashed process's leases
-- expire and the rows are claimed again (at-least-once).
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL,             -- apns
    target      TEXT    NOT NULL,             -- push token
    topic       TEXT    NOT NULL,             -- pass type id
    state       TEXT    NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'sending', 'done', 'dead')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    not_before  INTEGER NOT NULL,             -- ms: due time (or lease end while sending)
    last_error  TEXT,
    created_at  INTEGER NOT NULL,             -- ms
    updated_at  INTEGER NOT NULL              -- ms
);
CREATE INDEX outbox_due ON outbox(state, not_before);
CREATE INDEX outbox_target ON outbox(target, state);
CREATE UNIQUE INDEX outbox_one_pending ON outbox(kind, target, topic) WHERE state = 'pending';
CREATE TABLE identities (
    id              INTEGER PRIMARY KEY,
    merchant_id     INTEGER NOT NULL REFERENCES merchants(id),
    pass_type_id    TEXT    NOT NULL UNIQUE,  -- one Apple pass type id, one owner
    team_id         TEXT    NOT NULL,
    certificate_pem TEXT    NOT NULL,
    key_sealed      TEXT    NOT NULL,         -- AES-256-GCM with the server key
    subject         TEXT    NOT NULL,
    fingerprint     TEXT    NOT NULL,
    not_after       INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX identities_merchant ON identities(merchant_id);
ALTER TABLE programs ADD COLUMN identity_id INTEGER REFERENCES identities(id);
)sql";

// Enrollment: where each card came from (the `src` channel tag of /join links, "api").
constexpr const char* kV3 = R"sql(
ALTER TABLE cards ADD COLUMN source TEXT NOT NULL DEFAULT 'api';
ALTER TABLE cards ADD COLUMN birthday TEXT;          -- YYYY-MM-DD when the form asked
ALTER TABLE programs ADD COLUMN enrollment_json TEXT NOT NULL DEFAULT '{}';
CREATE INDEX cards_program_source ON cards(program_id, source);
)sql";

// Enrollment, continued: verification codes and their send log (rate limits), invite
// codes and referrals, the birthday grant's year, and indexes to find a card by contact.
constexpr const char* kV4 = R"sql(
ALTER TABLE cards ADD COLUMN referral_code TEXT;
UPDATE cards SET referral_code = lower(hex(randomblob(5)));
CREATE UNIQUE INDEX cards_referral ON cards(program_id, referral_code);
ALTER TABLE cards ADD COLUMN verified INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cards ADD COLUMN birthday_year INTEGER;  -- last year with a birthday grant
CREATE INDEX cards_program_phone ON cards(program_id, holder_phone) WHERE holder_phone IS NOT NULL;
CREATE INDEX cards_program_email ON cards(program_id, holder_email) WHERE holder_email IS NOT NULL;
CREATE INDEX cards_program_birthday ON cards(program_id, substr(birthday, 6, 5))
    WHERE birthday IS NOT NULL;
CREATE TABLE verifications (
    id          TEXT    PRIMARY KEY,
    program_id  INTEGER NOT NULL REFERENCES programs(id),
    channel     TEXT    NOT NULL,
    destination TEXT    NOT NULL,
    code_hash   TEXT    NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    state       TEXT    NOT NULL DEFAULT 'pending',  -- pending, used, replaced
    form_json   TEXT    NOT NULL,
    expires_at  INTEGER NOT NULL,                    -- unix ms
    created_at  INTEGER NOT NULL
);
CREATE INDEX verifications_created ON verifications(created_at);
CREATE TABLE code_sends (
    destination TEXT    NOT NULL,
    ip          TEXT    NOT NULL,
    created_at  INTEGER NOT NULL                     -- unix ms
);
CREATE INDEX code_sends_destination ON code_sends(destination, created_at);
CREATE INDEX code_sends_ip ON code_sends(ip, created_at);
CREATE INDEX code_sends_created ON code_sends(created_at);
CREATE TABLE referrals (
    program_id       INTEGER NOT NULL REFERENCES programs(id),
    referrer_card_id INTEGER NOT NULL REFERENCES cards(id),
    card_id          INTEGER NOT NULL UNIQUE REFERENCES cards(id),
    person           TEXT    NOT NULL,               -- phone or email: once per person
    created_at       INTEGER NOT NULL,
    UNIQUE (program_id, person)
);
CREATE INDEX referrals_referrer ON referrals(referrer_card_id);
)sql";

// Every wallet (issue 5): which app each registration came from, PassWallet's push
// service URL, the client's user agent; the outbox row's route for PassWallet.
constexpr const char* kV5 = R"sql(
ALTER TABLE registrations ADD COLUMN wallet TEXT NOT NULL DEFAULT 'apple';
ALTER TABLE registrations ADD COLUMN push_service_url TEXT;
ALTER TABLE registrations ADD COLUMN user_agent TEXT;
ALTER TABLE outbox ADD COLUMN route TEXT NOT NULL DEFAULT '';
)sql";

// Google Wallet (issue 5): when a card's object was first made at Google (its save link
// was used), and the field-update notifications sent per card (3 a day at most).
constexpr const char* kV6 = R"sql(
ALTER TABLE cards ADD COLUMN google_saved_at INTEGER;  -- unix ms
CREATE INDEX cards_program_google ON cards(program_id) WHERE google_saved_at IS NOT NULL;
CREATE TABLE google_notices (
    card_id    INTEGER NOT NULL REFERENCES cards(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL                      -- unix ms
);
CREATE INDEX google_notices_card ON google_notices(card_id, created_at);
-- Save/delete callbacks already counted (Google retries them).
CREATE TABLE google_callbacks (
    nonce      TEXT    PRIMARY KEY,
    created_at INTEGER NOT NULL                      -- unix ms
);
)sql";

// Merchants and marketing (issue 6): each card's design version (a rollout moves cards
// from one version to the next in chunks, so a canary or a paused rollout leaves some
// on the old one), rollouts, campaigns and their recipients, the offer's expiry and
// the per-card frequency cap, webhooks and their deliveries, event payloads for the
// pull API; per-identity relay keys (vendors that issue a key per issuer); the
// program's time zone for schedules and quiet hours.
constexpr const char* kV7 = R"sql(
ALTER TABLE cards ADD COLUMN design_version INTEGER NOT NULL DEFAULT 0;
UPDATE cards SET design_version = (SELECT design_version FROM programs WHERE id = cards.program_id);
ALTER TABLE cards ADD COLUMN offer_expires_at INTEGER; -- unix ms; the offer is cleared then
ALTER TABLE cards ADD COLUMN last_offer_at INTEGER;    -- unix ms: frequency cap
CREATE INDEX cards_offer_expiry ON cards(offer_expires_at) WHERE offer_expires_at IS NOT NULL;
ALTER TABLE programs ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE designs ADD COLUMN note TEXT;
ALTER TABLE designs ADD COLUMN published_at INTEGER;   -- unix ms, last time it was published
ALTER TABLE identities ADD COLUMN relay_keys_sealed TEXT;
CREATE TABLE rollouts (
    id              INTEGER PRIMARY KEY,
    program_id      INTEGER NOT NULL REFERENCES programs(id),
    version         INTEGER NOT NULL,                -- design version being published
    from_version    INTEGER NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN
                    ('running', 'paused', 'canary', 'cancelled', 'superseded', 'done')),
    canary_percent  INTEGER NOT NULL DEFAULT 0,
    canary_devices  INTEGER NOT NULL DEFAULT 0,      -- devices in the canary (0: none)
    confirmed_at    INTEGER,                         -- unix ms: the canary was confirmed
    last_card_id    INTEGER NOT NULL,                -- the walk ends here (cards after it
                                                     -- are made with the new version)
    cursor          INTEGER NOT NULL DEFAULT 0,      -- cards with id <= cursor are done
    cards_total     INTEGER NOT NULL,
    cards_done      INTEGER NOT NULL DEFAULT 0,
    devices_total   INTEGER NOT NULL,
    pushes_queued   INTEGER NOT NULL DEFAULT 0,
    error           TEXT,
    created_at      INTEGER NOT NULL,                -- unix ms
    started_at      INTEGER,                         -- unix ms, first chunk
    updated_at      INTEGER NOT NULL,
    finished_at     INTEGER
);
CREATE INDEX rollouts_program ON rollouts(program_id, id);
CREATE INDEX rollouts_active ON rollouts(state) WHERE state IN ('running', 'canary', 'paused');
CREATE TABLE campaigns (
    id              INTEGER PRIMARY KEY,
    program_id      INTEGER NOT NULL REFERENCES programs(id),
    message         TEXT    NOT NULL,
    header          TEXT    NOT NULL DEFAULT '',
    link            TEXT    NOT NULL DEFAULT '',
    segment_json    TEXT    NOT NULL,
    options_json    TEXT    NOT NULL,                -- quiet hours, rate, cap, holdout...
    state           TEXT    NOT NULL CHECK (state IN
                    ('scheduled', 'sending', 'cancelled', 'done')),
    send_at         INTEGER NOT NULL,                -- unix ms
    expires_at      INTEGER,                         -- unix ms: the offer's end
    cursor          INTEGER NOT NULL DEFAULT 0,      -- cards with id <= cursor are done
    last_card_id    INTEGER NOT NULL DEFAULT 0,      -- fixed when sending starts
    targeted        INTEGER NOT NULL DEFAULT 0,
    held_out        INTEGER NOT NULL DEFAULT 0,
    capped          INTEGER NOT NULL DEFAULT 0,
    unreachable     INTEGER NOT NULL DEFAULT 0,      -- no device, not in Google Wallet
    sent            INTEGER NOT NULL DEFAULT 0,
    failed          INTEGER NOT NULL DEFAULT 0,
    google_notified INTEGER NOT NULL DEFAULT 0,
    google_silent   INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,                -- unix ms
    started_at      INTEGER,
    finished_at     INTEGER,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX campaigns_program ON campaigns(program_id, id);
CREATE INDEX campaigns_due ON campaigns(state, send_at) WHERE state IN ('scheduled', 'sending');
CREATE TABLE campaign_recipients (
    campaign_id  INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    card_id      INTEGER NOT NULL REFERENCES cards(id) ON DELETE CASCADE,
    status       TEXT    NOT NULL CHECK (status IN
                 ('sent', 'held_out', 'capped', 'unreachable', 'failed')),
    created_at   INTEGER NOT NULL,                   -- unix ms
    delivered_at INTEGER,                            -- unix ms: the device fetched the pass
    PRIMARY KEY (campaign_id, card_id)
);
CREATE INDEX campaign_recipients_card ON campaign_recipients(card_id) WHERE delivered_at IS NULL;
CREATE TABLE webhooks (
    id            INTEGER PRIMARY KEY,
    merchant_id   INTEGER NOT NULL REFERENCES merchants(id),
    url           TEXT    NOT NULL,
    secret_sealed TEXT    NOT NULL,
    events        TEXT    NOT NULL,                  -- comma-separated kinds, or '*'
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL
);
CREATE INDEX webhooks_merchant ON webhooks(merchant_id);
CREATE TABLE webhook_deliveries (
    id          INTEGER PRIMARY KEY,
    webhook_id  INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event_id    INTEGER NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_status INTEGER,
    last_error  TEXT,
    created_at  INTEGER NOT NULL,                    -- unix ms
    updated_at  INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries(webhook_id, id);
ALTER TABLE events ADD COLUMN merchant_id INTEGER;
ALTER TABLE events ADD COLUMN payload TEXT;          -- JSON for webhooks and the pull API
UPDATE events SET merchant_id = (SELECT merchant_id FROM programs WHERE id = events.program_id);
CREATE INDEX events_merchant ON events(merchant_id, id);
)sql";

// Per-day figures the outbox cannot keep (it deletes delivered rows): pushes by program,
// wallet and outcome, counted when the dispatcher settles them, in 15-minute slots so a
// day can be cut at any UTC offset; the program a queued push is for. Ledger rows the
// server granted itself (welcome, referral and birthday bonuses) are marked, so a
// campaign's redemptions count only what tills and CRMs posted. A rollout's time spent
// running (not paused, not waiting at its canary) for its rate and ETA, and which
// rollout a revert undoes (a revert cannot itself be cancelled). A campaign
// offer's header and link, for the back of the pass.
constexpr const char* kV8 = R"sql(
ALTER TABLE outbox ADD COLUMN program_id INTEGER;
CREATE TABLE push_counts (
    program_id INTEGER NOT NULL,
    slot       INTEGER NOT NULL,                     -- unix seconds / 900
    wallet     TEXT    NOT NULL,                     -- apple, google, a relay's wallet kind
    outcome    TEXT    NOT NULL,                     -- delivered, retried, failed, unregistered
    n          INTEGER NOT NULL,
    PRIMARY KEY (program_id, slot, wallet, outcome)
) WITHOUT ROWID;
ALTER TABLE transactions ADD COLUMN bonus INTEGER NOT NULL DEFAULT 0;
UPDATE transactions SET bonus = 1 WHERE note LIKE 'Referral bonus:%' OR
    note LIKE 'Welcome bonus:%' OR note = 'Birthday bonus';
ALTER TABLE rollouts ADD COLUMN active_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE rollouts ADD COLUMN running_since INTEGER;  -- unix ms, while running
ALTER TABLE rollouts ADD COLUMN reverts INTEGER;        -- a cancel's revert: the cancelled one
UPDATE rollouts SET running_since = COALESCE(started_at, created_at) WHERE state = 'running';
ALTER TABLE cards ADD COLUMN offer_header TEXT;        -- a campaign's header and link, shown
ALTER TABLE cards ADD COLUMN offer_link TEXT;          -- with the offer on the pass's back
-- The newest ledger row when the card was drawn and when its device fetched the offer:
-- a redemption is a later row (ledger times are whole seconds, too coarse to order).
ALTER TABLE campaign_recipients ADD COLUMN drawn_after_tx INTEGER NOT NULL DEFAULT 0;
ALTER TABLE campaign_recipients ADD COLUMN delivered_after_tx INTEGER NOT NULL DEFAULT 0;
UPDATE campaign_recipients SET drawn_after_tx = COALESCE((SELECT MAX(id) FROM transactions
    WHERE created_at < campaign_recipients.created_at / 1000), 0);
UPDATE campaign_recipients SET delivered_after_tx = COALESCE((SELECT MAX(id) FROM transactions
    WHERE created_at < campaign_recipients.delivered_at / 1000), 0) WHERE delivered_at IS NOT NULL;
)sql";

// Several instances on one database (PostgreSQL): an outbox claim names its instance, so
// an instance starting again releases only the claims it left, never a live peer's.
// A campaign's rate is kept in its row (cards drawn in the current minute and second), so
// instances taking turns on it keep to one rate together.
constexpr const char* kV9 = R"sql(
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE campaigns ADD COLUMN pace_minute INTEGER NOT NULL DEFAULT 0;     -- unix ms / 60000
ALTER TABLE campaigns ADD COLUMN pace_in_minute INTEGER NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN pace_second INTEGER NOT NULL DEFAULT 0;     -- unix ms / 1000
ALTER TABLE campaigns ADD COLUMN pace_in_second INTEGER NOT NULL DEFAULT 0;
)sql";

// API key rotation (issue 8): a key replaced by a new one keeps working until its expiry
// (the grace period), then no longer; NULL never expires.
constexpr const char* kV10 = R"sql(
ALTER TABLE api_keys ADD COLUMN expires_at INTEGER;                          -- unix seconds
)sql";

constexpr std::array<Migration, 10> kMigrations{{
    {1, "merchants, keys, programs, designs, cards", kV1},
    {2, "devices, registrations, events, ledger, idempotency keys, outbox, identities", kV2},
    {3, "enrollment: card source and birthday, form settings", kV3},
    {4, "verification codes, referrals, birthday grants", kV4},
    {5, "wallet apps of registrations, relay routes", kV5},
    {6, "Google Wallet objects and their notifications", kV6},
    {7, "design rollouts, campaigns, webhooks, event payloads, relay keys", kV7},
    {8, "push counts per day, bonus ledger rows, rollout running time", kV8},
    {9, "outbox claims name their instance, campaign pace in the row", kV9},
    {10, "API keys expire (rotation with a grace period)", kV10},
}};

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

}  // namespace cardsmith::storage::sqlite
