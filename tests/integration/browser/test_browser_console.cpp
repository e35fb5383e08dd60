// The merchant console (/console) in a real browser: the real server with a slow rollout
// pace (so the progress bar has steps to show), a merchant, a program and a few cards made
// through the API, then tests/browser/console_flow.mjs (headless Chromium, playwright-core)
// signs in, redesigns, publishes, sends a campaign and adjusts a card; the API confirms
// what the browser did. Screenshots land in build*/artifacts/browser/console-*.png.
// A second case checks the page's headers and assets and GET /api/v1/programs without a
// browser.
#include <sys/wait.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "http_client.hpp"
#include "server_process.hpp"

using namespace cardsmith;
namespace json = boost::json;
namespace fs = std::filesystem;
using test::bhttp::verb;

namespace {

const fs::path kScripts = fs::path(CARDSMITH_SOURCE_DIR) / "tests/browser";
const fs::path kArtifacts = CARDSMITH_BROWSER_ARTIFACTS;
constexpr int kCards = 25;

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

json::object summary_of(const std::string& out) {
    std::istringstream lines(out);
    std::string line, last;
    while (std::getline(lines, line)) {
        if (line.rfind('{', 0) == 0) last = line;
    }
    BOOST_REQUIRE_MESSAGE(!last.empty(), "console_flow.mjs printed no JSON summary:\n" + out);
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

std::string new_merchant(test::Client& client, const test::ServerProcess& server,
                         const std::string& name) {
    auto m = client.post_json("/api/v1/merchants", {{"name", name}}, server.admin_key());
    BOOST_REQUIRE_EQUAL(m.result_int(), 201);
    return std::string(test::json_of(m).at("apiKey").as_string());
}

void new_program(test::Client& client, const std::string& key, const std::string& slug) {
    auto p = client.post_json(
        "/api/v1/programs", {{"slug", slug}, {"name", "Bean There"}, {"template", "coffee"}}, key);
    BOOST_REQUIRE_MESSAGE(p.result_int() == 201, p.body());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(browser)

BOOST_AUTO_TEST_CASE(merchant_redesigns_publishes_and_sends_a_campaign_in_the_console) {
    require_browser_tools();
    const std::string listen = "127.0.0.1:" + std::to_string(free_port());
    const std::string base = "http://" + listen;
    // Five cards a second: a rollout of the cards below takes about five seconds, so
    // the progress bar shows steps between 0 and 100 %.
    test::ServerProcess server(
        "[rollouts]\ncards_per_second = 5\n",
        {{"CARDSMITH_SERVER_LISTEN", listen}, {"CARDSMITH_SERVER_PUBLIC_URL", base}});
    test::Client client(server.port());
    const std::string key = new_merchant(client, server, "Bean");
    new_program(client, key, "bean");
    std::vector<std::string> numbers;
    for (int i = 1; i <= kCards; ++i) {
        auto c = client.post_json("/api/v1/programs/bean/cards",
                                  {{"holder",
                                    {{"name", "Holder " + std::to_string(i)},
                                     {"email", "holder" + std::to_string(i) + "@example.com"}}},
                                   {"balance", 10 * i}},
                                  key);
        BOOST_REQUIRE_MESSAGE(c.result_int() == 201, c.body());
        numbers.emplace_back(test::json_of(c).at("cardNumber").as_string());
    }
    for (int i = 0; i < 3; ++i) {
        auto t = client.post_json(
            "/api/v1/cards/" + numbers[static_cast<std::size_t>(i)] + "/transactions",
            {{"points", 300 * (i + 1)}, {"note", "seed"}}, key);
        BOOST_REQUIRE_MESSAGE(t.result_int() == 201, t.body());
    }

    fs::create_directories(kArtifacts);
    for (const auto& entry : fs::directory_iterator(kArtifacts)) {
        if (entry.path().filename().string().rfind("console-", 0) == 0) {
            fs::remove(entry.path());
        }
    }
    const std::string script = (kScripts / "console_flow.mjs").string();
    const auto run = run_shell("timeout -k 5 260 node " + quote(script) + " " + quote(base) +
                               " bean " + quote(key) + " " + quote(kArtifacts.string()));
    BOOST_TEST_MESSAGE(run.out);
    BOOST_REQUIRE_MESSAGE(run.exit_code == 0, "console_flow.mjs exited " +
                                                  std::to_string(run.exit_code) + ":\n" + run.out +
                                                  "\nserver log:\n" + server.log());
    const auto summary = summary_of(run.out);
    BOOST_TEST(summary.at("ok").as_bool());
    for (const char* name :
         {"console-signin.png", "console-dashboard.png", "console-design.png",
          "console-rollout-done.png", "console-campaign-compose.png", "console-campaign.png",
          "console-card.png", "console-tablet-design.png", "console-tablet-campaigns.png"}) {
        const auto png = read_file(kArtifacts / name);
        BOOST_TEST_CONTEXT(name) {
            BOOST_TEST(png.size() > 10000u);
            BOOST_TEST(png.rfind("\x89PNG\r\n\x1a\n", 0) == 0u);
        }
    }

    // What the browser did, as the API sees it: the published design...
    const auto program = test::json_of(client.get("/api/v1/programs/bean", key));
    BOOST_TEST(program.at("designVersion").as_int64() >= 3);  // the checked draft, then this
    BOOST_TEST(program.at("design").at("colors").at("background").as_string() == "#0A5C36");
    BOOST_TEST(program.at("design").at("logoText").as_string() == "Bean <b>There</b> & \"Co\"");
    const auto rollouts = test::json_of(client.get("/api/v1/programs/bean/rollouts", key));
    const auto& last = rollouts.at("rollouts").as_array().at(0).as_object();
    BOOST_TEST(last.at("state").as_string() == "done");
    BOOST_TEST(last.at("cardsDone").as_int64() == kCards);
    // ...the campaign, sent to every card...
    const auto campaigns = test::json_of(client.get("/api/v1/programs/bean/campaigns", key));
    const auto& campaign = campaigns.at("campaigns").as_array().at(0).as_object();
    BOOST_TEST(campaign.at("message").as_string() == "Double points on every latte today");
    BOOST_TEST(campaign.at("state").as_string() == "done");
    BOOST_TEST(campaign.at("targeted").as_int64() == kCards);
    BOOST_TEST(summary.at("campaign").at("targeted").as_int64() == kCards);
    // ...and the adjustment, booked once.
    const std::string number(summary.at("card").at("number").as_string());
    const auto history =
        test::json_of(client.get("/api/v1/cards/" + number + "/transactions", key));
    const auto& newest = history.at("transactions").as_array().at(0).as_object();
    BOOST_TEST(newest.at("points").as_int64() == 25);
    BOOST_TEST(newest.at("note").as_string() == "console <test>");
    const auto card = test::json_of(client.get("/api/v1/cards/" + number, key));
    BOOST_TEST(card.at("holder").at("name").as_string() == "Holder 7");
}

BOOST_AUTO_TEST_CASE(console_page_assets_and_program_list) {
    test::ServerProcess server;
    test::Client client(server.port());
    const std::string bean = new_merchant(client, server, "Bean");
    const std::string leaf = new_merchant(client, server, "Leaf");
    new_program(client, bean, "bean");
    new_program(client, bean, "bean-two");
    new_program(client, leaf, "leaf");

    // The page: strict headers, no inline script, assets linked by content hash.
    auto page = client.get("/console");
    BOOST_REQUIRE_EQUAL(page.result_int(), 200);
    const std::string csp(page["Content-Security-Policy"]);
    BOOST_TEST(csp.find("default-src 'none'") != std::string::npos);
    BOOST_TEST(csp.find("script-src 'self';") != std::string::npos);
    BOOST_TEST(csp.find("style-src 'self';") != std::string::npos);
    BOOST_TEST(csp.find("img-src 'self' blob: data:") != std::string::npos);
    BOOST_TEST(csp.find("connect-src 'self'") != std::string::npos);
    BOOST_TEST(csp.find("frame-ancestors 'none'") != std::string::npos);
    BOOST_TEST(csp.find("unsafe") == std::string::npos);
    BOOST_TEST(page["X-Content-Type-Options"] == "nosniff");
    BOOST_TEST(page["Referrer-Policy"] == "no-referrer");
    BOOST_TEST(page[test::bhttp::field::content_type] == "text/html; charset=utf-8");
    const std::string html = page.body();
    BOOST_TEST(html.find("<script>") == std::string::npos);
    BOOST_TEST(html.find("style=") == std::string::npos);
    std::smatch js, css;
    BOOST_REQUIRE(std::regex_search(
        html, js, std::regex(R"re(src="(/assets/console\.js\?v=[0-9a-f]{16})")re")));
    BOOST_REQUIRE(std::regex_search(
        html, css, std::regex(R"re(href="(/assets/console\.css\?v=[0-9a-f]{16})")re")));
    for (const auto& [url, type] : {std::pair{js[1].str(), "text/javascript; charset=utf-8"},
                                    std::pair{css[1].str(), "text/css; charset=utf-8"}}) {
        BOOST_TEST_CONTEXT(url) {
            auto asset = client.get(url);
            BOOST_TEST(asset.result_int() == 200);
            BOOST_TEST(asset[test::bhttp::field::content_type] == type);
            BOOST_TEST(asset[test::bhttp::field::cache_control] ==
                       "public, max-age=31536000, immutable");
            BOOST_TEST(asset["X-Content-Type-Options"] == "nosniff");
            BOOST_TEST(asset.body().size() > 1000u);
        }
    }
    // The script never parses strings as HTML.
    const std::string script = client.get(js[1].str()).body();
    for (const char* sink : {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"}) {
        BOOST_TEST_CONTEXT(sink) { BOOST_TEST(script.find(sink) == std::string::npos); }
    }

    // GET /api/v1/programs: a merchant's own, the admin's all or one merchant's.
    auto slugs = [&](const std::string& target, const std::string& key) {
        auto r = client.get(target, key);
        BOOST_REQUIRE_MESSAGE(r.result_int() == 200, r.body());
        std::vector<std::string> out;
        const auto body = test::json_of(r);
        for (const auto& p : body.at("programs").as_array()) {
            out.emplace_back(p.at("slug").as_string());
            BOOST_TEST(p.as_object().contains("design"));
        }
        return out;
    };
    using V = std::vector<std::string>;
    BOOST_TEST(slugs("/api/v1/programs", bean) == (V{"bean", "bean-two"}),
               boost::test_tools::per_element());
    BOOST_TEST(slugs("/api/v1/programs", leaf) == V{"leaf"}, boost::test_tools::per_element());
    BOOST_TEST(slugs("/api/v1/programs", server.admin_key()) == (V{"bean", "bean-two", "leaf"}),
               boost::test_tools::per_element());
    const auto leaf_id = test::json_of(client.get("/api/v1/programs/leaf", leaf)).at("merchant");
    BOOST_TEST(slugs("/api/v1/programs?merchant=" + json::serialize(leaf_id), server.admin_key()) ==
                   V{"leaf"},
               boost::test_tools::per_element());
    // A merchant key cannot widen its view with ?merchant=.
    BOOST_TEST(slugs("/api/v1/programs?merchant=" + json::serialize(leaf_id), bean) ==
                   (V{"bean", "bean-two"}),
               boost::test_tools::per_element());
    BOOST_TEST(client.get("/api/v1/programs").result_int() == 401);
    BOOST_TEST(client.get("/api/v1/programs?merchant=x", server.admin_key()).result_int() == 422);
}

BOOST_AUTO_TEST_SUITE_END()
