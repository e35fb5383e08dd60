#include <boost/test/unit_test.hpp>
#include <filesystem>

#include "config/config.hpp"

using namespace cardsmith::config;

namespace {
std::string error_of(const std::string& toml, const Environment& env = {}) {
    try {
        (void)parse(toml, "test.toml", env);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}
}  // namespace

BOOST_AUTO_TEST_SUITE(config)

BOOST_AUTO_TEST_CASE(defaults_and_values) {
    auto c = parse(R"(
[server]
listen = "0.0.0.0:9090"
public_url = "https://cards.example.com/"
threads = 4
[storage]
url = "sqlite:/tmp/x.db"
[apple]
pass_type_id = "pass.com.example"
)",
                   "t", {});
    BOOST_TEST(c.server.listen_host == "0.0.0.0");
    BOOST_TEST(c.server.listen_port == 9090);
    BOOST_TEST(c.server.public_url == "https://cards.example.com");  // trailing slash dropped
    BOOST_TEST(c.server.threads == 4u);
    BOOST_TEST(c.storage.url == "sqlite:/tmp/x.db");
    BOOST_TEST(c.apple.pass_type_id == "pass.com.example");
    BOOST_TEST(c.apns.host == "api.push.apple.com");  // default
    BOOST_TEST(!c.google.enabled());
}

BOOST_AUTO_TEST_CASE(environment_overrides_file) {
    auto c = parse("[apns]\nhost = \"a\"\nport = 443\n", "t",
                   {{"CARDSMITH_APNS_HOST", "127.0.0.1"},
                    {"CARDSMITH_APNS_PORT", "8443"},
                    {"CARDSMITH_SERVER_LISTEN", "[::1]:0"}});
    BOOST_TEST(c.apns.host == "127.0.0.1");
    BOOST_TEST(c.apns.port == 8443);
    BOOST_TEST(c.server.listen_host == "::1");
    BOOST_TEST(c.server.listen_port == 0);
}

BOOST_AUTO_TEST_CASE(key_passphrase_comes_from_a_file) {
    BOOST_TEST(parse("", "t", {}).apple.key_passphrase_file.empty());
    auto c = parse("[apple]\nkey_passphrase_file = \"/run/credentials/pass\"\n", "t", {});
    BOOST_TEST(c.apple.key_passphrase_file == "/run/credentials/pass");
    c = parse("", "t", {{"CARDSMITH_APPLE_KEY_PASSPHRASE_FILE", "/etc/cardsmith/pass"}});
    BOOST_TEST(c.apple.key_passphrase_file == "/etc/cardsmith/pass");
    // There is no key for the passphrase itself.
    BOOST_TEST(error_of("[apple]\nkey_passphrase = \"x\"\n").find("apple.key_passphrase") == 0u);
}

BOOST_AUTO_TEST_CASE(errors_name_the_key) {
    BOOST_TEST(error_of("[server]\nlisten_typo = \"x\"\n").find("server.listen_typo") == 0u);
    BOOST_TEST(error_of("[nosuch]\nx = 1\n").find("nosuch.x") == 0u);
    BOOST_TEST(error_of("[server]\nthreads = \"many\"\n").find("server.threads") == 0u);
    BOOST_TEST(error_of("[server]\nlisten = \"nohost\"\n").find("server.listen") == 0u);
    BOOST_TEST(error_of("[server]\npublic_url = \"ftp://x\"\n").find("server.public_url") == 0u);
    BOOST_TEST(error_of("[apns]\nport = 70000\n").find("apns.port") == 0u);
    BOOST_TEST(error_of("", {{"CARDSMITH_SERVER_THREADS", "x"}}).find("CARDSMITH_SERVER_THREADS") ==
               0u);
    BOOST_TEST(error_of("[server\n").find("test.toml:1") == 0u);  // syntax error with line
    BOOST_TEST(error_of("[admin]\nkey = \"short\"\n").find("admin.key") == 0u);
    BOOST_TEST(error_of("[server]\ninstance = \"two words\"\n").find("server.instance") == 0u);
    BOOST_TEST(error_of("[server]\ninstance = \"\"\n").find("server.instance") == 0u);
    BOOST_TEST(error_of("[apns]\nclaim_lease_ms = 10\n").find("apns.claim_lease_ms") == 0u);
}

BOOST_AUTO_TEST_CASE(instance_name_and_sync) {
    auto c = parse("[server]\ninstance = \"app-1\"\nsync_interval = 2\n", "t",
                   {{"CARDSMITH_APNS_CLAIM_LEASE_MS", "5000"}});
    BOOST_TEST(c.server.instance == "app-1");
    BOOST_TEST(c.server.sync_interval.count() == 2);
    BOOST_TEST(c.apns.claim_lease.count() == 5000);
    BOOST_TEST(parse("", "t", {}).server.instance.empty());  // the app names it host:port
}

BOOST_AUTO_TEST_CASE(missing_file_names_the_file) {
    try {
        (void)load("/nonexistent/cardsmith.toml", {});
        BOOST_FAIL("expected ConfigError");
    } catch (const ConfigError& e) {
        BOOST_TEST(std::string(e.what()).find("/nonexistent/cardsmith.toml") == 0u);
    }
}

BOOST_AUTO_TEST_CASE(shipped_config_loads) {
    auto c = load(std::filesystem::path(CARDSMITH_SOURCE_DIR) / "config/cardsmith.toml", {});
    BOOST_TEST(c.server.listen_port == 8080);
    BOOST_TEST(c.storage.url.rfind("sqlite:", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(log_format_text_by_default_json_on_request) {
    BOOST_TEST(parse("", "t", {}).log_format == "text");
    BOOST_TEST(parse("[log]\nformat = \"json\"\n", "t", {}).log_format == "json");
    BOOST_TEST(parse("", "t", {{"CARDSMITH_LOG_FORMAT", "json"}}).log_format == "json");
    BOOST_TEST(error_of("[log]\nformat = \"xml\"\n").find("log.format") == 0u);
    BOOST_TEST(error_of("", {{"CARDSMITH_LOG_FORMAT", "yaml"}}).find("LOG_FORMAT") !=
               std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
