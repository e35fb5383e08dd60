// The operator's subcommands against the real binary and the database of a running server
// (SQLite; PostgreSQL in the _pg variant): outbox status and retry-dead with rows the
// dispatcher really gave up on, identity list, backup while the server writes.
#include <openssl/x509.h>

#include <atomic>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <thread>

#include "crypto/pem.hpp"
#include "dev_pki.hpp"
#include "fake_apns.hpp"
#include "ops_world.hpp"
#include "pkpass_reader.hpp"

using namespace cardsmith;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

const std::string kToken(64, 'c');

testing::FakeApnsOptions fake_options() {
    auto& pki = test::DevPki::shared();
    testing::FakeApnsOptions o;
    o.cert_file = (pki.dir.path() / "server.pem").string();
    o.key_file = (pki.dir.path() / "server.key").string();
    o.ca_file = pki.root();
    return o;
}

std::string apns_toml(std::uint16_t port) {
    return "[apns]\nhost = \"127.0.0.1\"\nport = " + std::to_string(port) + "\nca_file = \"" +
           test::DevPki::shared().root() + "\"\nconnections = 1\ntimeout_ms = 3000\n";
}

// `cardsmith <args> --config <the server's config>`.
test::CommandResult ops(const test::ServerProcess& server, std::vector<std::string> args) {
    args.push_back("--config");
    args.push_back((server.dir() / "cardsmith.toml").string());
    return test::run_cardsmith(args);
}

// Registers the card's pass on a device for pushes (Apple's web service).
void register_device(test::Shop& shop, const json::object& card, const std::string& token) {
    auto pass = json::parse(test::unzip(shop.pkpass(card))["pass.json"]).as_object();
    const std::string type(pass.at("passTypeIdentifier").as_string());
    const std::string serial(pass.at("serialNumber").as_string());
    auto r = shop.client.request(
        test::bhttp::verb::post, "/apple/v1/devices/d1/registrations/" + type + "/" + serial,
        json::serialize(json::object{{"pushToken", token}}),
        {{"Authorization", "ApplePass " + std::string(pass.at("authenticationToken").as_string())},
         {"Content-Type", "application/json"}});
    BOOST_REQUIRE_EQUAL(r.result_int(), 201);
}

unsigned post_points(test::Client& client, const std::string& key, const json::object& card,
                     int points) {
    return client
        .request(
            test::bhttp::verb::post,
            "/api/v1/cards/" + std::string(card.at("cardNumber").as_string()) + "/transactions",
            json::serialize(json::object{{"points", points}}),
            {{"Authorization", "Bearer " + key}, {"Content-Type", "application/json"}})
        .result_int();
}

long long count(const std::string& db, const std::string& sql) {
    return std::stoll(test::query_text(db, sql));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ops_cli)

BOOST_AUTO_TEST_CASE(help_lists_the_operator_commands_and_usage_errors_exit_2) {
    const auto help = test::run_cardsmith({"--help"});
    for (const char* cmd :
         {"outbox status", "outbox retry-dead", "identity list", "backup --out"}) {
        BOOST_TEST(help.out.find(cmd) != std::string::npos, cmd);
    }
    BOOST_TEST(test::run_cardsmith({"outbox"}).exit_code == 2);
    BOOST_TEST(test::run_cardsmith({"outbox", "frob"}).exit_code == 2);
    BOOST_TEST(test::run_cardsmith({"identity"}).exit_code == 2);
    BOOST_TEST(test::run_cardsmith({"outbox", "status", "--jsn"}).exit_code == 2);
    const auto no_out = test::run_cardsmith({"backup"});
    BOOST_TEST(no_out.exit_code == 2);
    BOOST_TEST(no_out.out.find("--out") != std::string::npos);
    const auto bad_config =
        test::run_cardsmith({"outbox", "status", "--config", "/nonexistent/c.toml"});
    BOOST_TEST(bad_config.exit_code == 2);
    BOOST_TEST(bad_config.out.find("/nonexistent/c.toml") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_missing_sqlite_database_is_not_created) {
    if (test::testing_postgres()) {
        return;  // a SQLite matter
    }
    test::TempDir dir;
    const auto db = dir.path() / "absent.db";
    const auto cfg = dir.path() / "c.toml";
    std::ofstream(cfg) << "[storage]\nurl = \"sqlite:" << db.string() << "\"\n";
    const auto r = test::run_cardsmith({"outbox", "status", "--config", cfg.string()});
    BOOST_TEST(r.exit_code == 1);
    BOOST_TEST(r.out.find("absent.db") != std::string::npos, r.out);
    BOOST_TEST(!std::filesystem::exists(db));
}

BOOST_AUTO_TEST_CASE(outbox_status_and_retry_dead_move_real_dead_rows) {
    testing::FakeApns apns(fake_options());
    test::ServerProcess server(apns_toml(apns.port()), {}, test::DevPki::shared().dir.path());
    test::Shop shop(server);
    auto card = shop.card("anna@example.com");
    register_device(shop, card, kToken);

    auto empty = ops(server, {"outbox", "status"});
    BOOST_TEST(empty.exit_code == 0, empty.out);
    BOOST_TEST(empty.out.find("0 pending (0 due now), 0 sending, 0 dead") != std::string::npos,
               empty.out);

    // APNs rejects the request for good (400 BadExpirationDate): the dispatcher leaves it dead.
    apns.reply_all({400, "BadExpirationDate", std::nullopt, 0});
    BOOST_REQUIRE_EQUAL(post_points(shop.client, shop.key, card, 5), 201u);
    const auto& db = server.storage_url();
    BOOST_REQUIRE(test::eventually(
        [&] { return count(db, "SELECT COUNT(*) FROM outbox WHERE state = 'dead'") == 1; }));

    auto text = ops(server, {"outbox", "status"});
    BOOST_TEST(text.exit_code == 0, text.out);
    BOOST_TEST(text.out.find("0 pending (0 due now), 0 sending, 1 dead") != std::string::npos,
               text.out);
    BOOST_TEST(text.out.find("KIND") != std::string::npos);
    BOOST_TEST(text.out.find("BadExpirationDate") != std::string::npos);
    BOOST_TEST(text.out.find(kToken) == std::string::npos);  // a prefix only
    BOOST_TEST(text.out.find("cccccccc...") != std::string::npos);

    auto js = ops(server, {"outbox", "status", "--json"});
    BOOST_TEST(js.exit_code == 0, js.out);
    const auto status = json::parse(js.out).as_object();
    BOOST_TEST(status.at("dead").as_int64() == 1);
    BOOST_TEST(status.at("pending").as_int64() == 0);
    const auto& groups = status.at("groups").as_array();
    BOOST_REQUIRE(groups.size() == 1u);
    BOOST_TEST(groups[0].at("kind").as_string() == "apns");
    BOOST_TEST(groups[0].at("state").as_string() == "dead");
    BOOST_TEST(groups[0].at("rows").as_int64() == 1);
    const auto& dead = status.at("deadRows").as_array();
    BOOST_REQUIRE(dead.size() == 1u);
    BOOST_TEST(dead[0].at("topic").as_string() == "pass.dev.cardsmith");
    BOOST_TEST(std::string(dead[0].at("lastError").as_string()).find("BadExpirationDate") !=
               std::string::npos);

    // APNs accepts again; retry-dead puts the row back and the running server sends it.
    apns.reset_replies();
    const auto ok_before = apns.count_ok();
    auto retried = ops(server, {"outbox", "retry-dead"});
    BOOST_TEST(retried.exit_code == 0, retried.out);
    BOOST_TEST(retried.out.find("1 dead outbox row back to pending") != std::string::npos,
               retried.out);
    BOOST_TEST(count(db, "SELECT COUNT(*) FROM outbox WHERE state = 'dead'") == 0);
    BOOST_REQUIRE(test::eventually([&] { return apns.count_ok() == ok_before + 1; }));
    BOOST_REQUIRE(test::eventually([&] { return count(db, "SELECT COUNT(*) FROM outbox") == 0; }));
    auto again = ops(server, {"outbox", "retry-dead"});
    BOOST_TEST(again.out.find("0 dead outbox rows back to pending") != std::string::npos,
               again.out);
}

BOOST_AUTO_TEST_CASE(identity_list_shows_the_default_and_merchant_identities) {
    test::ServerProcess server("", {}, test::DevPki::shared().dir.path());
    test::Shop shop(server);
    const auto [cert, key] = test::merchant_certificate("pass.merchant.ops", 20);
    auto up = shop.client.post_json("/api/v1/identities",
                                    {{"certificate", cert}, {"privateKey", key}}, shop.key);
    BOOST_REQUIRE_MESSAGE(up.result_int() == 201, up.body());

    auto text = ops(server, {"identity", "list"});
    BOOST_TEST(text.exit_code == 0, text.out);
    BOOST_TEST(text.out.find("PASS TYPE ID") != std::string::npos, text.out);
    BOOST_TEST(text.out.find("server default") != std::string::npos);
    BOOST_TEST(text.out.find("merchant 1 (Shop)") != std::string::npos, text.out);
    BOOST_TEST(text.out.find("20 renew now") != std::string::npos, text.out);
    BOOST_TEST(text.out.find("PRIVATE KEY") == std::string::npos);

    auto js = ops(server, {"identity", "list", "--json"});
    BOOST_TEST(js.exit_code == 0, js.out);
    const auto list = json::parse(js.out).at("identities").as_array();
    BOOST_REQUIRE(list.size() == 2u);
    BOOST_TEST(list[0].at("passTypeId").as_string() == "pass.dev.cardsmith");
    BOOST_TEST(list[0].at("owner").as_string() == "server");
    BOOST_TEST(list[0].at("teamId").as_string() == "DEVTEAM123");
    BOOST_TEST(list[0].at("daysLeft").as_int64() > 300);
    BOOST_TEST(list[1].at("passTypeId").as_string() == "pass.merchant.ops");
    BOOST_TEST(list[1].at("teamId").as_string() == "TEAMOPS");
    BOOST_TEST(list[1].at("merchant").at("name").as_string() == "Shop");
    BOOST_TEST(list[1].at("daysLeft").as_int64() == 20);
}

BOOST_AUTO_TEST_CASE(backup_while_the_server_writes) {
    test::ServerProcess server;
    test::Shop shop(server);
    const auto out = server.dir() / "backup.db";
    if (test::testing_postgres()) {
        auto r = ops(server, {"backup", "--out", out.string()});
        BOOST_TEST(r.exit_code == 1);
        BOOST_TEST(r.out.find("pg_dump") != std::string::npos, r.out);
        BOOST_TEST(!std::filesystem::exists(out));
        return;
    }
    std::vector<json::object> cards;
    for (int i = 0; i < 5; ++i) {
        cards.push_back(shop.card("c" + std::to_string(i) + "@example.com"));
    }
    // A till posting purchases on every card while the backup runs.
    std::atomic<bool> stop{false};
    std::atomic<int> posted{0};
    std::thread till([&] {
        test::Client client(server.port());
        for (int i = 0; !stop; ++i) {
            if (post_points(client, shop.key, cards[static_cast<std::size_t>(i) % cards.size()],
                            1 + i % 7) == 201) {
                ++posted;
            }
        }
    });
    BOOST_REQUIRE(test::eventually([&] { return posted >= 20; }));
    const auto r = ops(server, {"backup", "--out", out.string()});
    const int at_backup = posted;
    BOOST_REQUIRE(test::eventually([&] { return posted >= at_backup + 20; }));
    stop = true;
    till.join();
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.out);
    BOOST_TEST(r.out.find("backup written to") != std::string::npos);

    // One consistent snapshot: every card's balance is the sum of its ledger.
    const std::string copy = out.string();
    BOOST_TEST(test::query_text(copy, "PRAGMA integrity_check") == "ok");
    const char* inconsistent =
        "SELECT COUNT(*) FROM cards c WHERE c.balance <> COALESCE((SELECT SUM(points) FROM "
        "transactions t WHERE t.card_id = c.id), 0)";
    BOOST_TEST(count(copy, inconsistent) == 0);
    BOOST_TEST(count(copy, "SELECT COUNT(*) FROM cards") == 5);
    const auto in_copy = count(copy, "SELECT COUNT(*) FROM transactions");
    BOOST_TEST(in_copy >= 20);
    BOOST_TEST(in_copy < count(server.storage_url(), "SELECT COUNT(*) FROM transactions"));
    BOOST_TEST(!std::filesystem::exists(copy + "-wal"));  // a self-contained file

    // Quiet now: a second backup has exactly the live database's rows.
    const auto quiet = server.dir() / "quiet.db";
    BOOST_REQUIRE_EQUAL(ops(server, {"backup", "--out", quiet.string()}).exit_code, 0);
    BOOST_TEST(test::table_counts(quiet.string()) == test::table_counts(server.storage_url()));

    // Never over an existing file.
    const auto before = std::filesystem::file_size(out);
    auto twice = ops(server, {"backup", "--out", out.string()});
    BOOST_TEST(twice.exit_code == 1);
    BOOST_TEST(twice.out.find("exists") != std::string::npos, twice.out);
    BOOST_TEST(std::filesystem::file_size(out) == before);
}

BOOST_AUTO_TEST_SUITE_END()
