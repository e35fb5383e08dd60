// log.format = "json": the real server writes one parseable JSON object per line, with the
// access log's fields, and no secret.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <sstream>

#include "http_client.hpp"
#include "server_process.hpp"

using namespace cardsmith;
namespace json = boost::json;

BOOST_AUTO_TEST_SUITE(json_log)

BOOST_AUTO_TEST_CASE(server_started_with_json_format_writes_one_object_per_line) {
    test::ServerProcess server("", {{"CARDSMITH_LOG_FORMAT", "json"}});
    std::string merchant_key;
    {
        test::Client client(server.port());
        BOOST_TEST(client.get("/healthz").result_int() == 200);
        auto m = client.post_json("/api/v1/merchants", {{"name", "Quote \" and \\ Cafe"}},
                                  server.admin_key());
        BOOST_REQUIRE_EQUAL(m.result_int(), 201);
        merchant_key = std::string(test::json_of(m).at("apiKey").as_string());
        BOOST_TEST(client.get("/api/v1/programs/nope", merchant_key).result_int() == 404);
    }
    BOOST_TEST(server.stop() == 0);
    const auto log = server.log();

    std::istringstream in(log);
    int lines = 0;
    bool listening = false;
    bool access = false;
    bool stopped = false;
    for (std::string line; std::getline(in, line);) {
        ++lines;
        json::value v;
        BOOST_REQUIRE_NO_THROW(v = json::parse(line));
        BOOST_REQUIRE_MESSAGE(v.is_object(), line);
        const auto& o = v.as_object();
        BOOST_REQUIRE_MESSAGE(o.contains("ts") && o.contains("level") && o.contains("msg"), line);
        BOOST_TEST(o.at("ts").as_string().size() == 24u, line);  // 2026-01-02T03:04:05.678Z
        const auto msg = std::string(o.at("msg").as_string());
        listening = listening || (msg == "listening" && o.contains("port"));
        stopped = stopped || msg == "stopped";
        if (msg == "http" && o.at("route").as_string() == "/api/v1/programs/{slug}") {
            access = true;
            BOOST_TEST(o.at("status").as_string() == "404");
            BOOST_TEST(o.at("method").as_string() == "GET");
            BOOST_TEST(o.contains("ms"));
        }
    }
    BOOST_TEST(lines >= 4);
    BOOST_TEST(listening);
    BOOST_TEST(access);
    BOOST_TEST(stopped);
    BOOST_TEST(log.find(server.admin_key()) == std::string::npos);
    BOOST_TEST(log.find(merchant_key) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(text_stays_the_default) {
    test::ServerProcess server;
    BOOST_TEST(server.stop() == 0);
    const auto log = server.log();
    BOOST_TEST(log.find(" info listening address=127.0.0.1 port=") != std::string::npos, log);
    BOOST_TEST(log.find("{\"ts\"") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_bad_format_is_a_configuration_error) {
    test::TempDir dir;
    const auto cfg = dir.path() / "c.toml";
    std::ofstream(cfg) << "[log]\nlevel = \"info\"\n";
    auto r =
        test::run_cardsmith({"serve", "--config", cfg.string()}, {{"CARDSMITH_LOG_FORMAT", "xml"}});
    BOOST_TEST(r.exit_code == 2);
    BOOST_TEST(r.out.find("CARDSMITH_LOG_FORMAT") != std::string::npos, r.out);
}

BOOST_AUTO_TEST_SUITE_END()
