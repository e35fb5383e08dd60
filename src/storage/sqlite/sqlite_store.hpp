#pragma once
// The SQLite backend (WAL, busy timeout, foreign keys on): a Store over a small pool of
// connections, one per database thread. Thread-safe: each call borrows a connection.
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "storage/sqlite/sqlite_handle.hpp"
#include "storage/store.hpp"

namespace cardsmith::storage::sqlite {

class SqliteStore final : public Store {
public:
    SqliteStore(const std::string& path, unsigned connections, int busy_timeout_ms);

    int migrate() override;
    int schema_version() override;
    bool ping() override;

    std::optional<domain::Principal> find_api_key(std::string_view hash) override;
    bool has_admin_key() override;
    void add_admin_key(std::string_view hash, std::string_view prefix, std::int64_t now) override;

    domain::Merchant create_merchant(std::string_view name, std::string_view key_hash,
                                     std::string_view key_prefix, std::int64_t now) override;
    std::optional<domain::Merchant> find_merchant(MerchantId id) override;

    Outcome<domain::Program> create_program(const NewProgram& program) override;
    std::optional<domain::Program> find_program(std::string_view slug) override;
    std::optional<domain::Program> find_program(ProgramId id) override;
    std::map<std::string, std::string> design_images(ProgramId program,
                                                     std::int64_t version) override;

    Outcome<domain::Card> create_card(const NewCard& card) override;
    std::optional<domain::Card> find_card(const CardNumber& number) override;
    std::optional<domain::Card> find_card(const SerialNumber& serial) override;
    std::int64_t count_cards(ProgramId program) override;

private:
    // A borrowed connection, returned to the pool when it goes out of scope.
    class Lease {
    public:
        Lease(SqliteStore& s, std::unique_ptr<Connection> c) : store_(s), conn_(std::move(c)) {}
        ~Lease();
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        Connection& operator*() { return *conn_; }
        Connection* operator->() { return conn_.get(); }

    private:
        SqliteStore& store_;
        std::unique_ptr<Connection> conn_;
    };
    Lease lease();
    std::optional<domain::Program> read_program(Statement& st, Connection& c);

    std::mutex mutex_;
    std::condition_variable available_;
    std::vector<std::unique_ptr<Connection>> idle_;
};

}  // namespace cardsmith::storage::sqlite
