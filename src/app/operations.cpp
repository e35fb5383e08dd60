#include "app/operations.hpp"

#include <chrono>
#include <filesystem>

#include "app/app.hpp"
#include "common/time_format.hpp"
#include "crypto/crypto_error.hpp"
#include "crypto/pem.hpp"
#include "storage/postgres/migrations.hpp"
#include "storage/sqlite/migrations.hpp"

namespace cardsmith::app {
namespace {

bool is_sqlite(const std::string& url) { return url.rfind("sqlite:", 0) == 0; }

int latest_schema_version(const std::string& url) {
    const auto migrations =
        is_sqlite(url) ? storage::sqlite::migrations() : storage::postgres::migrations();
    return migrations.empty() ? 0 : migrations.back().version;
}

std::int64_t days_until(std::int64_t unix_s, std::int64_t now_s) {
    const std::int64_t left = unix_s - now_s;
    // Whole days, rounded down (an expired certificate is at least "-1").
    return left >= 0 ? left / 86400 : -((-left + 86399) / 86400);
}

}  // namespace

std::unique_ptr<storage::Store> open_for_operations(const config::Config& cfg) {
    const auto& url = cfg.storage.url;
    if (is_sqlite(url)) {
        const std::string path = url.substr(7);
        std::error_code ec;
        if (!std::filesystem::is_regular_file(path, ec)) {
            throw storage::StorageError(path + ": no database there (check storage.url)");
        }
    }
    // One connection: these commands make a few queries one after the other.
    auto store = storage::open_store(url, 1, static_cast<int>(cfg.storage.busy_timeout.count()));
    const int version = store->schema_version();
    const int latest = latest_schema_version(url);
    if (version < latest) {
        throw storage::StorageError("the schema is at version " + std::to_string(version) +
                                    ", this cardsmith needs " + std::to_string(latest) +
                                    ": run cardsmith migrate first");
    }
    return store;
}

OutboxStatus outbox_status(const config::Config& cfg, int dead_limit) {
    auto store = open_for_operations(cfg);
    OutboxStatus out;
    out.now_ms = now_unix_millis();
    out.groups = store->outbox_groups(out.now_ms);
    out.dead = store->dead_outbox(dead_limit);
    return out;
}

int retry_dead_outbox(const config::Config& cfg) {
    auto store = open_for_operations(cfg);
    return store->retry_dead_outbox(now_unix_millis());
}

std::vector<IdentityRow> list_identities(const config::Config& cfg) {
    const auto now_s = unix_seconds(std::chrono::system_clock::now());
    std::vector<IdentityRow> rows;
    IdentityRow own;
    own.pass_type_id = cfg.apple.pass_type_id;
    own.team_id = cfg.apple.team_id;
    try {
        auto cert = crypto::load_certificate_file(cfg.apple.cert);
        own.not_after = unix_seconds(crypto::inspect_certificate(cert.get()).not_after);
    } catch (const crypto::CryptoError& e) {
        throw StartupError(std::string("apple.cert: ") + e.what());
    }
    own.days_left = days_until(own.not_after, now_s);
    rows.push_back(std::move(own));

    auto store = open_for_operations(cfg);
    for (const auto& identity : store->list_identities(std::nullopt)) {
        IdentityRow row;
        row.pass_type_id = identity.pass_type_id;
        row.team_id = identity.team_id;
        row.merchant_id = identity.merchant.value();
        if (auto merchant = store->find_merchant(identity.merchant)) {
            row.merchant_name = merchant->name;
        }
        row.not_after = identity.not_after;
        row.days_left = days_until(identity.not_after, now_s);
        rows.push_back(std::move(row));
    }
    return rows;
}

storage::sqlite::BackupResult backup(const config::Config& cfg, const std::string& out) {
    const auto& url = cfg.storage.url;
    if (!is_sqlite(url)) {
        throw BackupUnsupported(
            "backup copies SQLite databases only; storage.url is PostgreSQL: use pg_dump "
            "(pg_dump --format=custom --file=cardsmith.dump \"$URL\"), docs/deploy.md");
    }
    return storage::sqlite::backup_database(url.substr(7), out,
                                            static_cast<int>(cfg.storage.busy_timeout.count()));
}

}  // namespace cardsmith::app
