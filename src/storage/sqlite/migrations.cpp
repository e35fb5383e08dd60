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

constexpr std::array<Migration, 1> kMigrations{{
    {1, "merchants, keys, programs, designs, cards", kV1},
}};

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

}  // namespace cardsmith::storage::sqlite
