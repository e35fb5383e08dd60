#pragma once
// The Store over SQL, written once for every backend (storage/sql/connection.hpp): a small
// pool of connections, one per database thread, and the backend's migrations.
// Thread-safe: each call borrows a connection. open_store() builds it for SQLite or
// PostgreSQL.
#include <condition_variable>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "storage/sql/connection.hpp"
#include "storage/sql/migration.hpp"
#include "storage/store.hpp"

namespace cardsmith::storage::sql {

// The outbox claim (exposed so a test can check its query plan: it must look up in-flight
// rows of a token through the outbox_target index, not scan them).
extern const char* const kClaimOutboxSql;

class SqlStore final : public Store {
public:
    SqlStore(std::vector<std::unique_ptr<Connection>> pool, std::span<const Migration> migrations);

    int migrate() override;
    int schema_version() override;
    bool ping() override;

    // key_store.cpp: API keys and the server key's sealed secrets.
    std::optional<domain::Principal> find_api_key(std::string_view hash, std::int64_t now) override;
    bool has_admin_key(std::int64_t now) override;
    void add_admin_key(std::string_view hash, std::string_view prefix, std::int64_t now) override;
    ApiKeyInfo rotate_api_key(std::optional<MerchantId> owner, std::string_view hash,
                              std::string_view prefix, std::int64_t now,
                              std::int64_t others_expire_at) override;
    std::vector<ApiKeyInfo> list_api_keys(std::optional<MerchantId> owner) override;
    StoreStatus revoke_api_key(std::optional<MerchantId> owner, std::int64_t id,
                               std::int64_t now) override;
    int reseal_secrets(
        const std::function<std::optional<std::string>(const SealedSecret&)>& reseal) override;

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

    // wallet_store.cpp: web service, ledger, outbox.
    using Store::register_device;
    RegisterStatus register_device(std::string_view library_id, std::string_view push_token,
                                   std::string_view pass_type_id, const SerialNumber& serial,
                                   std::int64_t now_ms, const WalletClient& wallet,
                                   int max_devices) override;
    bool unregister_device(std::string_view library_id, std::string_view pass_type_id,
                           const SerialNumber& serial, std::int64_t now_ms) override;
    UpdatedSerials updated_serials(std::string_view library_id, std::string_view pass_type_id,
                                   std::optional<std::int64_t> since) override;
    LedgerOutcome apply_transaction(const NewTransaction& tx) override;
    std::vector<LedgerEntry> list_transactions(CardId card, int limit,
                                               std::int64_t before_id) override;
    int touch_program(ProgramId program, std::int64_t now_ms) override;
    int touch_card(CardId card, std::int64_t now_ms) override;
    std::vector<OutboxItem> claim_outbox(int limit, std::int64_t now_ms, std::int64_t lease_ms,
                                         std::string_view instance) override;
    void finish_outbox(std::int64_t id, std::int64_t claim, std::int64_t now_ms) override;
    void retry_outbox(std::int64_t id, std::int64_t claim, std::int64_t not_before_ms,
                      std::string_view error, bool dead, std::int64_t now_ms) override;
    int drop_push_token(std::string_view push_token, std::string_view topic,
                        std::int64_t unless_after_ms, std::int64_t now_ms) override;
    void settle_outbox(const std::vector<OutboxSettlement>& results, std::int64_t now_ms) override;
    int release_outbox_claims(std::int64_t now_ms, std::string_view instance) override;
    int retry_dead_outbox(std::int64_t now_ms) override;
    OutboxCounts outbox_counts() override;
    std::int64_t due_outbox(std::int64_t now_ms, std::int64_t cap) override;

    // identity_store.cpp
    Outcome<domain::Identity> save_identity(const domain::Identity& identity,
                                            bool& created) override;
    std::vector<domain::Identity> list_identities(std::optional<MerchantId> merchant) override;
    std::optional<domain::Identity> find_identity(IdentityId id) override;
    StoreStatus set_identity_relay_keys(IdentityId id, std::string_view sealed,
                                        std::int64_t now) override;
    StoreStatus set_program_identity(ProgramId program,
                                     std::optional<IdentityId> identity) override;
    StoreStatus set_program_enrollment(ProgramId program, std::string_view json) override;

    // enrollment_store.cpp
    std::optional<domain::Card> find_card_by_contact(ProgramId program, ContactKind kind,
                                                     std::string_view value) override;
    std::optional<domain::Card> find_card_by_referral(ProgramId program,
                                                      std::string_view code) override;
    VerificationStart start_verification(const NewVerification& v,
                                         const SendLimits& limits) override;
    std::optional<PendingVerification> find_verification(std::string_view id) override;
    CodeCheckOutcome check_code(std::string_view id, ProgramId program, std::string_view code_hash,
                                int max_attempts, std::int64_t now_ms) override;
    std::vector<domain::Program> list_programs() override;
    int grant_birthdays(const BirthdayGrant& grant) override;
    ProgramStats program_stats(ProgramId program) override;
    std::vector<DailyStats> daily_stats(ProgramId program, std::int64_t since,
                                        std::int64_t offset_seconds) override;
    std::vector<domain::Card> search_cards(ProgramId program, std::string_view query,
                                           int limit) override;
    bool mark_google_saved(CardId card, std::int64_t now_ms) override;
    bool take_google_notice(CardId card, std::int64_t now_ms) override;
    bool record_google_callback(CardId card, std::string_view kind, std::string_view nonce,
                                std::int64_t now_ms) override;
    std::int64_t add_design_version(const NewDesignVersion& version) override;
    std::vector<DesignVersion> list_design_versions(ProgramId program) override;
    std::optional<DesignVersion> find_design_version(ProgramId program,
                                                     std::int64_t version) override;
    bool load_design_version(domain::Program& program, std::int64_t version) override;
    Rollout start_rollout(ProgramId program, std::int64_t version, int canary_percent,
                          std::int64_t now_ms) override;
    std::optional<Rollout> rollout_step(std::int64_t rollout, int max_cards,
                                        std::int64_t now_ms) override;
    RolloutChange control_rollout(std::int64_t rollout, RolloutAction action,
                                  std::int64_t now_ms) override;
    std::optional<Rollout> find_rollout(std::int64_t rollout) override;
    std::vector<Rollout> list_rollouts(ProgramId program, int limit) override;
    std::vector<std::int64_t> running_rollouts() override;
    std::int64_t create_campaign(const NewCampaign& campaign) override;
    std::optional<Campaign> find_campaign(std::int64_t id) override;
    std::vector<Campaign> list_campaigns(ProgramId program, int limit) override;
    std::vector<std::int64_t> due_campaigns(std::int64_t now_ms) override;
    std::int64_t count_segment(ProgramId program, const SegmentFilter& filter) override;
    std::optional<Campaign> campaign_step(std::int64_t id, const SegmentFilter& filter,
                                          const CampaignStep& step) override;
    bool cancel_campaign(std::int64_t id, std::int64_t now_ms) override;
    CampaignResults campaign_results(std::int64_t id, std::int64_t window_seconds) override;
    void mark_delivered(CardId card, std::int64_t now_ms) override;
    void record_google_message(std::int64_t campaign, CardId card, bool ok, bool notified,
                               std::int64_t now_ms) override;
    int expire_offers(std::int64_t now_ms, int limit) override;
    StoreStatus set_program_time_zone(ProgramId program, std::string_view zone) override;
    std::int64_t create_webhook(MerchantId merchant, std::string_view url,
                                std::string_view secret_sealed, std::string_view events,
                                std::int64_t now_ms) override;
    std::vector<Webhook> list_webhooks(MerchantId merchant) override;
    std::optional<Webhook> find_webhook(std::int64_t id) override;
    bool delete_webhook(std::int64_t id) override;
    std::vector<WebhookDelivery> list_deliveries(std::int64_t webhook, int limit) override;
    std::optional<PendingDelivery> find_delivery(std::int64_t id) override;
    void record_delivery_attempt(std::int64_t id, int status, std::string_view error,
                                 std::string_view state, std::int64_t now_ms) override;
    std::vector<EventRecord> list_events(MerchantId merchant, std::int64_t after,
                                         int limit) override;

    // ops_store.cpp
    std::vector<OutboxGroup> outbox_groups(std::int64_t now_ms) override;
    std::vector<DeadOutboxRow> dead_outbox(int limit) override;

private:
    // A rollout of `version` inside the caller's transaction (start_rollout, cancel).
    Rollout begin_rollout(Connection& c, ProgramId program, std::int64_t version,
                          int canary_percent, std::int64_t now_ms);
    // The ledger inside the caller's transaction (apply_transaction, referrals, birthdays).
    LedgerOutcome apply_ledger(Connection& c, const NewTransaction& t);
    // Credits the referral bonuses of a new card inside create_card's transaction.
    bool apply_referral(Connection& c, std::int64_t card_id, const NewCard& card);
    static bool count_new_card(Connection& c, ProgramId program, std::int64_t max_cards);
    // Bumps a card's update tag and modified time, and queues one push per registered
    // device; inside the caller's transaction. Returns the pushes queued.
    int bump_and_enqueue(Connection& c, std::int64_t card_id, std::int64_t now_ms,
                         bool google_object = true);
    static int drop_token_rows(Connection& c, std::string_view push_token, std::string_view topic,
                               std::int64_t unless_after_ms, std::int64_t now_ms,
                               std::string_view wallet = {});

    // A borrowed connection, returned to the pool when it goes out of scope.
    class Lease {
    public:
        Lease(SqlStore& s, std::unique_ptr<Connection> c) : store_(s), conn_(std::move(c)) {}
        ~Lease();
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        Connection& operator*() { return *conn_; }
        Connection* operator->() { return conn_.get(); }

    private:
        SqlStore& store_;
        std::unique_ptr<Connection> conn_;
    };
    Lease lease();
    std::optional<domain::Program> read_program(Statement& st, Connection& c);

    std::span<const Migration> migrations_;
    std::mutex mutex_;
    std::condition_variable available_;
    std::vector<std::unique_ptr<Connection>> idle_;
};

}  // namespace cardsmith::storage::sql
