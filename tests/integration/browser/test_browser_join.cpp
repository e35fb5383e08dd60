// The enrollment flow in a real browser: the real server, headless Debian Chromium driven by
// tests/browser/join_flow.mjs (playwright-core), then the API and the downloaded pass to
// confirm the card the browser made. Screenshots land in build*/artifacts/browser/.
#include <sys/wait.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "http_client.hpp"
#include "pkpass_reader.hpp"
#include "server_process.hpp"

using namespace cardsmith;
namespace json = boost::json;
namespace fs = std::filesystem;
using test::bhttp::verb;

namespace {

const fs::path kScripts = fs::path(CARDSMITH_SOURCE_DIR) / "tests/browser";
const fs::path kArtifacts = CARDSMITH_BROWSER_ARTIFACTS;

std::string chromium_path() {
    const char* env = std::getenv("CARDSMITH_CHROMIUM");
    return env != nullptr && *env != '\0' ? env : "/usr/bin/chromium";
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// A port free right now, so the server's public_url (the links on its pages) can name the
// port the browser reaches it on.
unsigned short free_port() {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor acceptor(
        io, {boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(0)});
    return acceptor.local_endpoint().port();
}

struct Run {
    int exit_code = -1;
    std::string out;  // stdout and stderr together
};

Run run_shell(const std::string& cmd) {
    Run r;
    FILE* pipe = popen((cmd + " 2>&1").c_str(), "r");
    BOOST_REQUIRE(pipe != nullptr);
    char buf[4096];
    while (std::fgets(buf, sizeof buf, pipe) != nullptr) r.out += buf;
    const int status = pclose(pipe);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

std::string quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// The script's one-line JSON summary: the last line that starts with '{'.
json::object summary_of(const std::string& out) {
    std::istringstream lines(out);
    std::string line, last;
    while (std::getline(lines, line)) {
        if (line.rfind('{', 0) == 0) last = line;
    }
    BOOST_REQUIRE_MESSAGE(!last.empty(), "join_flow.mjs printed no JSON summary:\n" + out);
    return json::parse(last).as_object();
}

void require_browser_tools() {
    const std::string hint =
        " (scripts/test.sh installs it: scripts/deps.sh the Debian packages, "
        "`npm ci --prefix tests/browser` playwright-core)";
    BOOST_REQUIRE_MESSAGE(run_shell("command -v node").exit_code == 0, "node is missing" + hint);
    BOOST_REQUIRE_MESSAGE(
        fs::exists(kScripts / "node_modules/playwright-core/package.json"),
        (kScripts / "node_modules/playwright-core").string() + " is missing" + hint);
    BOOST_REQUIRE_MESSAGE(fs::exists(chromium_path()), chromium_path() + " is missing" + hint);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(browser)

BOOST_AUTO_TEST_CASE(customer_joins_on_a_phone_and_gets_the_wallet_pass) {
    require_browser_tools();
    const std::string listen = "127.0.0.1:" + std::to_string(free_port());
    const std::string base = "http://" + listen;
    test::ServerProcess server(
        "", {{"CARDSMITH_SERVER_LISTEN", listen}, {"CARDSMITH_SERVER_PUBLIC_URL", base}});
    BOOST_REQUIRE_EQUAL("127.0.0.1:" + std::to_string(server.port()), listen);
    test::Client client(server.port());

    auto m = client.post_json("/api/v1/merchants", {{"name", "Bean"}}, server.admin_key());
    BOOST_REQUIRE_EQUAL(m.result_int(), 201);
    const std::string key(test::json_of(m).at("apiKey").as_string());
    auto p =
        client.post_json("/api/v1/programs",
                         {{"slug", "bean"}, {"name", "Bean There"}, {"template", "coffee"}}, key);
    BOOST_REQUIRE_MESSAGE(p.result_int() == 201, p.body());
    auto e = client.request(
        verb::put, "/api/v1/programs/bean/enrollment",
        R"({"fields":{"name":"required","phone":"optional","email":"optional","birthday":"off"},
            "termsUrl":"https://bean.example/terms","language":"en"})",
        {{"Authorization", "Bearer " + key}, {"Content-Type", "application/json"}});
    BOOST_REQUIRE_MESSAGE(e.result_int() == 200, e.body());

    fs::create_directories(kArtifacts);
    for (const char* name : {"join.png", "join-error.png", "card.png", "fail.png", "card.pkpass"}) {
        fs::remove(kArtifacts / name);
    }
    // `timeout` backs up the script's own deadlines, so a stuck browser cannot outlive ctest's.
    const std::string script = (kScripts / "join_flow.mjs").string();
    const auto run = run_shell("timeout -k 5 230 node " + quote(script) + " " + quote(base) +
                               " bean " + quote(kArtifacts.string()) + " 'Bean There'");
    BOOST_TEST_MESSAGE(run.out);
    BOOST_REQUIRE_MESSAGE(run.exit_code == 0, "join_flow.mjs exited " +
                                                  std::to_string(run.exit_code) + ":\n" + run.out +
                                                  "\nserver log:\n" + server.log());
    const auto summary = summary_of(run.out);
    BOOST_TEST(summary.at("ok").as_bool());

    for (const char* name : {"join.png", "join-error.png", "card.png"}) {
        const auto png = read_file(kArtifacts / name);
        BOOST_TEST_CONTEXT(name) {
            BOOST_TEST(png.size() > 10000u);
            BOOST_TEST(png.rfind("\x89PNG\r\n\x1a\n", 0) == 0u);
        }
    }

    // The card the browser made, as the merchant's API sees it.
    const std::string number(summary.at("cardNumber").as_string());
    auto card = client.get("/api/v1/cards/" + number, key);
    BOOST_REQUIRE_MESSAGE(card.result_int() == 200, card.body());
    const auto card_json = test::json_of(card);
    const auto& c = card_json.as_object();
    BOOST_TEST(c.at("cardNumber").as_string() == number);
    BOOST_TEST(c.at("serial").as_string() == summary.at("serial").as_string());
    BOOST_TEST(c.at("holder").at("name").as_string() == "Zoë Example");
    BOOST_TEST(c.at("holder").at("email").as_string() == "zoe@example.com");
    BOOST_TEST(c.at("holder").at("phone").as_string() == "+4915123456789");

    // The pass the browser fetched from the wallet link is that card's, signed.
    const auto files = test::unzip(read_file(kArtifacts / "card.pkpass"));
    const auto pass = json::parse(files.at("pass.json")).as_object();
    BOOST_TEST(pass.at("serialNumber").as_string() == summary.at("serial").as_string());
    BOOST_TEST(files.at("pass.json").find(number) != std::string::npos);
    const auto sig =
        test::verify_signature(files.at("signature"), files.at("manifest.json"), server.root_ca());
    BOOST_CHECK_MESSAGE(sig.verified, sig.error);
}

BOOST_AUTO_TEST_SUITE_END()
