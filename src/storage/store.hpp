#pragma once
// The storage interface (STYLE.md "storage"): everything the handlers and services need
// from the database, shaped so that a PostgreSQL backend can sit beside SQLite without
// touching them. Methods are synchronous and thread-safe; they block, so they run only on
// the database pool (see Database), never on an I/O thread.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ids.hpp"
#include "domain/models.hpp"

namespace cardsmith::storage {

// Failures a caller is expected to handle; anything else throws StorageError.
enum class StoreStatus {
    ok = 0,
    conflict,   // a unique value (slug, card number, serial) is taken
    not_found,  // the row the call depends on does not exist
};

class StorageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// An image with its content hash (SHA-256 hex, computed by the caller), stored once per
// content however many design versions use it.
struct StoredImage {
    std::string sha256;
    std::string bytes;
};

struct NewProgram {
    MerchantId merchant;
    std::string slug;
    std::string name;
    std::string template_name;
    std::string design_json;                    // validated design
    std::map<std::string, StoredImage> images;  // name ("icon@2x") → PNG
    std::int64_t now = 0;
};

struct NewCard {
    ProgramId program;
    CardNumber number;
    SerialNumber serial;
    AuthToken auth_token;
    domain::Holder holder;
    std::int64_t balance = 0;
    std::int64_t now = 0;
};

template <typename T>
struct Outcome {
    StoreStatus status = StoreStatus::ok;
    std::optional<T> value;
};

class Store {
public:
    virtual ~Store() = default;

    // Schema.
    virtual int migrate() = 0;  // applies pending migrations; returns the version reached
    [[nodiscard]] virtual int schema_version() = 0;
    [[nodiscard]] virtual bool ping() = 0;

    // API keys (stored as SHA-256 hex of the key, never the key).
    [[nodiscard]] virtual std::optional<domain::Principal> find_api_key(std::string_view hash) = 0;
    [[nodiscard]] virtual bool has_admin_key() = 0;
    virtual void add_admin_key(std::string_view hash, std::string_view prefix,
                               std::int64_t now) = 0;

    // Merchants, created together with their first API key.
    virtual domain::Merchant create_merchant(std::string_view name, std::string_view key_hash,
                                             std::string_view key_prefix, std::int64_t now) = 0;
    [[nodiscard]] virtual std::optional<domain::Merchant> find_merchant(MerchantId id) = 0;

    // Programs and their design versions.
    virtual Outcome<domain::Program> create_program(const NewProgram& program) = 0;
    [[nodiscard]] virtual std::optional<domain::Program> find_program(std::string_view slug) = 0;
    [[nodiscard]] virtual std::optional<domain::Program> find_program(ProgramId id) = 0;
    [[nodiscard]] virtual std::map<std::string, std::string> design_images(
        ProgramId program, std::int64_t version) = 0;

    // Cards. create_card answers conflict when the number or serial is taken.
    virtual Outcome<domain::Card> create_card(const NewCard& card) = 0;
    [[nodiscard]] virtual std::optional<domain::Card> find_card(const CardNumber& number) = 0;
    [[nodiscard]] virtual std::optional<domain::Card> find_card(const SerialNumber& serial) = 0;
    [[nodiscard]] virtual std::int64_t count_cards(ProgramId program) = 0;
};

// Opens the backend named by `url` ("sqlite:PATH"). `connections` is the number of
// threads that will call it concurrently. Throws StorageError.
[[nodiscard]] std::unique_ptr<Store> open_store(const std::string& url, unsigned connections,
                                                int busy_timeout_ms);

}  // namespace cardsmith::storage
