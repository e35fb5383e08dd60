// The command line: exit statuses and one-line errors (CONTRACT §1), graceful shutdown.
#include <boost/test/unit_test.hpp>
#include <fstream>

#include "http_client.hpp"
#include "server_process.hpp"

using namespace cardsmith;

namespace {
int lines(const std::string& s) {
    int n = 0;
    for (char c : s) n += c == '\n';
    return n;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(server_cli)

BOOST_AUTO_TEST_CASE(version_and_help) {
    auto v = test::run_cardsmith({"--version"});
    BOOST_TEST(v.exit_code == 0);
    BOOST_TEST(v.out.find("cardsmith ") == 0u);
    auto h = test::run_cardsmith({"--help"});
    BOOST_TEST(h.exit_code == 0);
    BOOST_TEST(h.out.find("check-template") != std::string::npos);
    auto bad = test::run_cardsmith({"frobnicate"});
    BOOST_TEST(bad.exit_code == 2);
    BOOST_TEST(lines(bad.out) == 1);
}

BOOST_AUTO_TEST_CASE(bad_config_exits_2_naming_the_key_or_file) {
    test::TempDir dir;
    auto cfg = dir.path() / "c.toml";
    std::ofstream(cfg) << "[server]\nlisten = \"127.0.0.1:0\"\nthreadz = 2\n";
    auto r = test::run_cardsmith({"serve", "--config", cfg.string()});
    BOOST_TEST(r.exit_code == 2);
    BOOST_TEST(lines(r.out) == 1);
    BOOST_TEST(r.out.find("server.threadz") != std::string::npos);

    auto missing = test::run_cardsmith({"serve", "--config", (dir.path() / "nope.toml").string()});
    BOOST_TEST(missing.exit_code == 2);
    BOOST_TEST(missing.out.find("nope.toml") != std::string::npos);

    std::ofstream(cfg, std::ios::trunc) << "[apple]\ncert = \"/nonexistent/pass.pem\"\n";
    auto unreadable = test::run_cardsmith({"serve", "--config", cfg.string()});
    BOOST_TEST(unreadable.exit_code == 2);
    BOOST_TEST(lines(unreadable.out) == 1);
    BOOST_TEST(unreadable.out.find("/nonexistent/pass.pem") != std::string::npos);

    auto env = test::run_cardsmith({"migrate", "--config", cfg.string()},
                                   {{"CARDSMITH_STORAGE_URL", "mysql://x"}});
    BOOST_TEST(env.exit_code == 2);
    BOOST_TEST(env.out.find("CARDSMITH_STORAGE_URL") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(migrate_and_check_template) {
    test::TempDir dir;
    auto cfg = dir.path() / "c.toml";
    std::ofstream(cfg) << "[storage]\nurl = \"sqlite:" << (dir.path() / "x.db").string() << "\"\n";
    auto m = test::run_cardsmith({"migrate", "--config", cfg.string()});
    BOOST_TEST(m.exit_code == 0, m.out);
    BOOST_TEST(m.out.find("schema at version") != std::string::npos);

    auto ok = test::run_cardsmith(
        {"check-template", std::string(CARDSMITH_SOURCE_DIR) + "/templates/coffee"});
    BOOST_TEST(ok.exit_code == 0, ok.out);
    auto broken = dir.path() / "broken";
    std::filesystem::create_directories(broken);
    std::ofstream(broken / "template.json") << R"({"name": "x", "fields": {"header": 3}})";
    std::ofstream(broken / "notes.txt") << "hi";
    auto bad = test::run_cardsmith({"check-template", broken.string()});
    BOOST_TEST(bad.exit_code == 1);
    BOOST_TEST(bad.out.find("icon.png") != std::string::npos);
    BOOST_TEST(bad.out.find("notes.txt") != std::string::npos);
    BOOST_TEST(bad.out.find("description") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(dev_certs_twice_is_a_no_op) {
    test::TempDir dir;
    auto out = (dir.path() / "certs").string();
    auto first = test::run_cardsmith({"dev-certs", "--out", out});
    BOOST_TEST(first.exit_code == 0, first.out);
    auto before = std::filesystem::last_write_time(dir.path() / "certs/pass.pem");
    auto second = test::run_cardsmith({"dev-certs", "--out", out});
    BOOST_TEST(second.exit_code == 0);
    BOOST_TEST(second.out.find("already exist") != std::string::npos);
    BOOST_TEST((std::filesystem::last_write_time(dir.path() / "certs/pass.pem") == before));
}

BOOST_AUTO_TEST_CASE(sigterm_shuts_down_cleanly_and_logs_no_secrets) {
    test::ServerProcess server;
    {
        test::Client client(server.port());
        BOOST_TEST(client.get("/api/v1/programs/x", server.admin_key()).result_int() == 404);
    }
    BOOST_TEST(server.stop() == 0);
    auto log = server.log();
    BOOST_TEST(log.find("stopped") != std::string::npos);
    BOOST_TEST(log.find(server.admin_key()) == std::string::npos);
    BOOST_TEST(log.find("route=/api/v1/programs/{slug}") != std::string::npos);  // access log
}

BOOST_AUTO_TEST_SUITE_END()
