#include "storage/sqlite/sqlite_store.hpp"
#include "storage/store.hpp"

namespace cardsmith::storage {

std::unique_ptr<Store> open_store(const std::string& url, unsigned connections,
                                  int busy_timeout_ms) {
    if (url.rfind("sqlite:", 0) == 0) {
        std::string path = url.substr(7);
        if (path.empty()) {
            throw StorageError("storage.url: sqlite: needs a file path");
        }
        return std::make_unique<sqlite::SqliteStore>(path, connections, busy_timeout_ms);
    }
    throw StorageError("storage.url: the PostgreSQL backend is not available in this build yet");
}

}  // namespace cardsmith::storage
