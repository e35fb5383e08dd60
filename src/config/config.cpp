#include "config/config.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <functional>
#include <sstream>
#include <string_view>
#include <variant>
#include <vector>

extern char** environ;

namespace cardsmith::config {
namespace {

// A value as it came from TOML (typed) or from the environment (always text).
using Raw = std::variant<std::string, std::int64_t, bool>;

[[noreturn]] void fail(const std::string& key, const std::string& problem) {
    throw ConfigError(key + ": " + problem);
}

std::string as_string(const Raw& v, const std::string& key) {
    if (const auto* s = std::get_if<std::string>(&v)) {
        return *s;
    }
    fail(key, "must be a string");
}

std::int64_t as_int(const Raw& v, const std::string& key, std::int64_t lo, std::int64_t hi) {
    std::int64_t out = 0;
    if (const auto* i = std::get_if<std::int64_t>(&v)) {
        out = *i;
    } else if (const auto* s = std::get_if<std::string>(&v)) {
        auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), out);
        if (ec != std::errc{} || p != s->data() + s->size()) {
            fail(key, "must be an integer, got '" + *s + "'");
        }
    } else {
        fail(key, "must be an integer");
    }
    if (out < lo || out > hi) {
        fail(key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    }
    return out;
}

// TOML true/false; from the environment "true"/"false"/"1"/"0".
bool as_bool(const Raw& v, const std::string& key) {
    if (const auto* b = std::get_if<bool>(&v)) {
        return *b;
    }
    if (const auto* s = std::get_if<std::string>(&v)) {
        if (*s == "true" || *s == "1") return true;
        if (*s == "false" || *s == "0") return false;
    }
    fail(key, "must be true or false");
}

void parse_listen(const std::string& text, const std::string& key, ServerConfig& s) {
    auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0) {
        fail(key, "must be address:port, got '" + text + "'");
    }
    std::string host = text.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    std::int64_t port = as_int(Raw{text.substr(colon + 1)}, key, 0, 65535);
    s.listen_host = host;
    s.listen_port = static_cast<std::uint16_t>(port);
}

using Setter = std::function<void(Config&, const Raw&, const std::string&)>;

struct KeySpec {
    std::string_view section;
    std::string_view key;
    Setter set;
};

Setter str(std::string Config::*f) {
    return [f](Config& c, const Raw& v, const std::string& k) { c.*f = as_string(v, k); };
}
template <typename S>
Setter str_in(S Config::*sec, std::string S::*f) {
    return
        [sec, f](Config& c, const Raw& v, const std::string& k) { (c.*sec).*f = as_string(v, k); };
}
template <typename S, typename T>
Setter int_in(S Config::*sec, T S::*f, std::int64_t lo, std::int64_t hi) {
    return [=](Config& c, const Raw& v, const std::string& k) {
        (c.*sec).*f = static_cast<T>(as_int(v, k, lo, hi));
    };
}
template <typename S, typename D>
Setter dur_in(S Config::*sec, D S::*f, std::int64_t lo, std::int64_t hi) {
    return [=](Config& c, const Raw& v, const std::string& k) {
        (c.*sec).*f = D(as_int(v, k, lo, hi));
    };
}

const std::vector<KeySpec>& specs() {
    static const std::vector<KeySpec> kSpecs = {
        {"server", "listen",
         [](Config& c, const Raw& v, const std::string& k) {
             parse_listen(as_string(v, k), k, c.server);
         }},
        {"server", "public_url",
         [](Config& c, const Raw& v, const std::string& k) {
             std::string u = as_string(v, k);
             if (u.rfind("http://", 0) != 0 && u.rfind("https://", 0) != 0) {
                 fail(k, "must start with http:// or https://");
             }
             while (!u.empty() && u.back() == '/') {
                 u.pop_back();
             }
             c.server.public_url = u;
         }},
        {"server", "threads", int_in(&Config::server, &ServerConfig::threads, 0, 256)},
        {"server", "cpu_threads", int_in(&Config::server, &ServerConfig::cpu_threads, 0, 256)},
        {"server", "body_limit",
         int_in(&Config::server, &ServerConfig::body_limit, 1024, 64 * 1024 * 1024)},
        {"server", "image_body_limit",
         int_in(&Config::server, &ServerConfig::image_body_limit, 1024, 64 * 1024 * 1024)},
        {"server", "header_limit",
         int_in(&Config::server, &ServerConfig::header_limit, 1024, 1024 * 1024)},
        {"server", "read_timeout", dur_in(&Config::server, &ServerConfig::read_timeout, 1, 3600)},
        {"server", "idle_timeout", dur_in(&Config::server, &ServerConfig::idle_timeout, 1, 3600)},
        {"server", "shutdown_grace",
         dur_in(&Config::server, &ServerConfig::shutdown_grace, 0, 600)},
        {"server", "sync_interval",
         dur_in(&Config::server, &ServerConfig::sync_interval, 1, 3600)},
        {"server", "port_file", str_in(&Config::server, &ServerConfig::port_file)},
        {"server", "secret_key_file", str_in(&Config::server, &ServerConfig::secret_key_file)},
        {"server", "instance",
         [](Config& c, const Raw& v, const std::string& k) {
             std::string name = as_string(v, k);
             const bool printable = std::all_of(name.begin(), name.end(), [](char ch) {
                 return ch > ' ' && ch < 0x7f;
             });
             if (name.empty() || name.size() > 100 || !printable) {
                 fail(k, "1 to 100 printable characters without spaces");
             }
             c.server.instance = std::move(name);
         }},
        {"server", "tls_cert", str_in(&Config::server, &ServerConfig::tls_cert)},
        {"server", "tls_key", str_in(&Config::server, &ServerConfig::tls_key)},
        {"storage", "url",
         [](Config& c, const Raw& v, const std::string& k) {
             std::string u = as_string(v, k);
             if (u.rfind("sqlite:", 0) != 0 && u.rfind("postgresql://", 0) != 0 &&
                 u.rfind("postgres://", 0) != 0) {
                 fail(k, "must be sqlite:PATH or postgresql://...");
             }
             c.storage.url = u;
         }},
        {"storage", "threads", int_in(&Config::storage, &StorageConfig::threads, 1, 64)},
        {"storage", "busy_timeout_ms",
         dur_in(&Config::storage, &StorageConfig::busy_timeout, 0, 600000)},
        {"admin", "key",
         [](Config& c, const Raw& v, const std::string& k) {
             std::string key = as_string(v, k);
             if (key.size() < 16) {
                 fail(k, "must be at least 16 characters");
             }
             c.admin_key = key;
         }},
        {"apple", "pass_type_id", str_in(&Config::apple, &AppleConfig::pass_type_id)},
        {"apple", "team_id", str_in(&Config::apple, &AppleConfig::team_id)},
        {"apple", "cert", str_in(&Config::apple, &AppleConfig::cert)},
        {"apple", "key", str_in(&Config::apple, &AppleConfig::key)},
        {"apple", "wwdr", str_in(&Config::apple, &AppleConfig::wwdr)},
        {"apple", "key_passphrase_file",
         str_in(&Config::apple, &AppleConfig::key_passphrase_file)},
        {"apns", "host", str_in(&Config::apns, &ApnsConfig::host)},
        {"apns", "port", int_in(&Config::apns, &ApnsConfig::port, 1, 65535)},
        {"apns", "ca_file", str_in(&Config::apns, &ApnsConfig::ca_file)},
        {"apns", "connections", int_in(&Config::apns, &ApnsConfig::connections, 1, 64)},
        {"apns", "max_attempts", int_in(&Config::apns, &ApnsConfig::max_attempts, 1, 100)},
        {"apns", "retry_base_ms", dur_in(&Config::apns, &ApnsConfig::retry_base, 10, 3600000)},
        {"apns", "retry_max_ms", dur_in(&Config::apns, &ApnsConfig::retry_max, 10, 86400000)},
        {"apns", "timeout_ms", dur_in(&Config::apns, &ApnsConfig::request_timeout, 100, 600000)},
        {"apns", "identity_pause_ms",
         dur_in(&Config::apns, &ApnsConfig::identity_pause, 100, 86400000)},
        {"apns", "claim_lease_ms", dur_in(&Config::apns, &ApnsConfig::claim_lease, 1000, 3600000)},
        {"google", "issuer_id", str_in(&Config::google, &GoogleConfig::issuer_id)},
        {"google", "service_account", str_in(&Config::google, &GoogleConfig::service_account)},
        {"google", "api_base", str_in(&Config::google, &GoogleConfig::api_base)},
        {"google", "token_url", str_in(&Config::google, &GoogleConfig::token_url)},
        {"google", "ca_file", str_in(&Config::google, &GoogleConfig::ca_file)},
        {"google", "callbacks",
         [](Config& c, const Raw& v, const std::string& k) { c.google.callbacks = as_bool(v, k); }},
        {"google", "callback_keys", str_in(&Config::google, &GoogleConfig::callback_keys)},
        {"templates", "dir", str(&Config::templates_dir)},
        {"enrollment", "max_code_attempts",
         int_in(&Config::enrollment, &EnrollmentConfig::max_code_attempts, 1, 20)},
        {"enrollment", "codes_per_destination",
         int_in(&Config::enrollment, &EnrollmentConfig::codes_per_destination, 1, 1000)},
        {"enrollment", "codes_per_ip",
         int_in(&Config::enrollment, &EnrollmentConfig::codes_per_ip, 1, 100000)},
        {"enrollment", "trust_forwarded_for",
         [](Config& c, const Raw& v, const std::string& k) {
             c.enrollment.trust_forwarded_for = as_bool(v, k);
         }},
        {"server", "trust_forwarded_for",
         [](Config& c, const Raw& v, const std::string& k) {
             c.enrollment.trust_forwarded_for = c.enrollment.trust_forwarded_for || as_bool(v, k);
         }},
        {"limits", "ip_per_minute",
         int_in(&Config::limits, &LimitsConfig::ip_per_minute, 0, 100'000'000)},
        {"limits", "ip_burst", int_in(&Config::limits, &LimitsConfig::ip_burst, 1, 100'000'000)},
        {"limits", "key_per_minute",
         int_in(&Config::limits, &LimitsConfig::key_per_minute, 0, 100'000'000)},
        {"limits", "key_burst", int_in(&Config::limits, &LimitsConfig::key_burst, 1, 100'000'000)},
        {"limits", "auth_failures",
         int_in(&Config::limits, &LimitsConfig::auth_failures, 0, 1'000'000)},
        {"limits", "auth_failures_per_minute",
         int_in(&Config::limits, &LimitsConfig::auth_failures_per_minute, 1, 1'000'000)},
        {"limits", "joins_per_hour",
         int_in(&Config::limits, &LimitsConfig::joins_per_hour, 0, 100'000'000)},
        {"limits", "join_burst", int_in(&Config::limits, &LimitsConfig::join_burst, 1, 1'000'000)},
        {"limits", "max_cards_per_program",
         int_in(&Config::limits, &LimitsConfig::max_cards_per_program, 0,
                std::int64_t{1'000'000'000'000})},
        {"limits", "max_devices_per_pass",
         int_in(&Config::limits, &LimitsConfig::max_devices_per_pass, 0, 1'000'000)},
        {"rollouts", "chunk", int_in(&Config::rollouts, &RolloutsConfig::chunk, 1, 100000)},
        {"rollouts", "cards_per_second",
         int_in(&Config::rollouts, &RolloutsConfig::cards_per_second, 0, 10000000)},
        {"relays", "walletunion_url", str_in(&Config::relays, &RelaysConfig::walletunion_url)},
        {"relays", "walletunion_key", str_in(&Config::relays, &RelaysConfig::walletunion_key)},
        {"relays", "walletpasses_url", str_in(&Config::relays, &RelaysConfig::walletpasses_url)},
        {"relays", "walletpasses_key", str_in(&Config::relays, &RelaysConfig::walletpasses_key)},
        {"relays", "walletpasses_enabled",
         [](Config& c, const Raw& v, const std::string& k) {
             c.relays.walletpasses_enabled = as_bool(v, k);
         }},
        {"relays", "pass2u_url", str_in(&Config::relays, &RelaysConfig::pass2u_url)},
        {"relays", "pass2u_key", str_in(&Config::relays, &RelaysConfig::pass2u_key)},
        {"relays", "passwallet_enabled",
         [](Config& c, const Raw& v, const std::string& k) {
             c.relays.passwallet_enabled = as_bool(v, k);
         }},
        {"relays", "passwallet_hosts", str_in(&Config::relays, &RelaysConfig::passwallet_hosts)},
        {"relays", "ca_file", str_in(&Config::relays, &RelaysConfig::ca_file)},
        {"relays", "walletunion_fcm_batch",
         int_in(&Config::relays, &RelaysConfig::walletunion_fcm_batch, 1, 50)},
        {"relays", "walletunion_hms_batch",
         int_in(&Config::relays, &RelaysConfig::walletunion_hms_batch, 1, 1000)},
        {"relays", "walletpasses_batch",
         int_in(&Config::relays, &RelaysConfig::walletpasses_batch, 1, 10000)},
        {"relays", "pass2u_batch", int_in(&Config::relays, &RelaysConfig::pass2u_batch, 1, 1000)},
        {"relays", "passwallet_batch",
         int_in(&Config::relays, &RelaysConfig::passwallet_batch, 1, 10000)},
        {"relays", "timeout_ms", dur_in(&Config::relays, &RelaysConfig::timeout, 100, 600000)},
        {"passes", "cache_mb",
         [](Config& c, const Raw& v, const std::string& k) {
             c.passes.cache_bytes = static_cast<std::size_t>(as_int(v, k, 0, 65536)) * 1024 * 1024;
         }},
        {"log", "level",
         [](Config& c, const Raw& v, const std::string& k) {
             std::string l = as_string(v, k);
             if (l != "debug" && l != "info" && l != "warn" && l != "error") {
                 fail(k, "must be debug, info, warn or error");
             }
             c.log_level = l;
         }},
        {"log", "format",
         [](Config& c, const Raw& v, const std::string& k) {
             std::string f = as_string(v, k);
             if (f != "text" && f != "json") {
                 fail(k, "must be text or json");
             }
             c.log_format = f;
         }},
    };
    return kSpecs;
}

const KeySpec* find_spec(std::string_view section, std::string_view key) {
    for (const auto& s : specs()) {
        if (s.section == section && s.key == key) {
            return &s;
        }
    }
    return nullptr;
}

std::string env_name(std::string_view section, std::string_view key) {
    std::string out = "CARDSMITH_";
    for (char ch : std::string(section) + "_" + std::string(key)) {
        out += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    }
    return out;
}

Raw raw_from_node(const toml::node& node, const std::string& name) {
    if (const auto* s = node.as_string()) {
        return Raw{s->get()};
    }
    if (const auto* i = node.as_integer()) {
        return Raw{i->get()};
    }
    if (const auto* b = node.as_boolean()) {
        return Raw{b->get()};
    }
    fail(name, "must be a string or an integer");
}

// Control characters escaped, so a message stays one line.
std::string one_line(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (ch == '\n') {
            out += "\\n";
        } else if (ch == '\r') {
            out += "\\r";
        } else if (ch == '\t') {
            out += "\\t";
        } else if (c < 0x20 || c == 0x7f) {
            constexpr std::string_view kHex = "0123456789abcdef";
            out += "\\x";
            out += kHex[c >> 4];
            out += kHex[c & 0xf];
        } else {
            out += ch;
        }
    }
    return out;
}

// Keys that only make sense together, checked once the file and the environment are in.
void check_tls(const ServerConfig& s) {
    if (s.tls_cert.empty() != s.tls_key.empty()) {
        fail(s.tls_cert.empty() ? "server.tls_cert" : "server.tls_key",
             std::string("must be set together with ") +
                 (s.tls_cert.empty() ? "server.tls_key" : "server.tls_cert") +
                 " (both for HTTPS, neither for plain HTTP)");
    }
    // The listener then speaks HTTPS only: http:// links in passes, pages and QR codes
    // would point at a port that does not answer them.
    if (s.tls() && s.public_url.rfind("http://", 0) == 0) {
        fail("server.public_url",
             "must be https:// when server.tls_cert and server.tls_key are set (the listener "
             "speaks HTTPS only), got '" +
                 s.public_url + "'");
    }
}

}  // namespace

ConfigError::ConfigError(const std::string& message) : std::runtime_error(one_line(message)) {}

Environment process_environment() {
    Environment env;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        std::string_view kv(*e);
        if (kv.rfind("CARDSMITH_", 0) != 0) {
            continue;
        }
        auto eq = kv.find('=');
        if (eq != std::string_view::npos) {
            env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
        }
    }
    return env;
}

Config parse(std::string_view toml_text, const std::string& origin, const Environment& env) {
    Config cfg;
    toml::table root;
    try {
        root = toml::parse(toml_text, std::string_view(origin));
    } catch (const toml::parse_error& e) {
        std::ostringstream msg;
        msg << origin << ":" << e.source().begin.line << ": " << e.description();
        throw ConfigError(msg.str());
    }
    for (const auto& [section, node] : root) {
        std::string sec(section.str());
        const auto* table = node.as_table();
        if (table == nullptr) {
            fail(sec, "unknown key (expected a [section])");
        }
        for (const auto& [key, value] : *table) {
            std::string name = sec + "." + std::string(key.str());
            const KeySpec* spec = find_spec(sec, key.str());
            if (spec == nullptr) {
                fail(name, "unknown key");
            }
            spec->set(cfg, raw_from_node(value, name), name);
        }
    }
    for (const auto& spec : specs()) {
        auto it = env.find(env_name(spec.section, spec.key));
        if (it != env.end()) {
            spec.set(cfg, Raw{it->second}, it->first);
        }
    }
    check_tls(cfg.server);
    return cfg;
}

Config load(const std::filesystem::path& path, const Environment& env) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw ConfigError(path.string() + ": cannot read config file");
    }
    std::stringstream ss;
    ss << in.rdbuf();
    Config cfg = parse(ss.str(), path.string(), env);
    cfg.file = path;
    return cfg;
}

}  // namespace cardsmith::config
