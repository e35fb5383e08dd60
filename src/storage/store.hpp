#pragma once
// The storage interface (STYLE.md "storage"): everything the handlers and services need
// from the database, shaped so that a PostgreSQL backend can sit beside SQLite without
// touching them. Methods are synchronous and thread-safe; they block, so they run only on
// the database pool (see Database), never on an I/O thread.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/ids.hpp"
#include "domain/models.hpp"

namespace cardsmith::storage {

// Failures a caller is expected to handle; anything else throws StorageError.
enum class StoreStatus {
    ok = 0,
    conflict,       // a unique value (slug, card number, serial) is taken
    not_found,      // the row the call depends on does not exist
    limit_reached,  // a configured maximum (limits.max_cards_per_program) is reached
};

class StorageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The database aborted the transaction to break a deadlock or a serialization conflict
// with another one (PostgreSQL SQLSTATE 40P01, 40001); running it again is the cure.
// Callers that do not retry see a StorageError.
class TransientConflict : public StorageError {
public:
    using StorageError::StorageError;
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
    std::optional<IdentityId> identity;  // the merchant's own Apple identity
    std::string time_zone = "UTC";       // IANA name
};

// A new card that came through another card's invite link (/join?ref=): both cards get
// their bonus through the ledger, in the card's own transaction, once per person.
struct NewReferral {
    std::string code;    // the referrer card's referral code
    std::string person;  // the new holder's phone or email: bonuses once per person
    std::int64_t referrer_bonus = 0;
    std::int64_t friend_bonus = 0;
    MerchantId merchant;  // scope of the ledger rows' idempotency keys
};

struct NewCard {
    ProgramId program;
    CardNumber number;
    SerialNumber serial;
    AuthToken auth_token;
    domain::Holder holder;
    std::int64_t balance = 0;
    std::int64_t now = 0;
    std::string source = "api";  // enrollment channel
    std::string birthday;        // YYYY-MM-DD or empty
    std::string referral_code;   // this card's own invite code, unique in the program
    bool verified = false;       // the holder proved the phone or email by a code
    std::optional<NewReferral> referral;
    std::int64_t max_cards = 0;  // the program's card limit (0: none): limit_reached beyond
};

enum class ContactKind { phone, email };

// A one-time code sent to a phone or email, with the join form waiting for it.
struct NewVerification {
    std::string id;  // random; the verify form's "pending"
    ProgramId program;
    std::string channel;      // "phone" or "email"
    std::string destination;  // normalised phone or email
    std::string code_hash;    // HMAC of id and code: the code itself is never stored
    std::string form_json;    // the join form's values, src and ref
    std::string ip;           // the client that asked
    std::int64_t now_ms = 0;
    std::int64_t expires_at_ms = 0;
    std::string replaces;  // a resend: the verification it replaces (ends it)
};

// Codes sent per destination and per client address in a sliding window.
struct SendLimits {
    int per_destination = 5;
    int per_ip = 20;
    std::int64_t window_ms = 3'600'000;
};

struct VerificationStart {
    enum class Status { started, limited, gone };
    Status status = Status::started;
    std::int64_t retry_after_ms = 0;  // limited: when the oldest send leaves the window
};

struct PendingVerification {
    std::string id;
    ProgramId program;
    std::string channel, destination, form_json, state;  // pending, used, replaced
    int attempts = 0;
    std::int64_t expires_at_ms = 0;
    std::int64_t created_at_ms = 0;
};

struct CodeCheckOutcome {
    enum class Status { ok, wrong, expired, too_many, gone };
    Status status = Status::gone;
    int attempts_left = 0;
    std::optional<PendingVerification> verification;  // ok: the form it held
};

// The daily birthday job: cards of `program` whose birthday falls on one of `month_days`
// ("MM-DD") and that had no birthday grant in `year` yet.
struct BirthdayGrant {
    ProgramId program;
    MerchantId merchant;
    std::vector<std::string> month_days;
    int year = 0;
    std::int64_t bonus = 0;  // through the ledger when > 0
    std::string offer;       // the card's offer text when not empty
    std::string note;        // the ledger row's note
    std::int64_t now_ms = 0;
    int limit = 1000;  // cards per call (one transaction)
};

// One day of a program's activity (issue 6's charts); days in the caller's offset.
struct DailyStats {
    std::int64_t day = 0;  // days since 1970-01-01 (local)
    std::map<std::string, std::int64_t> cards_by_source, installs, removals;  // by wallet
    std::int64_t transactions = 0, points_earned = 0, points_redeemed = 0;
    // Pushes settled that day: outcome (delivered, retried, failed, unregistered) → wallet → n.
    std::map<std::string, std::map<std::string, std::int64_t>> pushes;
};

struct ProgramStats {
    std::int64_t cards = 0, verified_cards = 0, referrals = 0;
    std::map<std::string, std::int64_t> cards_by_source;
    std::int64_t passes_installed = 0, passes_removed = 0, devices = 0;
    std::int64_t transactions = 0, points_earned = 0, points_redeemed = 0;
};

// One row of the points ledger.
struct LedgerEntry {
    std::int64_t id = 0;
    std::int64_t points = 0;  // signed
    std::optional<std::int64_t> amount;
    std::string note;
    std::int64_t balance_after = 0;
    std::int64_t created_at = 0;
};

struct NewTransaction {
    CardId card;
    MerchantId merchant;          // scope of the idempotency key
    std::string idempotency_key;  // empty: none
    std::string request_hash;     // SHA-256 of the request, to tell a replay from a reuse
    std::int64_t points = 0;
    std::optional<std::int64_t> amount;
    std::string note;
    std::int64_t now_ms = 0;
    bool bonus = false;  // granted by the server (welcome, referral, birthday), not a till's
};

enum class LedgerStatus {
    applied,       // new ledger row
    replayed,      // same idempotency key and body: the stored transaction, nothing changed
    key_reused,    // same key, different body
    insufficient,  // the balance would go below zero
    overflow,      // the balance would leave the 0..10^15 range
    not_found,     // no such card
};

struct LedgerOutcome {
    LedgerStatus status = LedgerStatus::not_found;
    std::optional<domain::Card> card;  // after the transaction (applied/replayed)
    std::optional<LedgerEntry> entry;
    int pushes = 0;  // outbox rows written or coalesced
};

enum class RegisterStatus {
    created,
    updated,
    not_found,
    too_many_devices,  // a new device for a pass already on max_devices
                       // (limits.max_devices_per_pass)
};

// Which wallet app registered (android-wallets.md §8.1) and what its push needs.
struct WalletClient {
    std::string kind = "apple";    // apple, walletunion_fcm, walletunion_hms, walletpasses,
                                   // pass2u, passwallet, passworks, unknown
    std::string push_service_url;  // PassWallet: where its pushes go (allowlisted)
    std::string user_agent;        // for support
};

struct UpdatedSerials {
    std::vector<std::string> serials;
    std::int64_t last_updated = 0;  // newest update tag among them
};

struct OutboxItem {
    std::int64_t id = 0;
    std::string kind;                 // "apns", or a relay's wallet kind ("walletunion_fcm"...)
    std::string target;               // push token
    std::string topic;                // pass type id
    std::string route;                // PassWallet: the registration's push service URL
    int attempts = 0;                 // before this one
    std::int64_t lease_until_ms = 0;  // the claim: settling needs it to match
    std::int64_t created_at_ms = 0;
    std::int64_t program_id = 0;  // the program whose change queued it (0: none)
};

// What became of one claimed outbox row, written back in batches by the dispatcher.
struct OutboxSettlement {
    enum class Kind {
        done,        // delivered: the row is deleted
        retry,       // back to pending at not_before_ms; counts an attempt
        defer,       // back to pending at not_before_ms; not an attempt (identity paused)
        dead,        // gave up: kept as 'dead' with the error
        drop_token,  // the token is gone: drop it (unless re-registered after
                     // unless_after_ms), the row is done
    };
    std::int64_t id = 0;
    std::int64_t lease_until_ms = 0;  // from the claim; a row claimed again since is left alone
    Kind kind = Kind::done;
    std::int64_t not_before_ms = 0;
    std::string error;
    std::string token;  // drop_token: the token and its topic
    std::string topic;
    std::int64_t unless_after_ms = 0;
    std::string wallet;  // drop_token: the registrations' wallet ("apple", "walletunion_fcm"...)
    // The per-day push counts: the row's program and wallet ("apple", "google", a relay's
    // kind); program 0 or an empty wallet (webhooks) is not counted.
    std::int64_t program_id = 0;
    std::string counted_wallet;
};

struct OutboxCounts {
    std::int64_t pending = 0, sending = 0, done = 0, dead = 0;
    std::int64_t oldest_pending_ms = 0;  // created_at of the oldest pending row, 0 if none
};

// A design version of a program (issue 6): immutable once made.
struct DesignVersion {
    std::int64_t version = 0;
    std::string design_json;
    std::string note;
    std::vector<std::string> images;  // names ("icon@2x")
    std::int64_t created_at = 0;      // unix seconds
    std::int64_t published_at = 0;    // unix ms of the last publication, 0 if never
};

// A new version: the base version's images with `images` added or replaced.
struct NewDesignVersion {
    ProgramId program;
    std::int64_t base_version = 0;
    std::string design_json;
    std::map<std::string, StoredImage> images;
    std::string note;
    std::int64_t now_ms = 0;
};

// Publishing a design version: every card of the program is moved to it and its devices
// pushed, a chunk of cards per transaction, resumable from `cursor` after a crash.
struct Rollout {
    std::int64_t id = 0;
    ProgramId program;
    std::int64_t version = 0, from_version = 0;
    std::string state;  // running, paused, canary (waiting for confirmation), cancelled,
                        // superseded (a newer publication took over), done
    int canary_percent = 0;
    std::int64_t canary_devices = 0;  // pushes before it stops for confirmation
    std::int64_t confirmed_at = 0;
    std::int64_t last_card_id = 0, cursor = 0;
    std::int64_t cards_total = 0, cards_done = 0, devices_total = 0, pushes_queued = 0;
    std::int64_t created_at = 0, started_at = 0, updated_at = 0, finished_at = 0;  // unix ms
    std::int64_t active_ms = 0;      // time spent running before running_since
    std::int64_t running_since = 0;  // unix ms while running, else 0
    std::int64_t reverts = 0;        // a cancel's revert: the rollout it undoes
};

enum class RolloutAction { pause, resume, confirm, cancel };

struct RolloutChange {
    StoreStatus status = StoreStatus::ok;  // not_found; conflict: not allowed in its state
    std::optional<Rollout> rollout;
    std::optional<Rollout> revert;  // cancel: the rollout that brings cards back
};

// Which cards a campaign reaches, resolved for the database (domain::Segment → values).
struct SegmentFilter {
    std::optional<std::int64_t> balance_min, balance_max;
    std::optional<std::int64_t> created_from, created_before;  // unix seconds
    std::optional<std::int64_t> no_transaction_since;          // unix seconds
    std::string channels_json;         // JSON array of enrollment channels; empty: any
    std::string cards_json;            // JSON array of card numbers; empty: any
    std::string lifetime_ranges_json;  // JSON array of [lo, hi) pairs (tiers); empty: any
};

struct NewCampaign {
    ProgramId program;
    std::string message, header, link;
    std::string segment_json, options_json;
    std::int64_t send_at_ms = 0, expires_at_ms = 0, now_ms = 0;
};

struct Campaign {
    std::int64_t id = 0;
    ProgramId program;
    std::string message, header, link, segment_json, options_json;
    std::string state;                         // scheduled, sending, cancelled, done
    std::int64_t send_at = 0, expires_at = 0;  // unix ms
    std::int64_t cursor = 0, last_card_id = 0;
    std::int64_t targeted = 0, held_out = 0, capped = 0, unreachable = 0, sent = 0, failed = 0;
    std::int64_t google_notified = 0, google_silent = 0;
    std::int64_t created_at = 0, started_at = 0, finished_at = 0;  // unix ms
};

// What happened after the sending: counted on read.
struct CampaignResults {
    std::int64_t delivered = 0;  // recipients whose device fetched the pass (or Google)
    // A redemption is a ledger row a till or CRM posted (not a bonus the server granted)
    // within the window. Delivered cards count from their delivery; for the comparison with
    // the holdout, offered (not held-out) and held-out cards both count from when the
    // campaign drew them, so neither group's window starts later.
    std::int64_t redeemed = 0;           // delivered cards with one after delivery
    std::int64_t offered = 0;            // drawn into the offered group (not held out)
    std::int64_t offered_redeemed = 0;   // of them, with one after the draw
    std::int64_t held_out_redeemed = 0;  // held-out cards with one after the draw
};

struct CampaignStep {
    int limit = 500;  // cards per transaction
    // Cards a minute (0: no limit), spread as a share per second rounded up; counted in the
    // campaign's row, so every instance stepping it keeps to the one rate.
    std::int64_t rate_per_minute = 0;
    std::int64_t holdout_percent = 0;
    std::int64_t cap_ms = 0;  // frequency cap
    std::int64_t now_ms = 0;
};

// Webhooks to a merchant's CRM (issue 6).
struct Webhook {
    std::int64_t id = 0;
    MerchantId merchant;
    std::string url;
    std::string secret_sealed;  // SecretBox; the HMAC key of the signatures
    std::string events;         // comma-separated kinds, or "*"
    bool active = true;
    std::int64_t created_at = 0;  // unix ms
};

struct EventRecord {
    std::int64_t id = 0;
    std::string kind;
    std::string payload;          // JSON object
    std::int64_t created_at = 0;  // unix seconds
};

struct WebhookDelivery {
    std::int64_t id = 0, webhook_id = 0, event_id = 0;
    std::string event_kind;
    std::string state;  // pending, delivered, failed
    int attempts = 0;
    int last_status = 0;  // HTTP status of the last attempt (0: no answer)
    std::string last_error;
    std::int64_t created_at = 0, updated_at = 0;  // unix ms
};

struct PendingDelivery {
    WebhookDelivery delivery;
    Webhook webhook;
    EventRecord event;
};

template <typename T>
struct Outcome {
    StoreStatus status = StoreStatus::ok;
    std::optional<T> value;
};

// Operations (`cardsmith outbox status`): the outbox rows of one kind in one state (and,
// for 'sending', claimed by one instance).
struct OutboxGroup {
    std::string kind;      // "apns", "google_object", "webhook"...
    std::string state;     // pending, sending, dead
    std::string instance;  // sending: the instance holding the claims (server.instance)
    std::int64_t rows = 0;
    std::int64_t due = 0;                // pending rows whose time has come
    std::int64_t oldest_created_ms = 0;  // created_at of the group's oldest row
};

// A push the dispatcher gave up on, as `cardsmith outbox status` lists it.
struct DeadOutboxRow {
    std::int64_t id = 0;
    std::string kind;
    std::string topic;
    std::string target;  // the push token (callers show a prefix only)
    int attempts = 0;
    std::string last_error;
    std::int64_t created_at_ms = 0;
    std::int64_t updated_at_ms = 0;  // when it died
};

// An API key as listed: never its hash.
struct ApiKeyInfo {
    std::int64_t id = 0;
    std::optional<MerchantId> merchant;  // none: an admin key
    std::string prefix;                  // the key's first 8 characters
    std::int64_t created_at = 0;         // unix seconds
    std::optional<std::int64_t> expires_at;
    std::optional<std::int64_t> revoked_at;
};

// A secret sealed with the server key (crypto::SecretBox), with what its associated data
// is made from. Where each kind lives: identities.key_sealed, identities.relay_keys_sealed,
// webhooks.secret_sealed, and programs.enrollment_json's verification.webhookSecretSealed.
struct SealedSecret {
    enum class Kind {
        identity_key,         // an uploaded identity's private key (AD: its pass type id)
        identity_relay_keys,  // its relay API keys (AD: "relay-keys:<identity id>")
        webhook_secret,       // a merchant webhook's HMAC key (AD: the merchant's id)
        verification_secret,  // a program's verification webhook secret (AD: program id)
    };
    Kind kind = Kind::identity_key;
    std::int64_t row = 0;      // the identity, webhook or program id
    std::string pass_type_id;  // identity_*: the identity's pass type id
    MerchantId merchant;       // webhook_secret: the webhook's merchant
    std::string sealed;
};

class Store {
public:
    virtual ~Store() = default;

    // Schema.
    virtual int migrate() = 0;  // applies pending migrations; returns the version reached
    [[nodiscard]] virtual int schema_version() = 0;
    [[nodiscard]] virtual bool ping() = 0;

    // API keys (stored as SHA-256 hex of the key, never the key; sql/key_store.cpp). A key
    // is active while neither revoked nor expired at `now` (unix seconds).
    [[nodiscard]] virtual std::optional<domain::Principal> find_api_key(std::string_view hash,
                                                                        std::int64_t now) = 0;
    [[nodiscard]] virtual bool has_admin_key(std::int64_t now) = 0;
    virtual void add_admin_key(std::string_view hash, std::string_view prefix,
                               std::int64_t now) = 0;
    // Rotation: adds a key of `owner` (a merchant, or none: an admin key) and, in the same
    // transaction, makes the owner's other active keys expire at `others_expire_at` (or
    // keep their earlier expiry); `others_expire_at` <= `now` ends them at once.
    virtual ApiKeyInfo rotate_api_key(std::optional<MerchantId> owner, std::string_view hash,
                                      std::string_view prefix, std::int64_t now,
                                      std::int64_t others_expire_at) = 0;
    // The owner's keys (active, expired and revoked), oldest first.
    [[nodiscard]] virtual std::vector<ApiKeyInfo> list_api_keys(
        std::optional<MerchantId> owner) = 0;
    // Revokes one of the owner's keys now; not_found unless it is the owner's and not
    // revoked already.
    virtual StoreStatus revoke_api_key(std::optional<MerchantId> owner, std::int64_t id,
                                       std::int64_t now) = 0;

    // Server key rotation (`cardsmith secret-key rotate`): in one transaction, hands every
    // secret sealed with the server key to `reseal` and stores what it returns (nullopt:
    // leave the value as it is). An exception from `reseal` rolls everything back and
    // propagates. Returns how many values were replaced.
    virtual int reseal_secrets(
        const std::function<std::optional<std::string>(const SealedSecret&)>& reseal) = 0;

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
    // A card (by serial or card number) with its program: pass downloads, the card
    // page, Apple's web service, the card API.
    // The program comes with the design version the card carries (a rollout in progress
    // or at a canary leaves cards on the version before).
    template <typename Key>
    [[nodiscard]] std::optional<std::pair<domain::Card, domain::Program>> find_pass(
        const Key& key) {
        if (auto card = find_card(key)) {
            if (auto program = find_program(card->program)) {
                if (card->design_version != 0 && card->design_version != program->design_version) {
                    (void)load_design_version(*program, card->design_version);
                }
                return std::pair{std::move(*card), std::move(*program)};
            }
        }
        return std::nullopt;
    }

    // Apple's web service (apple-wallet.md §2). Register upserts the device's push token
    // and records a pass.installed event for a new registration. A device new to a pass
    // that already has `max_devices` registrations (0: no limit) is refused.
    virtual RegisterStatus register_device(std::string_view library_id, std::string_view push_token,
                                           std::string_view pass_type_id,
                                           const SerialNumber& serial, std::int64_t now_ms,
                                           const WalletClient& wallet, int max_devices) = 0;
    RegisterStatus register_device(std::string_view library_id, std::string_view push_token,
                                   std::string_view pass_type_id, const SerialNumber& serial,
                                   std::int64_t now_ms) {
        return register_device(library_id, push_token, pass_type_id, serial, now_ms, WalletClient{},
                               0);
    }
    // Removes the registration (and the device when it has none left); pass.removed event.
    virtual bool unregister_device(std::string_view library_id, std::string_view pass_type_id,
                                   const SerialNumber& serial, std::int64_t now_ms) = 0;
    // Serials registered to the device for the pass type with an update tag > `since`.
    [[nodiscard]] virtual UpdatedSerials updated_serials(std::string_view library_id,
                                                         std::string_view pass_type_id,
                                                         std::optional<std::int64_t> since) = 0;

    // The ledger: in one transaction the balance, the pass's update tag, the ledger row,
    // the idempotency key and one outbox row per registered device (coalesced).
    virtual LedgerOutcome apply_transaction(const NewTransaction& tx) = 0;
    [[nodiscard]] virtual std::vector<LedgerEntry> list_transactions(CardId card, int limit,
                                                                     std::int64_t before_id) = 0;

    // Bumps the card's update tag and queues a push to every device holding it
    // (`cardsmith push`); returns the number of pushes queued.
    virtual int touch_card(CardId card, std::int64_t now_ms) = 0;
    // The same for every card of a program in one transaction (`cardsmith push --program`;
    // what a design change does).
    virtual int touch_program(ProgramId program, std::int64_t now_ms) = 0;

    // The outbox. claim() moves up to `limit` due pending rows (and sending rows whose lease
    // ran out) to 'sending' with a lease until now + lease_ms, claimed by `instance`.
    [[nodiscard]] virtual std::vector<OutboxItem> claim_outbox(int limit, std::int64_t now_ms,
                                                               std::int64_t lease_ms,
                                                               std::string_view instance) = 0;
    virtual void finish_outbox(std::int64_t id, std::int64_t claim, std::int64_t now_ms) = 0;
    // Back to pending at `not_before_ms`, or to 'dead' when `dead`.
    virtual void retry_outbox(std::int64_t id, std::int64_t claim, std::int64_t not_before_ms,
                              std::string_view error, bool dead, std::int64_t now_ms) = 0;
    // APNs said the token is gone for `topic` (pass type id): drop those registrations
    // unless the device registered again after `unless_after_ms` (410's timestamp);
    // returns registrations dropped.
    virtual int drop_push_token(std::string_view push_token, std::string_view topic,
                                std::int64_t unless_after_ms, std::int64_t now_ms) = 0;
    // Applies a batch of results in one transaction.
    virtual void settle_outbox(const std::vector<OutboxSettlement>& results,
                               std::int64_t now_ms) = 0;
    // Start-up of an instance: the rows it had claimed when it died (and claims from before
    // claims named their instance) go back to pending at once, not after the lease; claims
    // of other instances, live or not, are left to their lease. Returns how many.
    virtual int release_outbox_claims(std::int64_t now_ms, std::string_view instance) = 0;
    // Puts dead rows back to pending (operator's retry); returns how many.
    virtual int retry_dead_outbox(std::int64_t now_ms) = 0;
    [[nodiscard]] virtual OutboxCounts outbox_counts() = 0;
    // Outbox rows due now, counted up to `cap` (cheap: a rollout's backpressure; rows
    // waiting for a retry or a paused channel do not count).
    [[nodiscard]] virtual std::int64_t due_outbox(std::int64_t now_ms, std::int64_t cap) = 0;

    // Apple identities. save_identity inserts, or replaces the certificate and key of the
    // merchant's identity with the same pass type id (renewal); conflict when another
    // merchant holds that pass type id. `created` tells which happened.
    virtual Outcome<domain::Identity> save_identity(const domain::Identity& identity,
                                                    bool& created) = 0;
    [[nodiscard]] virtual std::vector<domain::Identity> list_identities(
        std::optional<MerchantId> merchant) = 0;
    [[nodiscard]] virtual std::optional<domain::Identity> find_identity(IdentityId id) = 0;
    // Replaces the identity's sealed relay API keys (empty: none) and bumps updated_at.
    virtual StoreStatus set_identity_relay_keys(IdentityId id, std::string_view sealed,
                                                std::int64_t now) = 0;
    // Switches the program's identity (none: the server's). conflict when cards exist:
    // their passes on phones carry the old pass type id.
    virtual StoreStatus set_program_identity(ProgramId program,
                                             std::optional<IdentityId> identity) = 0;
    // Replaces the program's enrollment form settings (validated JSON).
    virtual StoreStatus set_program_enrollment(ProgramId program, std::string_view json) = 0;

    // Enrollment (issue 4). The oldest card of the program with this phone or email.
    [[nodiscard]] virtual std::optional<domain::Card> find_card_by_contact(
        ProgramId program, ContactKind kind, std::string_view value) = 0;
    [[nodiscard]] virtual std::optional<domain::Card> find_card_by_referral(
        ProgramId program, std::string_view code) = 0;
    // Records a code sent unless a limit is reached; a resend ends the one it replaces
    // (gone when that one is no longer pending). Old rows are purged on the way.
    virtual VerificationStart start_verification(const NewVerification& v,
                                                 const SendLimits& limits) = 0;
    [[nodiscard]] virtual std::optional<PendingVerification> find_verification(
        std::string_view id) = 0;
    // One attempt at the code, atomically: a wrong code counts, the right one uses the
    // verification up (so it works once).
    virtual CodeCheckOutcome check_code(std::string_view id, ProgramId program,
                                        std::string_view code_hash, int max_attempts,
                                        std::int64_t now_ms) = 0;
    [[nodiscard]] virtual std::vector<domain::Program> list_programs() = 0;
    // Credits up to grant.limit cards in one transaction; returns how many.
    virtual int grant_birthdays(const BirthdayGrant& grant) = 0;
    [[nodiscard]] virtual ProgramStats program_stats(ProgramId program) = 0;
    // Days from `since` (unix seconds) on, bucketed with `offset_seconds` added; only days
    // with activity.
    [[nodiscard]] virtual std::vector<DailyStats> daily_stats(ProgramId program, std::int64_t since,
                                                              std::int64_t offset_seconds) = 0;
    // Cards whose number starts with `query` or whose holder's name, phone or e-mail
    // contains it (empty: the newest), newest first.
    [[nodiscard]] virtual std::vector<domain::Card> search_cards(ProgramId program,
                                                                 std::string_view query,
                                                                 int limit) = 0;

    // Design versions and rollouts (issue 6). A new version is not published yet.
    virtual std::int64_t add_design_version(const NewDesignVersion& version) = 0;
    [[nodiscard]] virtual std::vector<DesignVersion> list_design_versions(ProgramId program) = 0;
    [[nodiscard]] virtual std::optional<DesignVersion> find_design_version(
        ProgramId program, std::int64_t version) = 0;
    // Replaces the program's design with `version`'s (a card's pass renders with the
    // version it carries); false when there is no such version.
    virtual bool load_design_version(domain::Program& program, std::int64_t version) = 0;
    // Makes `version` the program's design (new cards get it) and starts moving the cards
    // to it; a rollout still active for the program is superseded.
    virtual Rollout start_rollout(ProgramId program, std::int64_t version, int canary_percent,
                                  std::int64_t now_ms) = 0;
    // One chunk of at most `max_cards` cards in one transaction: re-tags them and queues a
    // push per device; the rollout after it (nullopt: gone). Only running rollouts move.
    virtual std::optional<Rollout> rollout_step(std::int64_t rollout, int max_cards,
                                                std::int64_t now_ms) = 0;
    virtual RolloutChange control_rollout(std::int64_t rollout, RolloutAction action,
                                          std::int64_t now_ms) = 0;
    [[nodiscard]] virtual std::optional<Rollout> find_rollout(std::int64_t rollout) = 0;
    [[nodiscard]] virtual std::vector<Rollout> list_rollouts(ProgramId program, int limit) = 0;
    [[nodiscard]] virtual std::vector<std::int64_t> running_rollouts() = 0;

    // Campaigns (issue 6).
    virtual std::int64_t create_campaign(const NewCampaign& campaign) = 0;
    [[nodiscard]] virtual std::optional<Campaign> find_campaign(std::int64_t id) = 0;
    [[nodiscard]] virtual std::vector<Campaign> list_campaigns(ProgramId program, int limit) = 0;
    // Scheduled or sending campaigns whose time has come.
    [[nodiscard]] virtual std::vector<std::int64_t> due_campaigns(std::int64_t now_ms) = 0;
    [[nodiscard]] virtual std::int64_t count_segment(ProgramId program,
                                                     const SegmentFilter& filter) = 0;
    // One batch of the segment in one transaction: holdout, frequency cap, and for the
    // rest the card's offer, a push to each of its devices and a Google message. The
    // campaign after it (done when the segment is exhausted).
    virtual std::optional<Campaign> campaign_step(std::int64_t id, const SegmentFilter& filter,
                                                  const CampaignStep& step) = 0;
    // false unless it was scheduled or sending.
    virtual bool cancel_campaign(std::int64_t id, std::int64_t now_ms) = 0;
    [[nodiscard]] virtual CampaignResults campaign_results(std::int64_t id,
                                                           std::int64_t window_seconds) = 0;
    // The device fetched the card's pass: its campaigns' messages are delivered.
    virtual void mark_delivered(CardId card, std::int64_t now_ms) = 0;
    // Google's answer to a campaign message: notified (TEXT_AND_NOTIFY) or silent (TEXT),
    // or failed for good.
    virtual void record_google_message(std::int64_t campaign, CardId card, bool ok, bool notified,
                                       std::int64_t now_ms) = 0;
    // Clears offers whose time is over (up to `limit` cards), pushing their passes;
    // returns how many.
    virtual int expire_offers(std::int64_t now_ms, int limit) = 0;
    // The program's IANA time zone (validated by the caller).
    virtual StoreStatus set_program_time_zone(ProgramId program, std::string_view zone) = 0;

    // Webhooks and events (issue 6).
    virtual std::int64_t create_webhook(MerchantId merchant, std::string_view url,
                                        std::string_view secret_sealed, std::string_view events,
                                        std::int64_t now_ms) = 0;
    [[nodiscard]] virtual std::vector<Webhook> list_webhooks(MerchantId merchant) = 0;
    [[nodiscard]] virtual std::optional<Webhook> find_webhook(std::int64_t id) = 0;
    virtual bool delete_webhook(std::int64_t id) = 0;  // its deliveries go with it
    [[nodiscard]] virtual std::vector<WebhookDelivery> list_deliveries(std::int64_t webhook,
                                                                       int limit) = 0;
    [[nodiscard]] virtual std::optional<PendingDelivery> find_delivery(std::int64_t id) = 0;
    virtual void record_delivery_attempt(std::int64_t id, int status, std::string_view error,
                                         std::string_view state, std::int64_t now_ms) = 0;
    // A merchant's events with id > after, oldest first.
    [[nodiscard]] virtual std::vector<EventRecord> list_events(MerchantId merchant,
                                                               std::int64_t after, int limit) = 0;

    // Google Wallet (issue 5). The card's object exists at Google from now on: its changes
    // queue 'google_object' outbox rows. Returns false when it was marked already.
    virtual bool mark_google_saved(CardId card, std::int64_t now_ms) = 0;
    // Whether a change may notify the holder now (Google: none in the first 12 hours after
    // the save, at most 3 in 24 hours); when it may, the notification is counted.
    virtual bool take_google_notice(CardId card, std::int64_t now_ms) = 0;
    // A verified save ("pass.installed") or delete ("pass.removed") callback from Google,
    // once per nonce; false when the nonce was seen already (a retry).
    virtual bool record_google_callback(CardId card, std::string_view kind, std::string_view nonce,
                                        std::int64_t now_ms) = 0;

    // Operations (sql/ops_store.cpp; `cardsmith outbox status`). Outbox rows by kind and
    // state (sending ones also by claiming instance), with the pending ones due at `now_ms`;
    // ordered by kind, state and instance.
    [[nodiscard]] virtual std::vector<OutboxGroup> outbox_groups(std::int64_t now_ms) = 0;
    // The newest `limit` dead outbox rows, newest first.
    [[nodiscard]] virtual std::vector<DeadOutboxRow> dead_outbox(int limit) = 0;
};

// Opens the backend named by `url` ("sqlite:PATH"). `connections` is the number of
// threads that will call it concurrently. Throws StorageError.
[[nodiscard]] std::unique_ptr<Store> open_store(const std::string& url, unsigned connections,
                                                int busy_timeout_ms);

}  // namespace cardsmith::storage
