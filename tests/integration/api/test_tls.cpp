// The real server with server.tls_cert / server.tls_key set through the environment
// (CARDSMITH_SERVER_TLS_CERT/KEY): HTTPS on the one listener with the dev PKI's localhost
// certificate, HSTS on its answers, plain HTTP closed, SIGHUP loading a renewed
// certificate, and the start-up errors (exit status 2, one line naming the key).
#include <signal.h>

#include <boost/asio.hpp>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "http_client.hpp"
#include "server_process.hpp"
#include "test_util.hpp"

using namespace cardsmith;
namespace fs = std::filesystem;

namespace {

// ServerProcess runs the server in its own folder, so certs/ is relative to it.
const std::map<std::string, std::string> kTlsEnv = {
    {"CARDSMITH_SERVER_TLS_CERT", "certs/server.pem"},
    {"CARDSMITH_SERVER_TLS_KEY", "certs/server.key"},
    {"CARDSMITH_SERVER_PUBLIC_URL", "https://localhost"}};

std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

int lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

// Sends `data` on a plain TCP connection and reads until the server closes it (at most
// five seconds); returns what came back.
std::string plain_exchange(unsigned short port, const std::string& data) {
    namespace net = boost::asio;
    net::io_context ioc;
    net::ip::tcp::socket socket(ioc);
    socket.connect({net::ip::make_address("127.0.0.1"), port});
    net::write(socket, net::buffer(data));
    std::string got;
    std::array<char, 1024> buf{};
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    socket.non_blocking(true);
    for (;;) {
        boost::system::error_code ec;
        const std::size_t n = socket.read_some(net::buffer(buf), ec);
        if (ec == net::error::would_block) {
            BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline,
                                  "the server kept a plain-HTTP connection open");
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            continue;
        }
        if (ec) {
            return got;
        }
        got.append(buf.data(), n);
    }
}

// A folder with dev certificates and a config that starts (apple identity, templates,
// SQLite), for start-up error checks driven by the environment.
struct StartupDir {
    test::TempDir dir;
    fs::path config = dir.path() / "cardsmith.toml";
    StartupDir() {
        auto made = test::run_cardsmith({"dev-certs", "--out", (dir.path() / "certs").string()});
        BOOST_REQUIRE_EQUAL(made.exit_code, 0);
        const auto certs = dir.path() / "certs";
        std::ofstream(config) << "[server]\nlisten = \"127.0.0.1:0\"\n"
                              << "public_url = \"https://localhost\"\n"
                              << "[storage]\nurl = \"sqlite:" << (dir.path() / "c.db").string()
                              << "\"\n"
                              << "[admin]\nkey = \"test-admin-key-0123456789abcdef\"\n"
                              << "[apple]\ncert = \"" << (certs / "pass.pem").string() << "\"\n"
                              << "key = \"" << (certs / "pass.key").string() << "\"\n"
                              << "wwdr = \"" << (certs / "wwdr.pem").string() << "\"\n"
                              << "[templates]\ndir = \"" << CARDSMITH_SOURCE_DIR
                              << "/templates\"\n";
    }
    [[nodiscard]] std::string cert(const char* name) const {
        return (dir.path() / "certs" / name).string();
    }
    test::CommandResult serve(const std::map<std::string, std::string>& env) const {
        return test::run_cardsmith({"serve", "--config", config.string()}, env);
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(tls_server)

BOOST_AUTO_TEST_CASE(serves_https_with_keep_alive_and_hsts) {
    test::ServerProcess server("", kTlsEnv);
    test::Client client(server.port(), server.root_ca());
    auto health = client.get("/healthz");
    BOOST_REQUIRE_EQUAL(health.result_int(), 200);
    BOOST_TEST(health[test::bhttp::field::strict_transport_security] == "max-age=31536000");
    BOOST_TEST(health["X-Content-Type-Options"] == "nosniff");
    auto merchant = client.post_json("/api/v1/merchants", {{"name", "Bean"}}, server.admin_key());
    BOOST_REQUIRE_EQUAL(merchant.result_int(), 201);
    const std::string key(test::json_of(merchant).at("apiKey").as_string());
    auto program = client.post_json(
        "/api/v1/programs", {{"slug", "bean"}, {"name", "Bean"}, {"template", "coffee"}}, key);
    BOOST_REQUIRE_EQUAL(program.result_int(), 201);
    auto page = client.get("/join/bean");
    BOOST_REQUIRE_EQUAL(page.result_int(), 200);
    BOOST_TEST(page[test::bhttp::field::strict_transport_security] == "max-age=31536000");
    // Links point at the https:// public_url.
    BOOST_TEST(test::json_of(program).at("links").at("join").as_string().starts_with(
        "https://localhost/"));
    BOOST_TEST(client.connects() == 1);  // every request on one kept-alive connection
    BOOST_TEST(server.log().find("tls=on") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(plain_http_on_the_https_port_is_closed) {
    test::ServerProcess server("", kTlsEnv);
    const std::string got =
        plain_exchange(server.port(), "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    BOOST_TEST(got.find("HTTP/1.1") == std::string::npos);  // no HTTP answer, a TLS alert at most
    test::Client client(server.port(), server.root_ca());
    BOOST_TEST(client.get("/healthz").result_int() == 200);
    BOOST_TEST(server.log().find("tls handshake failed") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(sighup_loads_a_renewed_certificate) {
    test::ServerProcess server("", kTlsEnv);
    test::Client before(server.port(), server.root_ca());
    BOOST_REQUIRE_EQUAL(before.get("/healthz").result_int(), 200);
    const auto certs = server.dir() / "certs";
    BOOST_TEST(before.peer_certificate_pem() == read(certs / "server.pem"));
    // A renewal: another certificate for localhost (from another dev PKI, so it differs in
    // every byte), written over the files, then SIGHUP.
    test::TempDir other;
    BOOST_REQUIRE_EQUAL(
        test::run_cardsmith({"dev-certs", "--out", (other.path() / "c").string()}).exit_code, 0);
    const std::string renewed = read(other.path() / "c/server.pem");
    fs::copy_file(other.path() / "c/server.pem", certs / "server.pem",
                  fs::copy_options::overwrite_existing);
    fs::copy_file(other.path() / "c/server.key", certs / "server.key",
                  fs::copy_options::overwrite_existing);
    BOOST_REQUIRE(kill(server.pid(), SIGHUP) == 0);
    BOOST_REQUIRE(test::eventually(
        [&] { return server.log().find("server TLS certificate reloaded") != std::string::npos; }));
    // The other PKI has its own root; trust it for the new connection.
    test::Client after(server.port(), (other.path() / "c/root-ca.pem").string());
    BOOST_REQUIRE_EQUAL(after.get("/healthz").result_int(), 200);
    BOOST_TEST(after.peer_certificate_pem() == renewed);
    // The connection made before keeps working.
    BOOST_TEST(before.get("/healthz").result_int() == 200);
    BOOST_TEST(before.connects() == 1);

    // A broken file on the next SIGHUP: logged, and the current certificate stays.
    std::ofstream(certs / "server.key", std::ios::trunc) << "not a key\n";
    BOOST_REQUIRE(kill(server.pid(), SIGHUP) == 0);
    BOOST_REQUIRE(test::eventually([&] {
        return server.log().find("not reloaded; the previous one stays") != std::string::npos;
    }));
    test::Client still(server.port(), (other.path() / "c/root-ca.pem").string());
    BOOST_TEST(still.get("/healthz").result_int() == 200);
    BOOST_TEST(server.stop() == 0);
}

BOOST_AUTO_TEST_CASE(start_up_errors_name_the_key) {
    StartupDir d;
    // A certificate where the key should be, private to us like a key file must be (the
    // permission check would answer first otherwise).
    const std::string cert_as_key = d.cert("cert-as-key.pem");
    std::filesystem::copy_file(d.cert("server.pem"), cert_as_key);
    std::filesystem::permissions(
        cert_as_key, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    struct Case {
        std::map<std::string, std::string> env;
        std::string expected;
    };
    const std::vector<Case> cases = {
        {{{"CARDSMITH_SERVER_TLS_CERT", d.cert("server.pem")}}, "server.tls_key: must be set"},
        {{{"CARDSMITH_SERVER_TLS_KEY", d.cert("server.key")}}, "server.tls_cert: must be set"},
        {{{"CARDSMITH_SERVER_TLS_CERT", d.cert("missing.pem")},
          {"CARDSMITH_SERVER_TLS_KEY", d.cert("server.key")}},
         "server.tls_cert: " + d.cert("missing.pem")},
        {{{"CARDSMITH_SERVER_TLS_CERT", d.cert("server.key")},
          {"CARDSMITH_SERVER_TLS_KEY", d.cert("server.key")}},
         "server.tls_cert: " + d.cert("server.key") + ": no PEM certificate"},
        {{{"CARDSMITH_SERVER_TLS_CERT", d.cert("server.pem")},
          {"CARDSMITH_SERVER_TLS_KEY", d.cert("missing.key")}},
         "server.tls_key: " + d.cert("missing.key")},
        {{{"CARDSMITH_SERVER_TLS_CERT", d.cert("server.pem")},
          {"CARDSMITH_SERVER_TLS_KEY", cert_as_key}},
         "server.tls_key: " + cert_as_key + ": not a PEM private key"},
        {{{"CARDSMITH_SERVER_TLS_CERT", d.cert("server.pem")},
          {"CARDSMITH_SERVER_TLS_KEY", d.cert("client.key")}},
         "server.tls_key: " + d.cert("client.key") + " is not the private key"},
        {{{"CARDSMITH_SERVER_TLS_CERT", d.cert("server.pem")},
          {"CARDSMITH_SERVER_TLS_KEY", d.cert("server.key")},
          {"CARDSMITH_SERVER_PUBLIC_URL", "http://localhost:8080"}},
         "server.public_url: must be https://"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.expected) {
            const auto r = d.serve(c.env);
            BOOST_TEST(r.exit_code == 2);
            BOOST_TEST(lines(r.out) == 1);
            BOOST_TEST(r.out.find(c.expected) != std::string::npos, r.out);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
