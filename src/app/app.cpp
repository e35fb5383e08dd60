#include "app/app.hpp"

#include <openssl/crypto.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "api/abuse_limits.hpp"
#include "api/api_keys.hpp"
#include "api/handlers.hpp"
#include "api/routes.hpp"
#include "apns/client.hpp"
#include "app/channels.hpp"
#include "apple/web_service/web_service.hpp"
#include "common/log.hpp"
#include "common/time_format.hpp"
#include "crypto/crypto_error.hpp"
#include "crypto/hash.hpp"
#include "crypto/key_file.hpp"
#include "crypto/pem.hpp"
#include "crypto/secret_box.hpp"
#include "enroll/birthdays.hpp"
#include "enroll/code_sender.hpp"
#include "google/callbacks.hpp"
#include "google/google_sender.hpp"
#include "google/jwt.hpp"
#include "google/wallet.hpp"
#include "http/client.hpp"
#include "http/server.hpp"
#include "http/server_tls.hpp"
#include "marketing/campaign_runner.hpp"
#include "marketing/rollout_runner.hpp"
#include "marketing/webhook_sender.hpp"
#include "push/apns_sender.hpp"
#include "push/dispatcher.hpp"
#include "push/relay_sender.hpp"

namespace cardsmith::app {
namespace {

unsigned or_cores(unsigned n) {
    return n != 0 ? n : std::max(1u, std::thread::hardware_concurrency());
}

std::shared_ptr<const crypto::PassSigner> load_signer(const config::AppleConfig& a) {
    std::shared_ptr<const crypto::PassSigner> signer;
    const char* key = "apple.cert";
    try {
        auto cert = crypto::load_certificate_file(a.cert);
        std::string passphrase;
        if (!a.key_passphrase_file.empty()) {
            key = "apple.key_passphrase_file";
            passphrase = crypto::read_passphrase_file(a.key_passphrase_file);
        }
        key = "apple.key";
        auto private_key = crypto::load_private_key_file(a.key, passphrase);
        OPENSSL_cleanse(passphrase.data(), passphrase.size());
        key = "apple.wwdr";
        auto wwdr = crypto::load_certificate_file(a.wwdr);
        key = "apple.cert";
        signer = std::make_shared<const crypto::PassSigner>(std::move(cert), std::move(private_key),
                                                            std::move(wwdr));
    } catch (const crypto::CryptoError& e) {
        throw StartupError(std::string(key) + ": " + e.what());
    }
    const auto& info = signer->certificate_info();
    // Wallet refuses passes whose identifiers disagree with the certificate
    // (apple-wallet.md pitfall 2): refuse such a config up front.
    if (!info.uid.empty() && info.uid != a.pass_type_id) {
        throw StartupError("apple.pass_type_id: '" + a.pass_type_id +
                           "' does not match the certificate's UID '" + info.uid + "' (" + a.cert +
                           ")");
    }
    if (!info.org_unit.empty() && info.org_unit != a.team_id) {
        throw StartupError("apple.team_id: '" + a.team_id +
                           "' does not match the certificate's OU '" + info.org_unit + "' (" +
                           a.cert + ")");
    }
    auto now = std::chrono::system_clock::now();
    if (info.not_after < now) {
        throw StartupError("apple.cert: the pass certificate expired (" + a.cert + ")");
    }
    return signer;
}

// The host of an http(s) URL ("cards.example.com", "127.0.0.1", "::1"), or "".
std::string url_host(std::string_view url) {
    const auto scheme = url.find("://");
    if (scheme == std::string_view::npos) {
        return {};
    }
    auto authority = url.substr(scheme + 3);
    authority = authority.substr(0, authority.find_first_of("/?#"));
    if (authority.starts_with('[')) {
        return std::string(authority.substr(1, authority.find(']') - 1));
    }
    return std::string(authority.substr(0, authority.rfind(':')));
}

// server.tls_cert / server.tls_key → the listener's TLS context (http/server_tls.hpp). The
// key is read by crypto::load_private_key_file like every other key file, so the same
// rules apply to it. Problems that stop the start name the key at fault; a certificate
// that does not fit public_url's host or expires within 30 days is only logged, since the
// operator may be in the middle of a renewal (SIGHUP loads the new files).
std::shared_ptr<net::ssl::context> load_server_tls(const config::ServerConfig& s) {
    const char* key = "server.tls_cert";
    try {
        auto chain = crypto::load_certificate_chain_file(s.tls_cert);
        key = "server.tls_key";
        auto private_key = crypto::load_private_key_file(s.tls_key);
        if (!crypto::key_matches_certificate(chain.front().get(), private_key.get())) {
            throw StartupError("server.tls_key: " + s.tls_key +
                               " is not the private key of the first certificate in " + s.tls_cert);
        }
        key = "server.tls_cert";
        const auto info = crypto::inspect_certificate(chain.front().get());
        const auto days = std::chrono::duration_cast<std::chrono::hours>(
                              info.not_after - std::chrono::system_clock::now())
                              .count() /
                          24;
        if (days < 30) {
            log::warn(
                days < 0 ? "server TLS certificate expired" : "server TLS certificate expires soon",
                {{"file", s.tls_cert}, {"days_left", std::to_string(days)}});
        }
        const std::string host = url_host(s.public_url);
        error_code not_ip;
        (void)net::ip::make_address(host, not_ip);
        const int fits =
            not_ip ? X509_check_host(chain.front().get(), host.data(), host.size(), 0, nullptr)
                   : X509_check_ip_asc(chain.front().get(), host.c_str(), 0);
        if (fits != 1) {
            log::warn("server TLS certificate does not name the host of server.public_url",
                      {{"file", s.tls_cert}, {"host", host}, {"subject", info.subject}});
        }
        std::vector<X509*> intermediates;
        for (std::size_t i = 1; i < chain.size(); ++i) {
            intermediates.push_back(chain[i].get());
        }
        return http_server::make_server_tls(chain.front().get(), intermediates, private_key.get());
    } catch (const crypto::CryptoError& e) {
        throw StartupError(std::string(key) + ": " + e.what());
    } catch (const http_server::TlsSetupError& e) {
        throw StartupError(std::string(key) + ": " + e.what());
    }
}

// SIGHUP: the TLS files again (a renewed certificate) for new connections; open ones keep
// theirs. A bad file is logged and the current certificate stays.
void reload_server_tls_on_sighup(const std::shared_ptr<net::signal_set>& hup,
                                 const config::ServerConfig& s, http_server::Server& server) {
    hup->async_wait([hup, &s, &server](const error_code& ec, int) {
        if (ec) {
            return;
        }
        try {
            server.set_tls(load_server_tls(s));
            log::info("server TLS certificate reloaded", {{"file", s.tls_cert}});
        } catch (const std::exception& e) {
            log::error("server TLS certificate not reloaded; the previous one stays",
                       {{"problem", e.what()}});
        }
        reload_server_tls_on_sighup(hup, s, server);
    });
}

// Logs every identity whose certificate has fewer than 30 days left (at start, then daily).
void warn_expiring(const passkit::Identities& identities) {
    const auto now = std::chrono::system_clock::now();
    for (const auto& i : identities.all()) {
        const auto days =
            std::chrono::duration_cast<std::chrono::hours>(i->not_after - now).count() / 24;
        if (days < 30) {
            log::warn(
                days < 0 ? "pass certificate expired" : "pass certificate expires soon",
                {{"pass_type_id", i->pass.pass_type_id}, {"days_left", std::to_string(days)}});
        }
    }
}

void schedule_expiry_warnings(const std::shared_ptr<net::steady_timer>& timer,
                              const passkit::Identities& identities) {
    warn_expiring(identities);
    timer->expires_after(std::chrono::hours(24));
    timer->async_wait([timer, &identities](const error_code& ec) {
        if (!ec) {
            schedule_expiry_warnings(timer, identities);
        }
    });
}

std::map<std::string, api::StarterTemplate> load_templates(const std::string& dir) {
    std::map<std::string, api::StarterTemplate> out;
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
        throw StartupError("templates.dir: '" + dir + "' is not a folder");
    }
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        if (!entry.is_directory() || !std::filesystem::exists(entry.path() / "template.json")) {
            continue;
        }
        std::string name = entry.path().filename().string();
        std::vector<domain::Problem> problems;
        auto files = domain::load_template_dir(entry.path(), problems);
        if (!problems.empty()) {
            throw StartupError("templates.dir: " + (entry.path() / problems[0].field).string() +
                               ": " + problems[0].message);
        }
        api::StarterTemplate t{name, std::move(files), {}};
        for (const auto& [image, bytes] : t.files.images) {
            t.images.emplace(image, storage::StoredImage{crypto::sha256_hex(bytes), bytes});
        }
        out.emplace(name, std::move(t));
    }
    if (out.empty()) {
        throw StartupError("templates.dir: no templates found in '" + dir + "'");
    }
    return out;
}

std::unique_ptr<storage::Store> open_and_migrate(const config::Config& cfg) {
    const auto& url = cfg.storage.url;
    if (url.rfind("sqlite:", 0) == 0) {
        auto parent = std::filesystem::path(url.substr(7)).parent_path();
        if (!parent.empty()) {
            std::filesystem::create_directories(parent);
        }
    }
    auto store = storage::open_store(url, cfg.storage.threads,
                                     static_cast<int>(cfg.storage.busy_timeout.count()));
    store->migrate();
    return store;
}

}  // namespace

int migrate(const config::Config& cfg) {
    auto store = open_and_migrate(cfg);
    return store->schema_version();
}

int queue_update_push(const config::Config& cfg, const std::string& serial,
                      const std::string& program) {
    auto store = open_and_migrate(cfg);
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    if (!program.empty()) {
        auto p = store->find_program(program);
        return p ? store->touch_program(p->id, now) : -1;
    }
    auto card = store->find_card(SerialNumber(serial));
    return card ? store->touch_card(card->id, now) : -1;
}

// The TLS client identity for APNs: the pass certificate and key, WWDR as chain.
apns::Credentials credentials_of(const crypto::PassSigner& signer) {
    apns::Credentials c;
    X509_up_ref(signer.certificate());
    c.cert.reset(signer.certificate());
    EVP_PKEY_up_ref(signer.private_key());
    c.key.reset(signer.private_key());
    X509_up_ref(signer.wwdr());
    c.chain.emplace_back(signer.wwdr());
    return c;
}

std::shared_ptr<push::Sender> relay_sender(App::Impl& s, const std::string& kind,
                                           const std::string& topic);

struct App::Impl {
    config::Config cfg;
    net::io_context ioc;
    net::thread_pool cpu;
    storage::Database db;
    http_server::Metrics metrics;
    std::unique_ptr<passkit::Identities> identities;
    std::optional<crypto::SecretBox> secrets;
    apns::ClientOptions apns_options;
    std::mutex senders_mutex;
    // Merchant identities' APNs senders by pass type id, with the identity generation.
    std::map<std::string, std::pair<std::uint64_t, std::shared_ptr<push::ApnsSender>>> senders;
    std::unique_ptr<passkit::PassService> passes;
    // Verification codes: the gateways' TLS (system trust store) and the sender.
    net::ssl::context gateway_tls{http_server::make_client_tls("")};
    std::unique_ptr<enroll::CodeSender> codes;
    // Android wallets' push relays: their TLS and one sender per relay and pass type id.
    net::ssl::context relay_tls{http_server::make_client_tls(cfg.relays.ca_file)};
    std::map<std::string, std::shared_ptr<push::RelaySender>> relay_senders;
    // Their API keys (config defaults under identities' own) and rate-limit pauses; how long
    // a sender may keep pushes waiting for a paused relay (half the outbox lease).
    std::shared_ptr<push::RelayKeys> relay_keys = std::make_shared<push::RelayKeys>();
    std::shared_ptr<push::RelayThrottle> relay_throttle;
    std::chrono::milliseconds relay_max_hold{std::chrono::minutes(1)};
    std::function<void(const domain::Identity&)> on_relay_keys_saved;
    // What each stored identity looked like when this instance loaded it (a digest of its
    // certificate, sealed key and relay keys): sync_identities() loads the ones another
    // instance changed since.
    std::mutex identity_digests_mutex;
    std::map<std::int64_t, std::string> identity_digests;
    // Google Wallet, when configured.
    std::unique_ptr<google::Wallet> google;
    std::shared_ptr<google::GoogleSender> google_sender;
    std::unique_ptr<google::CallbackVerifier> google_callbacks;
    std::mutex google_mutex;
    std::string google_status = "unchecked";  // the start-up probe's verdict
    net::ssl::context google_keys_tls{http_server::make_client_tls(cfg.google.ca_file)};
    std::unique_ptr<api::ApiContext> ctx;
    std::unique_ptr<web_service::WebServiceContext> wallet;
    std::unique_ptr<api::AbuseLimits> limits;
    http_server::Router router;
    std::unique_ptr<http_server::Server> server;
    std::shared_ptr<net::ssl::context> server_tls;  // server.tls_*: null for plain HTTP
    std::shared_ptr<push::ApnsSender> default_sender;
    std::shared_ptr<push::Dispatcher> dispatcher;
    std::shared_ptr<marketing::RolloutRunner> rollouts;
    std::shared_ptr<marketing::CampaignRunner> campaigns;
    // Webhooks to merchants' CRMs: the system's trust store.
    net::ssl::context webhook_tls{http_server::make_client_tls("")};
    std::shared_ptr<marketing::WebhookSender> webhooks;

    explicit Impl(config::Config c)
        : cfg(std::move(c)),
          ioc(static_cast<int>(or_cores(cfg.server.threads))),
          cpu(or_cores(cfg.server.cpu_threads)),
          db(open_and_migrate(cfg), cfg.storage.threads) {}
};

// The push channels now (app/channels.hpp), for /readyz and /metrics; any thread. Every
// loaded Apple identity is listed, "idle" until its first push opens its APNs client.
struct ChannelSnapshot {
    std::vector<ApnsChannel> apns;
    std::vector<push::IdentityHealth> routes;
    std::optional<GoogleChannel> google;
};

ChannelSnapshot snapshot_channels(App::Impl& s) {
    ChannelSnapshot out;
    out.routes = s.dispatcher->health();
    out.apns.push_back(
        apns_channel(s.cfg.apple.pass_type_id, s.default_sender->client().stats(), out.routes));
    {
        std::lock_guard lock(s.senders_mutex);
        for (const auto& [topic, entry] : s.senders) {
            if (entry.second && topic != s.cfg.apple.pass_type_id) {
                out.apns.push_back(apns_channel(topic, entry.second->client().stats(), out.routes));
            }
        }
    }
    for (const auto& identity : s.identities->all()) {
        const auto& topic = identity->pass.pass_type_id;
        if (std::none_of(out.apns.begin(), out.apns.end(),
                         [&](const ApnsChannel& c) { return c.pass_type_id == topic; })) {
            out.apns.push_back(apns_channel(topic, apns::ClientStats{}, out.routes));
        }
    }
    if (s.google) {
        GoogleChannel g;
        {
            std::lock_guard lock(s.google_mutex);
            g.probe = s.google_status;
        }
        auto token = s.google->token_health();
        g.token = std::move(token.state);
        g.token_error = std::move(token.error);
        g.token_refreshes = s.google->token_refreshes();
        out.google = std::move(g);
    }
    return out;
}

// Google's start-up probe: until the issuer answers, every 5 minutes; the verdict shows in
// /readyz ("google") and a refusal is logged as the configuration error it is.
net::awaitable<void> probe_google(App::Impl& s) {
    net::steady_timer timer(co_await net::this_coro::executor);
    for (;;) {
        std::string status = "ok";
        try {
            auto out = co_await s.google->async_probe();
            if (out.status == 401 || out.status == 403) {
                status = "refused: the service account is not a user of issuer " +
                         s.cfg.google.issuer_id + " in the Google Pay & Wallet Console (" +
                         out.message + ")";
            } else if (!out.ok()) {
                status = "unreachable: " + std::to_string(out.status) + " " + out.message;
            }
        } catch (const std::exception& e) {
            status = std::string("unreachable: ") + e.what();
        }
        {
            std::lock_guard lock(s.google_mutex);
            s.google_status = status;
        }
        if (status == "ok") {
            log::info("Google Wallet issuer answers", {{"issuer_id", s.cfg.google.issuer_id}});
            co_return;
        }
        log::error("Google Wallet is not usable",
                   {{"issuer_id", s.cfg.google.issuer_id}, {"problem", status}});
        timer.expires_after(std::chrono::minutes(5));
        error_code ec;
        co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
        if (ec) {
            co_return;
        }
    }
}

// Google's callback signing keys from google.callback_keys: at start, then every 12 hours
// (every 5 minutes while fetching fails).
net::awaitable<void> refresh_google_keys(App::Impl& s) {
    net::steady_timer timer(co_await net::this_coro::executor);
    for (;;) {
        auto wait = std::chrono::minutes(5);
        try {
            http_server::OutgoingRequest request;
            request.method = http::verb::get;
            request.url = s.cfg.google.callback_keys;
            auto res = co_await http_server::async_fetch(request, s.google_keys_tls);
            if (res.status == 200) {
                const auto n = s.google_callbacks->set_root_keys(res.body, now_unix_millis());
                log::info("google callback keys loaded", {{"keys", std::to_string(n)}});
                wait = std::chrono::hours(12);
            } else {
                log::warn("google callback keys not loaded",
                          {{"status", std::to_string(res.status)}});
            }
        } catch (const std::exception& e) {
            log::warn("google callback keys not loaded", {{"error", e.what()}});
        }
        timer.expires_after(wait);
        error_code ec;
        co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
        if (ec) {
            co_return;
        }
    }
}

std::shared_ptr<push::Sender> relay_sender(App::Impl& s, const std::string& kind,
                                           const std::string& topic) {
    const auto& r = s.cfg.relays;
    push::RelayOptions o;
    o.kind = kind;
    o.timeout = r.timeout;
    if (kind == "walletunion_fcm" || kind == "walletunion_hms") {
        if (s.relay_keys->key("walletunion", topic).empty()) return nullptr;
        o.url = r.walletunion_url;
        o.batch = static_cast<std::size_t>(kind == "walletunion_fcm" ? r.walletunion_fcm_batch
                                                                     : r.walletunion_hms_batch);
    } else if (kind == "walletpasses") {
        if (!r.walletpasses_enabled) return nullptr;
        o.url = r.walletpasses_url;
        o.batch = static_cast<std::size_t>(r.walletpasses_batch);
    } else if (kind == "pass2u") {
        if (s.relay_keys->key("pass2u", topic).empty()) return nullptr;
        o.url = r.pass2u_url;
        o.batch = static_cast<std::size_t>(r.pass2u_batch);
    } else if (kind == "passwallet") {
        if (!r.passwallet_enabled) return nullptr;
        o.batch = static_cast<std::size_t>(r.passwallet_batch);
    } else {
        return nullptr;
    }
    o.keys = s.relay_keys;
    o.throttle = s.relay_throttle;
    o.max_hold = s.relay_max_hold;
    auto& sender = s.relay_senders[kind + " " + topic];
    if (!sender) {
        sender = std::make_shared<push::RelaySender>(s.ioc.get_executor(), s.relay_tls,
                                                     std::move(o), topic);
    }
    return sender;
}

namespace {

// "<host name>:<configured port>": the same after a restart (so the instance takes back
// its own outbox claims at once), different for two instances on one machine.
std::string default_instance_name(std::uint16_t port) {
    std::array<char, 256> host{};
    if (gethostname(host.data(), host.size() - 1) != 0 || host[0] == '\0') {
        return "cardsmith:" + std::to_string(port);
    }
    return std::string(host.data()) + ":" + std::to_string(port);
}

// Opens a stored identity with the server key and makes it usable for signing and pushes.
std::optional<std::string> load_identity(App::Impl& s, const domain::Identity& i) {
    auto key_pem = s.secrets->open(i.key_sealed, i.pass_type_id);
    if (!key_pem) {
        return "the private key of identity " + i.pass_type_id +
               " does not open with this server key (server.secret_key_file)";
    }
    auto identity = std::make_shared<passkit::SigningIdentity>();
    try {
        auto cert = crypto::parse_certificate_pem(i.certificate_pem, "identity certificate");
        auto key = crypto::parse_private_key_pem(*key_pem, "identity key");
        auto wwdr = s.identities->default_identity()->signer->wwdr();
        X509_up_ref(wwdr);
        identity->signer = std::make_shared<const crypto::PassSigner>(
            std::move(cert), std::move(key), crypto::X509Ptr(wwdr));
    } catch (const crypto::CryptoError& e) {
        return "identity " + i.pass_type_id + ": " + e.what();
    }
    identity->id = i.id;
    identity->merchant = i.merchant;
    identity->pass = {i.pass_type_id, i.team_id, s.cfg.server.public_url + "/apple"};
    identity->not_after = SysTime(std::chrono::seconds(i.not_after));
    s.identities->put(identity);
    if (s.dispatcher) {
        s.dispatcher->forget(i.pass_type_id);
    }
    return std::nullopt;
}

// Makes an identity's own relay API keys (sealed with "relay-keys:<id>") the ones its
// passes' pushes use; relay routes paused or absent for want of a key are asked again.
void load_relay_keys(App::Impl& s, const domain::Identity& i) {
    push::RelayKeys::Keys keys;
    if (!i.relay_keys_sealed.empty()) {
        auto text =
            s.secrets->open(i.relay_keys_sealed, "relay-keys:" + std::to_string(i.id.value()));
        auto parsed = text ? push::RelayKeys::parse(*text) : std::nullopt;
        if (parsed) {
            keys = std::move(*parsed);
        } else {
            log::error("relay keys of identity not loaded: they do not open with this server key",
                       {{"pass_type_id", i.pass_type_id}});
        }
    }
    s.relay_keys->set(i.pass_type_id, std::move(keys));
    if (s.dispatcher) {
        for (const char* kind : {"walletunion_fcm", "walletunion_hms", "walletpasses", "pass2u"}) {
            s.dispatcher->forget(std::string(kind) + " " + i.pass_type_id);
        }
    }
}

std::string identity_digest(const domain::Identity& i) {
    return crypto::sha256_hex(i.team_id + '\n' + i.fingerprint + '\n' + i.key_sealed + '\n' +
                              i.relay_keys_sealed);
}

// Records that this instance now runs `i` as stored; true when that is news.
bool note_identity(App::Impl& s, const domain::Identity& i) {
    auto digest = identity_digest(i);
    std::lock_guard lock(s.identity_digests_mutex);
    auto& seen = s.identity_digests[i.id.value()];
    if (seen == digest) {
        return false;
    }
    seen = std::move(digest);
    return true;
}

// Instances sharing a database each hold the identities in memory: every
// server.sync_interval this one reads the stored identities (a handful of rows) and loads
// those another instance added, renewed or gave relay keys since. Polling rather than
// LISTEN/NOTIFY: the same on both backends, and an instance that missed a notice while
// its connection was down still catches up.
net::awaitable<void> sync_identities(App::Impl& s) {
    net::steady_timer timer(co_await net::this_coro::executor);
    for (;;) {
        timer.expires_after(s.cfg.server.sync_interval);
        error_code ec;
        co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
        if (ec) {
            co_return;
        }
        // `cardsmith secret-key rotate` replaced the key file: take the new key (the old one
        // keeps opening what was sealed with it). The identities it re-sealed then differ
        // from what this instance loaded, and are loaded again below.
        const auto reload =
            co_await async_run(s.cpu.get_executor(), [&s] { return s.secrets->reload(); });
        if (!reload.error.empty()) {
            log::error("server key file changed but not loaded; restart this instance",
                       {{"problem", reload.error}});
        } else if (reload.changed) {
            log::info("server key reloaded (rotated by another process)",
                      {{"key_id", s.secrets->key_id()}});
        }
        std::vector<domain::Identity> stored;
        try {
            stored = co_await s.db.run(
                [](storage::Store& st) { return st.list_identities(std::nullopt); });
        } catch (const std::exception& e) {
            log::warn("identities not synchronised", {{"error", e.what()}});
            continue;
        }
        for (const auto& i : stored) {
            if (!note_identity(s, i)) {
                continue;
            }
            auto problem = co_await async_run(s.cpu.get_executor(), [&s, &i] {
                auto p = load_identity(s, i);
                load_relay_keys(s, i);
                return p;
            });
            if (problem) {
                log::error("changed identity not loaded",
                           {{"pass_type_id", i.pass_type_id}, {"problem", *problem}});
            } else {
                log::info("identity loaded as changed in the database",
                          {{"pass_type_id", i.pass_type_id}});
            }
        }
    }
}

}  // namespace

App::App(config::Config cfg) {
    log::Format format = log::Format::text;
    (void)log::parse_format(cfg.log_format, format);
    log::set_format(format);
    log::Level level = log::Level::info;
    (void)log::parse_level(cfg.log_level, level);
    log::set_level(level);
    auto signer = load_signer(cfg.apple);
    // The other secret files too before anything is logged: a bad one is the one line shown.
    std::optional<crypto::SecretBox> server_key;
    try {
        const std::filesystem::path key_file = cfg.server.secret_key_file;
        if (key_file.has_parent_path()) {
            std::filesystem::create_directories(key_file.parent_path());
        }
        server_key.emplace(crypto::SecretBox::from_file(key_file, true));
    } catch (const std::exception& e) {
        throw StartupError(std::string("server.secret_key_file: ") + e.what());
    }
    if (cfg.google.enabled()) {
        try {
            (void)google::load_service_account(cfg.google.service_account);
        } catch (const std::exception& e) {
            throw StartupError(e.what());  // names google.service_account
        }
    }
    auto templates = load_templates(cfg.templates_dir);
    std::shared_ptr<net::ssl::context> server_tls;
    if (cfg.server.tls()) {
        server_tls = load_server_tls(cfg.server);
    }
    // With TLS on, config refused an http:// public_url already (the listener would not
    // answer it); without, http:// is the development set-up this warns about.
    if (cfg.server.public_url.rfind("http://", 0) == 0) {
        log::warn(
            "server.public_url is http://: Wallet only talks to HTTPS web services unless "
            "the phone's Developer setting 'Allow HTTP Services' is on",
            {{"public_url", cfg.server.public_url}});
    }
    if (cfg.server.instance.empty()) {
        cfg.server.instance = default_instance_name(cfg.server.listen_port);
    }
    std::unique_ptr<Impl> impl;
    try {
        impl = std::make_unique<Impl>(std::move(cfg));
    } catch (const storage::StorageError& e) {
        throw StartupError(std::string("storage.url: ") + e.what());
    }
    auto& s = *impl;
    s.server_tls = std::move(server_tls);

    std::optional<std::string> admin_hash;
    if (s.cfg.admin_key) {
        admin_hash = crypto::sha256_hex(*s.cfg.admin_key);
    } else if (!s.db.store().has_admin_key(unix_seconds(std::chrono::system_clock::now()))) {
        auto key = api::generate_api_key();
        s.db.store().add_admin_key(key.hash, key.prefix,
                                   unix_seconds(std::chrono::system_clock::now()));
        // Shown once on the terminal, never written to the log.
        std::cout << "Generated admin API key (shown once, store it now): " << key.key << std::endl;
    }

    auto default_identity = std::make_shared<passkit::SigningIdentity>();
    default_identity->pass = {s.cfg.apple.pass_type_id, s.cfg.apple.team_id,
                              s.cfg.server.public_url + "/apple"};
    default_identity->signer = signer;
    default_identity->not_after = signer->certificate_info().not_after;
    s.identities = std::make_unique<passkit::Identities>(default_identity);
    s.secrets = std::move(server_key);
    log::info("server key loaded", {{"key_id", s.secrets->key_id()}});
    s.relay_keys->set_default("walletunion", s.cfg.relays.walletunion_key);
    s.relay_keys->set_default("walletpasses", s.cfg.relays.walletpasses_key);
    s.relay_keys->set_default("pass2u", s.cfg.relays.pass2u_key);
    for (const auto& stored : s.db.store().list_identities(std::nullopt)) {
        if (auto problem = load_identity(s, stored)) {
            log::error("identity not loaded: its programs cannot sign until it is uploaded again",
                       {{"pass_type_id", stored.pass_type_id}, {"problem", *problem}});
        }
        load_relay_keys(s, stored);
        note_identity(s, stored);
    }
    s.passes = std::make_unique<passkit::PassService>(
        *s.identities, s.cpu.get_executor(),
        [&db = s.db](ProgramId id, std::int64_t version) {
            return db.run(
                [id, version](storage::Store& st) { return st.design_images(id, version); });
        },
        s.cfg.passes.cache_bytes);
    s.passes->on_signed([&m = s.metrics](double seconds) {
        m.observe("cardsmith_pass_sign_duration_seconds",
                  "Time to render, sign and zip a pass on the CPU pool", {}, seconds);
    });
    s.ctx = std::unique_ptr<api::ApiContext>(new api::ApiContext{
        s.db,
        *s.passes,
        s.metrics,
        std::move(templates),
        s.cfg.server.public_url,
        admin_hash,
        s.cfg.google.enabled(),
        // Signing is usable while the pass certificate is within its validity period.
        [signer] {
            auto now = std::chrono::system_clock::now();
            const auto& info = signer->certificate_info();
            return info.not_before <= now && now < info.not_after;
        },
        {},
        {},
        nullptr,
        {},
        {},
        {},
        nullptr,
        {},
        5,
        false,
        nullptr,
        nullptr,
        {},
        {}});
    s.ctx->image_body_limit = s.cfg.server.image_body_limit;
    api::register_routes(s.router, *s.ctx);
    s.on_relay_keys_saved = [&s](const domain::Identity& i) {
        load_relay_keys(s, i);
        note_identity(s, i);
    };
    s.router.add(http::verb::put, "/api/v1/identities/{id}/relay-keys",
                 [&s](http_server::RequestContext& rc) {
                     return api::handle_set_identity_relay_keys(*s.ctx, rc, s.on_relay_keys_saved);
                 });
    s.ctx->secrets = &*s.secrets;
    s.codes = std::make_unique<enroll::CodeSender>(&*s.secrets, s.gateway_tls);
    if (s.cfg.google.enabled()) {
        try {
            s.google = std::make_unique<google::Wallet>(s.ioc.get_executor(), s.cfg.google,
                                                        s.cfg.server.public_url);
        } catch (const std::exception& e) {
            throw StartupError(e.what());
        }
        s.google_sender = std::make_shared<google::GoogleSender>(s.ioc.get_executor(), s.db,
                                                                 *s.google, s.metrics);
        s.ctx->google = s.google.get();
        if (s.cfg.google.callbacks) {
            s.google_callbacks = std::make_unique<google::CallbackVerifier>(s.cfg.google.issuer_id);
            s.ctx->google_callbacks = s.google_callbacks.get();
            const auto& keys = s.cfg.google.callback_keys;
            if (!keys.starts_with("https://") && !keys.starts_with("http://")) {
                // A file of Google's keys (fetched by the operator, or a test's).
                std::ifstream in(keys, std::ios::binary);
                std::stringstream text;
                text << in.rdbuf();
                try {
                    (void)s.google_callbacks->set_root_keys(text.str(), now_unix_millis());
                } catch (const std::exception& e) {
                    throw StartupError("google.callback_keys: " + keys + ": " + e.what());
                }
            }
        }
        log::info("Google Wallet on", {{"issuer_id", s.cfg.google.issuer_id}});
    }
    s.ctx->codes = s.codes.get();
    s.ctx->code_limits.per_destination = s.cfg.enrollment.codes_per_destination;
    s.ctx->code_limits.per_ip = s.cfg.enrollment.codes_per_ip;
    s.ctx->max_code_attempts = s.cfg.enrollment.max_code_attempts;
    s.ctx->trust_forwarded_for = s.cfg.enrollment.trust_forwarded_for;
    s.ctx->max_cards_per_program = s.cfg.limits.max_cards_per_program;
    s.ctx->default_signer = signer;
    s.ctx->cpu = s.cpu.get_executor();
    s.ctx->on_identity_saved = [&s](const domain::Identity& i) {
        auto problem = load_identity(s, i);
        note_identity(s, i);
        if (problem) {
            log::error("uploaded identity not loaded", {{"problem", *problem}});
            return std::optional<std::string>(
                "the identity was saved but cannot be used; see the "
                "server log");
        }
        return problem;
    };
    s.wallet = std::unique_ptr<web_service::WebServiceContext>(new web_service::WebServiceContext{
        s.db, *s.passes, s.metrics, {}, {}, s.cfg.limits.max_devices_per_pass});
    for (std::string_view hosts = s.cfg.relays.passwallet_hosts; !hosts.empty();) {
        const auto comma = hosts.find(',');
        auto host = hosts.substr(0, comma);
        while (!host.empty() && host.front() == ' ') host.remove_prefix(1);
        while (!host.empty() && host.back() == ' ') host.remove_suffix(1);
        if (!host.empty()) {
            s.wallet->passwallet_hosts.emplace(host);
        }
        hosts = comma == std::string_view::npos ? std::string_view() : hosts.substr(comma + 1);
    }
    web_service::register_routes(s.router, *s.wallet);
    // Every route is added: the abuse limits go in front of them (docs/security.md).
    s.limits = std::make_unique<api::AbuseLimits>(s.cfg.limits, *s.ctx);
    s.limits->protect(s.router);

    // Pushes: one APNs client per identity, the dispatcher draining the outbox.
    auto& apns_options = s.apns_options;
    apns_options.host = s.cfg.apns.host;
    apns_options.port = s.cfg.apns.port;
    apns_options.ca_file = s.cfg.apns.ca_file;
    apns_options.connections = s.cfg.apns.connections;
    apns_options.request_timeout = s.cfg.apns.request_timeout;
    try {
        s.default_sender = std::make_shared<push::ApnsSender>(std::make_shared<apns::Client>(
            s.ioc.get_executor(), apns_options, credentials_of(*signer)));
    } catch (const crypto::CryptoError& e) {
        throw StartupError(std::string("apns.ca_file: ") + e.what());
    }
    push::DispatcherOptions push_options;
    push_options.max_attempts = s.cfg.apns.max_attempts;
    push_options.retry_base = s.cfg.apns.retry_base;
    push_options.retry_max = s.cfg.apns.retry_max;
    push_options.identity_pause = s.cfg.apns.identity_pause;
    push_options.instance = s.cfg.server.instance;
    // The lease outlives a push's own timeout, so a live claim is never taken over.
    push_options.lease =
        std::max<std::chrono::milliseconds>(s.cfg.apns.claim_lease, s.cfg.apns.request_timeout * 3);
    // Pushes waiting for a rate-limited relay stay claimed: well within their lease, and
    // never so many that the dispatcher stops claiming for the other channels.
    s.relay_max_hold = push_options.lease / 2;
    s.relay_throttle = std::make_shared<push::RelayThrottle>(push_options.max_in_flight / 4);
    s.webhooks = std::make_shared<marketing::WebhookSender>(s.ioc.get_executor(), s.db, *s.secrets,
                                                            s.webhook_tls);
    s.dispatcher = std::make_shared<push::Dispatcher>(
        s.ioc.get_executor(), s.db, s.metrics,
        [&s](const std::string& kind, const std::string& topic) -> std::shared_ptr<push::Sender> {
            if (kind == "webhook") {
                return s.webhooks;
            }
            if (kind == "google_object" || kind == "google_class" || kind == "google_message") {
                return s.google_sender;  // nullptr while Google is off: rows wait
            }
            if (kind != "apns") {
                return relay_sender(s, kind, topic);
            }
            if (topic == s.cfg.apple.pass_type_id) {
                return s.default_sender;
            }
            // Under the lock, so a renewal (load_identity) cannot slip between the lookup
            // and the cache: a cached sender is only reused for the same generation.
            std::lock_guard lock(s.senders_mutex);
            auto identity = s.identities->by_pass_type(topic);
            if (!identity) {
                return nullptr;
            }
            auto& [generation, sender] = s.senders[topic];
            if (!sender || generation != identity->generation) {
                try {
                    sender = std::make_shared<push::ApnsSender>(std::make_shared<apns::Client>(
                        s.ioc.get_executor(), s.apns_options, credentials_of(*identity->signer)));
                    generation = identity->generation;
                } catch (const crypto::CryptoError& e) {
                    log::error("push: cannot use identity",
                               {{"pass_type_id", topic}, {"error", e.what()}});
                    s.senders.erase(topic);
                    return nullptr;
                }
            }
            return sender;
        },
        push_options);
    auto wake = [d = std::weak_ptr<push::Dispatcher>(s.dispatcher)] {
        if (auto dispatcher = d.lock()) {
            dispatcher->wake();
        }
    };
    s.ctx->on_pushes_queued = wake;
    s.wallet->on_pushes_queued = wake;
    marketing::RolloutRunnerOptions rollout_options;
    rollout_options.chunk = s.cfg.rollouts.chunk;
    rollout_options.cards_per_second = s.cfg.rollouts.cards_per_second;
    s.rollouts = std::make_shared<marketing::RolloutRunner>(s.ioc.get_executor(), s.db, wake,
                                                            rollout_options);
    s.ctx->on_rollout_started = [r = std::weak_ptr<marketing::RolloutRunner>(s.rollouts)] {
        if (auto runner = r.lock()) {
            runner->wake();
        }
    };
    s.campaigns = std::make_shared<marketing::CampaignRunner>(s.ioc.get_executor(), s.db, wake);
    s.ctx->on_campaign_created = [c = std::weak_ptr<marketing::CampaignRunner>(s.campaigns)] {
        if (auto runner = c.lock()) {
            runner->wake();
        }
    };
    s.ctx->readiness = [&s](boost::json::object& body, bool&) {
        // Push channels are reported, never a reason to be unready (app/channels.hpp):
        // every instance shares them, and the outbox keeps the pushes meanwhile.
        auto channels = snapshot_channels(s);
        boost::json::array identities;
        for (const auto& h : channels.routes) {
            identities.push_back({{"passTypeId", h.topic},
                                  {"status", h.healthy ? "ok" : "down"},
                                  {"reason", h.reason}});
        }
        body["push"] =
            push_summary(s.cfg.apple.pass_type_id, channels.apns, channels.routes, channels.google);
        body["identities"] = std::move(identities);
        body["channels"] = channels_json(channels.apns, channels.google);
        // Certificates about to expire: a warning, not unreadiness (apple-wallet.md §1.8).
        boost::json::array warnings;
        const auto now = std::chrono::system_clock::now();
        for (const auto& i : s.identities->all()) {
            const auto days =
                std::chrono::duration_cast<std::chrono::hours>(i->not_after - now).count() / 24;
            if (days < 30) {
                warnings.push_back(boost::json::string(
                    "the certificate of " + i->pass.pass_type_id +
                    (days < 0 ? " has expired" : " expires in " + std::to_string(days) + " days")));
            }
        }
        body["warnings"] = std::move(warnings);
        if (channels.google) {
            body["google"] = channels.google->probe;  // also in channels.google.probe
        }
    };
    s.metrics.add_collector([&s](http_server::Metrics& m) {
        auto channels = snapshot_channels(s);
        export_channel_metrics(m, channels.apns, channels.routes, channels.google);
    });
    impl_ = std::move(impl);
}

App::~App() = default;

int App::run() {
    auto& s = *impl_;
    http_server::ServerOptions opts;
    opts.header_limit = s.cfg.server.header_limit;
    opts.body_limit = s.cfg.server.body_limit;
    opts.read_timeout = s.cfg.server.read_timeout;
    opts.idle_timeout = s.cfg.server.idle_timeout;
    opts.tls = s.server_tls;
    s.server = std::make_unique<http_server::Server>(s.ioc, opts, s.router, s.metrics);
    boost::system::error_code ec;
    auto address = net::ip::make_address(s.cfg.server.listen_host, ec);
    if (ec) {
        throw StartupError("server.listen: '" + s.cfg.server.listen_host +
                           "' is not an IP address");
    }
    try {
        s.server->start(tcp::endpoint(address, s.cfg.server.listen_port));
    } catch (const boost::system::system_error& e) {
        throw StartupError("server.listen: cannot listen on " + s.cfg.server.listen_host + ":" +
                           std::to_string(s.cfg.server.listen_port) + ": " + e.code().message());
    }
    auto bound = s.server->local_endpoint();
    if (!s.cfg.server.port_file.empty()) {
        std::ofstream(s.cfg.server.port_file) << bound.port() << "\n";
    }
    log::info("listening", {{"address", bound.address().to_string()},
                            {"port", std::to_string(bound.port())},
                            {"public_url", s.cfg.server.public_url},
                            {"tls", s.server_tls ? "on" : "off"},
                            {"instance", s.cfg.server.instance}});
    if (s.server_tls) {
        auto hup = std::make_shared<net::signal_set>(s.ioc, SIGHUP);
        reload_server_tls_on_sighup(hup, s.cfg.server, *s.server);
    }

    net::signal_set signals(s.ioc, SIGINT, SIGTERM);
    signals.async_wait([&s](const error_code& err, int sig) {
        if (err) {
            return;
        }
        log::info("shutting down", {{"signal", std::to_string(sig)}});
        s.rollouts->stop();
        s.campaigns->stop();
        s.server->stop(s.cfg.server.shutdown_grace, [&s] {
            // Answers of pushes in flight are written back; unanswered ones stay claimed
            // and are sent again at the next start.
            s.dispatcher->stop(std::chrono::seconds(2), [&s] {
                s.default_sender->client().shutdown();
                {
                    std::lock_guard lock(s.senders_mutex);
                    for (auto& [topic, entry] : s.senders) {
                        entry.second->client().shutdown();
                    }
                }
                // A moment for the GOAWAYs to leave.
                auto last = std::make_shared<net::steady_timer>(s.ioc);
                last->expires_after(std::chrono::milliseconds(200));
                last->async_wait([&s, last](const error_code&) { s.ioc.stop(); });
            });
        });
    });

    s.dispatcher->start();
    s.rollouts->start();  // resumes rollouts a stopped process left running
    s.campaigns->start();
    if (s.google) {
        net::co_spawn(s.ioc, probe_google(s), net::detached);
    }
    const auto& callback_keys = s.cfg.google.callback_keys;
    if (s.google_callbacks &&
        (callback_keys.starts_with("https://") || callback_keys.starts_with("http://"))) {
        net::co_spawn(s.ioc, refresh_google_keys(s), net::detached);  // Google's key URL
    }
    auto expiry_timer = std::make_shared<net::steady_timer>(s.ioc);
    schedule_expiry_warnings(expiry_timer, *s.identities);
    // Hourly: a day's birthdays are granted soon after midnight UTC, and a restart
    // catches up.
    net::co_spawn(s.ioc, enroll::async_birthday_loop(s.db, std::chrono::hours(1)), net::detached);
    net::co_spawn(s.ioc, sync_identities(s), net::detached);

    std::vector<std::thread> threads;
    unsigned n = or_cores(s.cfg.server.threads);
    for (unsigned i = 1; i < n; ++i) {
        threads.emplace_back([&s] { s.ioc.run(); });
    }
    s.ioc.run();
    for (auto& t : threads) {
        t.join();
    }
    s.cpu.join();
    s.db.stop();
    log::info("stopped");
    return 0;
}

}  // namespace cardsmith::app
