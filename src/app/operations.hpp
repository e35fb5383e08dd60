#pragma once
// The work behind the operator's subcommands (`cardsmith outbox status|retry-dead`,
// `cardsmith identity list`, `cardsmith backup`; docs/operations.md): each opens the
// configured database for itself, next to a running server, without migrating it or
// creating it. The CLI formats what these return.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "storage/sqlite/backup.hpp"
#include "storage/store.hpp"

namespace cardsmith::app {

// Opens the database of `storage.url` for an operator's command: no migration, and a
// SQLite file that does not exist is an error, not a new database. Throws
// storage::StorageError, also when the schema is older than this binary's (the message
// says to run `cardsmith migrate`).
[[nodiscard]] std::unique_ptr<storage::Store> open_for_operations(const config::Config& cfg);

struct OutboxStatus {
    std::int64_t now_ms = 0;
    std::vector<storage::OutboxGroup> groups;
    std::vector<storage::DeadOutboxRow> dead;  // the newest ones
};
[[nodiscard]] OutboxStatus outbox_status(const config::Config& cfg, int dead_limit);

// Dead outbox rows back to pending (a running server sends them at its next poll); how many.
[[nodiscard]] int retry_dead_outbox(const config::Config& cfg);

struct IdentityRow {
    std::string pass_type_id;
    std::string team_id;
    std::optional<std::int64_t> merchant_id;  // none: the server's default (apple.* keys)
    std::string merchant_name;
    std::int64_t not_after = 0;  // unix seconds
    std::int64_t days_left = 0;  // whole days from now (negative: expired)
};
// The server's default identity (from apple.cert; throws StartupError naming the key when
// the file cannot be read) first, then every merchant identity in the database.
[[nodiscard]] std::vector<IdentityRow> list_identities(const config::Config& cfg);

// `storage.url` is not SQLite: back PostgreSQL up with pg_dump.
class BackupUnsupported : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};
// Copies the SQLite database to `out` (storage/sqlite/backup.hpp). Throws BackupUnsupported
// on PostgreSQL, storage::StorageError otherwise.
[[nodiscard]] storage::sqlite::BackupResult backup(const config::Config& cfg,
                                                   const std::string& out);

// `cardsmith secret-key rotate` (secret_rotation.cpp; docs/operations.md): a new server key
// for server.secret_key_file, every secret sealed in the database re-sealed with it in one
// transaction, the replaced key kept in `<file>.old`.
struct SecretKeyRotation {
    std::string old_key_id;  // SecretBox::key_id() of the replaced and the new key
    std::string new_key_id;
    int caught_up = 0;  // values still sealed with the key before the replaced one
    int resealed = 0;   // values re-sealed with the new key
};
// A sealed value opens with none of the keys: nothing was rotated (or, after the files were
// replaced, the database kept its values; running the command again finishes).
class RotationError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};
// Throws StartupError naming server.secret_key_file for a missing, open or malformed key
// file, RotationError, or storage::StorageError.
[[nodiscard]] SecretKeyRotation rotate_secret_key(const config::Config& cfg);

}  // namespace cardsmith::app
