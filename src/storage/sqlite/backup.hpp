#pragma once
// `cardsmith backup` for the SQLite store: SQLite's online backup API copies the database
// into a new file while the server keeps running (a WAL reader's consistent snapshot; the
// server's writes are not blocked). The copy is a self-contained file (rollback journal,
// no -wal/-shm), readable by the owner only, checked with PRAGMA quick_check.
#include <cstdint>
#include <string>

namespace cardsmith::storage::sqlite {

struct BackupResult {
    std::int64_t pages = 0;
    std::int64_t bytes = 0;
};

// Copies the database at `source_path` to `target_path`, which must not exist (it is
// created exclusively and never overwritten). Waits up to `busy_timeout_ms` for locks.
// Throws StorageError naming the file at fault; a failed copy leaves no file behind.
[[nodiscard]] BackupResult backup_database(const std::string& source_path,
                                           const std::string& target_path, int busy_timeout_ms);

}  // namespace cardsmith::storage::sqlite
