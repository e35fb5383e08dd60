#pragma once
// Immutable configuration (CONTRACT §2): a TOML file, every key overridable by the
// environment variable CARDSMITH_<SECTION>_<KEY>. Loaded once at start-up by main;
// read-only afterwards, so freely shared between threads.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>

namespace cardsmith::config {

// A bad file, key or value. what() is one line naming the key or file (exit status 2):
// control characters in the message (a quoted value, the TOML parser's quote of the file)
// are shown escaped, "\n" and "\x01".
class ConfigError : public std::runtime_error {
public:
    explicit ConfigError(const std::string& message);
};

struct ServerConfig {
    std::string listen_host = "127.0.0.1";
    std::uint16_t listen_port = 8080;
    std::string public_url = "http://127.0.0.1:8080";  // no trailing slash
    unsigned threads = 0;                              // 0: one per core
    unsigned cpu_threads = 0;                          // signing/zipping pool; 0: one per core
    std::size_t body_limit = 1024 * 1024;
    std::size_t image_body_limit = 4 * 1024 * 1024;
    std::size_t header_limit = 16 * 1024;
    std::chrono::seconds read_timeout{30};
    std::chrono::seconds idle_timeout{60};
    std::chrono::seconds shutdown_grace{10};
    // How often an instance looks for identities other instances changed (uploads,
    // renewals, relay keys) and loads them.
    std::chrono::seconds sync_interval{5};
    std::string port_file;  // when set, the bound port is written there (tests use port 0)
    // 32-byte server key (64 hex chars) sealing merchants' private keys at rest; made on
    // first start when missing.
    std::string secret_key_file = "var/secret.key";
    // This instance's name among those sharing one database (on its outbox claims, so a
    // restart takes back only its own). Empty: "<host name>:<listen port>", stable across
    // restarts on one machine and distinct for two instances on it.
    std::string instance;
    // PEM files: when both are set the listener speaks HTTPS only (the certificate file
    // holds the server certificate first, then its intermediates). Both or neither.
    std::string tls_cert;
    std::string tls_key;
    [[nodiscard]] bool tls() const { return !tls_cert.empty() && !tls_key.empty(); }
};

struct StorageConfig {
    std::string url = "sqlite:var/cardsmith.db";
    unsigned threads = 2;
    std::chrono::milliseconds busy_timeout{5000};
};

struct AppleConfig {
    std::string pass_type_id = "pass.dev.cardsmith";
    std::string team_id = "DEVTEAM123";
    std::string cert = "certs/dev/pass.pem";
    std::string key = "certs/dev/pass.key";
    std::string wwdr = "certs/dev/wwdr.pem";
    // A file holding the passphrase of an encrypted `key` (PKCS#8 "ENCRYPTED PRIVATE KEY");
    // empty: the key is not encrypted. A file, so the passphrase is never in this config.
    std::string key_passphrase_file;
};

struct ApnsConfig {
    std::string host = "api.push.apple.com";
    std::uint16_t port = 443;
    std::string ca_file;  // empty: system trust store
    unsigned connections = 2;
    // The push dispatcher (our own keys, docs/configuration.md).
    int max_attempts = 12;                                    // then the push is dead
    std::chrono::milliseconds retry_base{1000};               // first retry delay
    std::chrono::milliseconds retry_max{10 * 60 * 1000};      // cap of the doubling
    std::chrono::milliseconds request_timeout{30 * 1000};     // per push
    std::chrono::milliseconds identity_pause{5 * 60 * 1000};  // after a 403, per identity
    // How long a claimed outbox row is an instance's; when it dies, other instances send
    // the row after this (never less than 3 × timeout_ms, so a live claim is not taken).
    std::chrono::milliseconds claim_lease{2 * 60 * 1000};
};

struct GoogleConfig {
    std::string issuer_id;        // empty: Google Wallet off
    std::string service_account;  // JSON file
    std::string api_base = "https://walletobjects.googleapis.com/walletobjects/v1";
    std::string token_url = "https://oauth2.googleapis.com/token";
    std::string ca_file;
    // Save/delete callbacks: on, Google's signing keys from this https URL (refreshed) or
    // file, and callbackOptions.url = public_url + "/google/callback" on every class.
    bool callbacks = false;
    std::string callback_keys = "https://pay.google.com/gp/m/issuer/keys";
    [[nodiscard]] bool enabled() const { return !issuer_id.empty() && !service_account.empty(); }
};

// Android wallet apps' push relays (android-wallets.md, docs/configuration.md). A relay
// whose key is required and empty is off: its registrations are kept but not pushed.
struct RelaysConfig {
    std::string walletunion_url = "https://push.walletunion.com/send";
    std::string walletunion_key;  // required by Wallet Union
    std::string walletpasses_url = "https://walletpasses.appspot.com/api/v1/push";
    std::string walletpasses_key;  // optional (a higher rate limit)
    bool walletpasses_enabled = true;
    std::string pass2u_url = "https://api.passesalliance.com/v2/registrations";
    std::string pass2u_key;  // required by Pass2U
    bool passwallet_enabled = true;
    // Hosts a PassWallet registration may name as its push service.
    std::string passwallet_hosts =
        "push.passwallet.net,proxy.ravensoft.co.uk,walletpasses.appspot.com";
    std::string ca_file;  // trust store for https relays; empty: the system's
    int walletunion_fcm_batch = 50, walletunion_hms_batch = 1000, walletpasses_batch = 100,
        pass2u_batch = 1000, passwallet_batch = 100;
    std::chrono::milliseconds timeout{10'000};
};

// Verification codes of the /join form (docs/configuration.md).
struct EnrollmentConfig {
    int max_code_attempts = 5;      // wrong codes before a code is dead
    int codes_per_destination = 5;  // codes sent to one phone or email per hour
    int codes_per_ip = 20;          // codes asked from one client address per hour
    // Behind a proxy: the client is X-Forwarded-For's last entry. Also server.trust_forwarded_for
    // (either turns it on; the abuse limits and the code limits use the same address).
    bool trust_forwarded_for = false;
};

// Abuse limits (docs/security.md). Every rate is per instance and per client address or
// API key; 0 turns that limit off.
struct LimitsConfig {
    int ip_per_minute = 1200;  // requests from one client address (pages, API, join)
    int ip_burst = 200;
    int key_per_minute = 30000;  // requests with one API key (a chain's CRM may use one)
    int key_burst = 5000;
    int auth_failures = 20;            // failed authentications before an address is throttled
    int auth_failures_per_minute = 2;  // ... then one more allowed every 30 s
    int joins_per_hour = 60;           // /join form submissions from one client address
    int join_burst = 20;
    std::int64_t max_cards_per_program = 10'000'000;
    int max_devices_per_pass = 10;  // Wallet registrations of one pass (phone, watch, iPad...)
};

// Design rollouts (issue 6): how fast publishing a design moves cards and pushes devices.
struct RolloutsConfig {
    int chunk = 2000;          // cards per database transaction
    int cards_per_second = 0;  // 0: as fast as the database allows
};

struct PassesConfig {
    std::size_t cache_bytes = 64 * 1024 * 1024;  // signed-pass cache bound
};

struct Config {
    std::filesystem::path file;  // where it came from (empty: defaults + env only)
    ServerConfig server;
    StorageConfig storage;
    std::optional<std::string> admin_key;
    AppleConfig apple;
    ApnsConfig apns;
    GoogleConfig google;
    std::string templates_dir = "templates";
    PassesConfig passes;
    EnrollmentConfig enrollment;
    RelaysConfig relays;
    RolloutsConfig rollouts;
    LimitsConfig limits;
    std::string log_level = "info";
    std::string log_format = "text";  // "text" or "json" (common/log.hpp)
};

using Environment = std::map<std::string, std::string>;

// Reads the process environment's CARDSMITH_* variables.
[[nodiscard]] Environment process_environment();

// Parses `path` (must exist) and applies `env`. Throws ConfigError.
[[nodiscard]] Config load(const std::filesystem::path& path, const Environment& env);
// Parses TOML text; `origin` names it in errors.
[[nodiscard]] Config parse(std::string_view toml_text, const std::string& origin,
                           const Environment& env);

}  // namespace cardsmith::config
