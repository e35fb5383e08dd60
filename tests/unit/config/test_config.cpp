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

// Found by fuzz_config: the TOML parser's error quoted the character it saw, a newline
// included, and values were quoted as given, so the "one line on stderr" (exit status 2)
// could be several, or forge a log line.
BOOST_AUTO_TEST_CASE(errors_are_one_line) {
    const std::string syntax = error_of("[log]\nlevel = f\n");
    BOOST_TEST(syntax.find("test.toml:2") == 0u);
    BOOST_TEST(syntax.find('\n') == std::string::npos, syntax);
    const std::string value = error_of("", {{"CARDSMITH_SERVER_THREADS", "4\nfake: line\r"}});
    BOOST_TEST(value.find("CARDSMITH_SERVER_THREADS") == 0u);
    BOOST_TEST(value.find('\n') == std::string::npos, value);
    BOOST_TEST(value.find('\r') == std::string::npos, value);
    BOOST_TEST(value.find("4\\nfake: line\\r") != std::string::npos, value);  // shown escaped
    const std::string listen = error_of("[server]\nlisten = \"a\\u0001b\"\n");
    BOOST_TEST(listen.find("\\x01") != std::string::npos, listen);
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

BOOST_AUTO_TEST_SUITE(config_tls)

BOOST_AUTO_TEST_CASE(off_by_default_on_with_both_files) {
    BOOST_TEST(!parse("", "t", {}).server.tls());
    auto c = parse(R"(
[server]
public_url = "https://cards.example.com"
tls_cert = "/etc/cardsmith/fullchain.pem"
tls_key = "/etc/cardsmith/privkey.pem"
)",
                   "t", {});
    BOOST_TEST(c.server.tls());
    BOOST_TEST(c.server.tls_cert == "/etc/cardsmith/fullchain.pem");
    BOOST_TEST(c.server.tls_key == "/etc/cardsmith/privkey.pem");
}

BOOST_AUTO_TEST_CASE(environment_sets_and_clears_them) {
    auto c = parse("[server]\npublic_url = \"https://x.example\"\n", "t",
                   {{"CARDSMITH_SERVER_TLS_CERT", "a.pem"}, {"CARDSMITH_SERVER_TLS_KEY", "a.key"}});
    BOOST_TEST(c.server.tls());
    BOOST_TEST(c.server.tls_cert == "a.pem");
    BOOST_TEST(c.server.tls_key == "a.key");
    // Empty values in the environment turn TLS off again (both, or it is an error).
    auto off = parse(
        "[server]\ntls_cert = \"a.pem\"\ntls_key = \"a.key\"\npublic_url = \"https://x.example\"\n",
        "t", {{"CARDSMITH_SERVER_TLS_CERT", ""}, {"CARDSMITH_SERVER_TLS_KEY", ""}});
    BOOST_TEST(!off.server.tls());
}

BOOST_AUTO_TEST_CASE(one_without_the_other_names_the_missing_key) {
    const std::string https = "[server]\npublic_url = \"https://x.example\"\n";
    BOOST_TEST(error_of(https + "tls_cert = \"a.pem\"\n").find("server.tls_key: must be set") ==
               0u);
    BOOST_TEST(error_of(https + "tls_key = \"a.key\"\n").find("server.tls_cert: must be set") ==
               0u);
    BOOST_TEST(error_of(https, {{"CARDSMITH_SERVER_TLS_CERT", "a.pem"}}).find("server.tls_key") ==
               0u);
    BOOST_TEST(error_of("[server]\ntls_cert = 5\n").find("server.tls_cert: must be a string") ==
               0u);
}

BOOST_AUTO_TEST_CASE(an_http_public_url_is_refused_with_tls) {
    // The default public_url is http://: turning TLS on without changing it is a mistake.
    const auto message = error_of(
        "", {{"CARDSMITH_SERVER_TLS_CERT", "a.pem"}, {"CARDSMITH_SERVER_TLS_KEY", "a.key"}});
    BOOST_TEST(message.find("server.public_url: must be https://") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
