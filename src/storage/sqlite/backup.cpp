#include "storage/sqlite/backup.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "storage/store.hpp"

namespace cardsmith::storage::sqlite {
namespace {

struct CloseDb {
    void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using DbPtr = std::unique_ptr<sqlite3, CloseDb>;

struct FinishBackup {
    void operator()(sqlite3_backup* b) const noexcept { sqlite3_backup_finish(b); }
};
using BackupPtr = std::unique_ptr<sqlite3_backup, FinishBackup>;

DbPtr open_db(const std::string& path, int flags, int busy_timeout_ms) {
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
    DbPtr db(raw);
    if (rc != SQLITE_OK) {
        throw StorageError(path + ": " +
                           (raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
    }
    sqlite3_extended_result_codes(raw, 1);
    sqlite3_busy_timeout(raw, busy_timeout_ms);
    return db;
}

// The first column of the first row of `sql` as text.
std::string first_text(sqlite3* db, const char* sql, const std::string& path) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &raw, nullptr) != SQLITE_OK) {
        throw StorageError(path + ": " + sqlite3_errmsg(db));
    }
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> st(raw, &sqlite3_finalize);
    const int rc = sqlite3_step(raw);
    if (rc != SQLITE_ROW) {
        throw StorageError(path + ": " + sqlite3_errmsg(db));
    }
    const auto* text = sqlite3_column_text(raw, 0);
    return text != nullptr ? reinterpret_cast<const char*>(text) : "";
}

// The target file, made exclusively (0600: it holds keys' hashes, sealed keys and
// customers' contacts); removed again unless the copy completed.
class NewFile {
public:
    explicit NewFile(std::string path) : path_(std::move(path)) {
        const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
            const int err = errno;
            throw StorageError(path_ + ": " +
                               (err == EEXIST ? std::string("exists already; a backup never "
                                                            "overwrites a file")
                                              : std::strerror(err)));
        }
        ::close(fd);
    }
    NewFile(const NewFile&) = delete;
    NewFile& operator=(const NewFile&) = delete;
    ~NewFile() {
        if (!kept_) {
            std::error_code ec;
            std::filesystem::remove(path_, ec);
            std::filesystem::remove(path_ + "-journal", ec);
        }
    }
    void keep() { kept_ = true; }

private:
    std::string path_;
    bool kept_ = false;
};

}  // namespace

BackupResult backup_database(const std::string& source_path, const std::string& target_path,
                             int busy_timeout_ms) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(source_path, ec)) {
        throw StorageError(source_path + ": no SQLite database there");
    }
    // The source is opened without SQLITE_OPEN_CREATE: a wrong path never makes a database.
    auto source = open_db(source_path, SQLITE_OPEN_READWRITE, busy_timeout_ms);
    NewFile file(target_path);
    auto target = open_db(target_path, SQLITE_OPEN_READWRITE, busy_timeout_ms);
    BackupResult result;
    {
        BackupPtr backup(sqlite3_backup_init(target.get(), "main", source.get(), "main"));
        if (!backup) {
            throw StorageError(target_path + ": " + sqlite3_errmsg(target.get()));
        }
        // Every page in one step: one read transaction, so the copy is one consistent
        // snapshot; in WAL mode the server's writers go on meanwhile.
        const auto deadline =
            std::chrono::steady_clock::now() + std::chrono::milliseconds(busy_timeout_ms);
        for (;;) {
            const int rc = sqlite3_backup_step(backup.get(), -1);
            if (rc == SQLITE_DONE) {
                break;
            }
            const int primary = rc & 0xFF;
            if ((primary == SQLITE_BUSY || primary == SQLITE_LOCKED) &&
                std::chrono::steady_clock::now() < deadline) {
                sqlite3_sleep(50);
                continue;
            }
            if (rc != SQLITE_OK) {
                throw StorageError(source_path + ": backup failed: " + sqlite3_errstr(rc));
            }
        }
        result.pages = sqlite3_backup_pagecount(backup.get());
        const int finished = sqlite3_backup_finish(backup.release());
        if (finished != SQLITE_OK) {
            throw StorageError(target_path + ": " + sqlite3_errstr(finished));
        }
    }
    // One self-contained file, then proof that it reads back.
    (void)first_text(target.get(), "PRAGMA journal_mode=DELETE", target_path);
    const auto check = first_text(target.get(), "PRAGMA quick_check", target_path);
    if (check != "ok") {
        throw StorageError(target_path + ": the copy fails its check: " + check);
    }
    target.reset();
    result.bytes = static_cast<std::int64_t>(std::filesystem::file_size(target_path, ec));
    file.keep();
    return result;
}

}  // namespace cardsmith::storage::sqlite
