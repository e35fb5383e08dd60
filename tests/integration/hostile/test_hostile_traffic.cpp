// Hostile traffic against the real server (issue 8 item 2; docs/security.md): malformed and
// oversized requests on a raw socket, slow clients, header floods, deep JSON, invalid UTF-8,
// path traversal in every name, integer overflow in points and amounts, a replayed
// idempotency key with another body, and another merchant's key on every endpoint that
// names a resource. Each time: the server stays up and answers a 4xx (or closes the
// connection), and every table's row count is what it was.
#include <boost/asio.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>

#include "http_client.hpp"
#include "server_process.hpp"
#include "test_db.hpp"

using namespace cardsmith;
namespace json = boost::json;
namespace asio = boost::asio;
using test::bhttp::verb;
using namespace std::chrono_literals;

namespace {

// What the server sends back on one raw connection for `bytes` (sent in one write), until
// it closes the connection or `wait` passes.
struct RawAnswer {
    std::string text;
    bool closed = false;  // the server closed the connection
};

RawAnswer raw_exchange(unsigned short port, const std::string& bytes,
                       std::chrono::milliseconds wait = 5s) {
    asio::io_context ioc;
    asio::ip::tcp::socket socket(ioc);
    socket.connect({asio::ip::make_address("127.0.0.1"), port});
    boost::system::error_code ec;
    asio::write(socket, asio::buffer(bytes), ec);
    RawAnswer out;
    const auto deadline = std::chrono::steady_clock::now() + wait;
    socket.non_blocking(true);
    char buf[4096];
    while (std::chrono::steady_clock::now() < deadline) {
        const std::size_t n = socket.read_some(asio::buffer(buf), ec);
        if (ec == asio::error::would_block) {
            std::this_thread::sleep_for(10ms);
            continue;
        }
        if (ec) {
            out.closed = true;  // EOF or reset
            break;
        }
        out.text.append(buf, n);
    }
    return out;
}

int status_of(const RawAnswer& a) {
    if (a.text.rfind("HTTP/1.", 0) != 0 || a.text.size() < 12) {
        return 0;
    }
    return std::stoi(a.text.substr(9, 3));
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// A campaign's sendAt (at most a year ahead): 30 days from now, UTC.
std::string in_a_month() {
    const std::time_t t = std::time(nullptr) + 30 * 86400;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

// Merchant A with a program, a card with points, a campaign, a webhook and a second design
// version (so a rollout); merchant B, whose key then tries all of it.
struct Shop {
    test::ServerProcess server;
    test::Client client{server.port()};
    std::string a, b;  // API keys
    std::string number, serial;
    std::int64_t campaign = 0, webhook = 0, rollout = 0, merchant_a = 0;

    explicit Shop(const std::map<std::string, std::string>& env = {}) : server("", env) {
        a = merchant("A", &merchant_a);
        std::int64_t ignored = 0;
        b = merchant("B", &ignored);
        auto p = client.post_json("/api/v1/programs",
                                  {{"slug", "shop-a"}, {"name", "A"}, {"template", "coffee"}}, a);
        BOOST_REQUIRE_MESSAGE(p.result_int() == 201, p.body());
        auto c = client.post_json("/api/v1/programs/shop-a/cards",
                                  {{"holder", {{"name", "Ann"}}}, {"balance", 100}}, a);
        BOOST_REQUIRE_MESSAGE(c.result_int() == 201, c.body());
        number = std::string(test::json_of(c).at("cardNumber").as_string());
        serial = std::string(test::json_of(c).at("serial").as_string());
        auto camp = client.post_json("/api/v1/programs/shop-a/campaigns",
                                     {{"message", "Hi"}, {"sendAt", in_a_month()}}, a);
        BOOST_REQUIRE_MESSAGE(camp.result_int() == 202, camp.body());
        campaign = test::json_of(camp).at("id").as_int64();
        auto hook = client.post_json("/api/v1/webhooks", {{"url", "https://crm.example/hook"}}, a);
        BOOST_REQUIRE_MESSAGE(hook.result_int() == 201, hook.body());
        webhook = test::json_of(hook).at("id").as_int64();
        auto design = call(verb::patch, "/api/v1/programs/shop-a/design",
                           R"({"colors":{"background":"#102030"}})", a);
        BOOST_REQUIRE_MESSAGE(design.result_int() == 200, design.body());
        auto rollouts = client.get("/api/v1/programs/shop-a/rollouts", a);
        BOOST_REQUIRE_EQUAL(rollouts.result_int(), 200);
        const json::value listed = test::json_of(rollouts);
        const auto& list = listed.at("rollouts").as_array();
        BOOST_REQUIRE(!list.empty());
        rollout = list.at(0).at("id").as_int64();
    }
    std::string merchant(const std::string& name, std::int64_t* id) {
        auto r = client.post_json("/api/v1/merchants", {{"name", name}}, server.admin_key());
        BOOST_REQUIRE_EQUAL(r.result_int(), 201);
        *id = test::json_of(r).at("id").as_int64();
        return std::string(test::json_of(r).at("apiKey").as_string());
    }
    test::Response call(verb method, const std::string& target, const std::string& body,
                        const std::string& key, const std::string& type = "application/json") {
        test::Client fresh(server.port());  // a refused body may close the connection
        return fresh.request(method, target, body,
                             {{"Authorization", "Bearer " + key}, {"Content-Type", type}});
    }
    std::map<std::string, long long> counts() { return test::table_counts(server.storage_url()); }
    std::int64_t balance() {
        auto r = client.get("/api/v1/cards/" + number, a);
        BOOST_REQUIRE_EQUAL(r.result_int(), 200);
        return test::json_of(r).at("balance").as_int64();
    }
    bool up() {
        test::Client fresh(server.port());
        return fresh.get("/healthz").result_int() == 200;
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(hostile_traffic)

BOOST_AUTO_TEST_CASE(another_merchants_key_finds_nothing_on_any_endpoint) {
    Shop shop;
    const std::string card = "/api/v1/cards/" + shop.number;
    const std::string prog = "/api/v1/programs/shop-a";
    const std::string png =
        read_file(std::string(CARDSMITH_SOURCE_DIR) + "/templates/coffee/icon.png");
    struct Case {
        verb method;
        std::string target;
        std::string body;
        int status;
        std::string type = "application/json";
    };
    const std::vector<Case> cases = {
        {verb::get, prog, "", 404},
        {verb::patch, prog, R"({"name":"mine"})", 404},
        {verb::get, prog + "/stats", "", 404},
        {verb::get, prog + "/stats/daily", "", 404},
        {verb::get, prog + "/cards?q=Ann", "", 404},
        {verb::post, prog + "/cards", R"({"holder":{"name":"Eve"}})", 404},
        {verb::post, prog + "/campaigns", R"({"message":"Hi"})", 404},
        {verb::get, prog + "/campaigns", "", 404},
        {verb::get, "/api/v1/campaigns/" + std::to_string(shop.campaign), "", 404},
        {verb::post, "/api/v1/campaigns/" + std::to_string(shop.campaign) + "/cancel", "", 404},
        {verb::patch, prog + "/design", R"({"colors":{"background":"#000000"}})", 404},
        {verb::put, prog + "/images/logo", png, 404, "image/png"},
        {verb::get, prog + "/designs", "", 404},
        {verb::get, prog + "/designs/1", "", 404},
        {verb::get, prog + "/designs/1/preview", "", 404},
        {verb::get, prog + "/designs/1/images/icon.png", "", 404},
        {verb::post, prog + "/designs/1/publish", "", 404},
        {verb::get, prog + "/rollouts", "", 404},
        {verb::get, "/api/v1/rollouts/" + std::to_string(shop.rollout), "", 404},
        {verb::post, "/api/v1/rollouts/" + std::to_string(shop.rollout) + "/pause", "", 404},
        {verb::get, card, "", 404},
        {verb::post, card + "/transactions", R"({"points":-100})", 404},
        {verb::get, card + "/transactions", "", 404},
        {verb::delete_, "/api/v1/webhooks/" + std::to_string(shop.webhook), "", 404},
        {verb::get, "/api/v1/webhooks/" + std::to_string(shop.webhook) + "/deliveries", "", 404},
        {verb::put, prog + "/identity", R"({"identity":1})", 404},
        {verb::put, prog + "/enrollment", R"({"fields":["name"]})", 404},
        {verb::get, "/api/v1/merchants/" + std::to_string(shop.merchant_a) + "/keys", "", 404},
        {verb::post, "/api/v1/merchants/" + std::to_string(shop.merchant_a) + "/keys", "{}", 404},
        {verb::delete_, "/api/v1/merchants/" + std::to_string(shop.merchant_a) + "/keys/1", "",
         404},
        {verb::get, "/api/v1/admin/keys", "", 403},
        {verb::post, "/api/v1/admin/keys", "{}", 403},
        {verb::post, "/api/v1/merchants", R"({"name":"X"})", 403},
    };
    const auto before = shop.counts();
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(test::bhttp::to_string(c.method) << " " << c.target) {
            auto r = shop.call(c.method, c.target, c.body, shop.b, c.type);
            BOOST_TEST(r.result_int() == c.status);
            BOOST_TEST(r.body().find(shop.number) == std::string::npos);
            BOOST_TEST(r.body().find("\"A\"") == std::string::npos);
        }
    }
    BOOST_TEST(shop.counts() == before);
    // What B lists is its own (nothing), and A's things are as they were.
    auto lists = {"/api/v1/programs", "/api/v1/webhooks", "/api/v1/events", "/api/v1/identities"};
    for (const char* target : lists) {
        auto r = shop.call(verb::get, target, "", shop.b);
        BOOST_TEST(r.result_int() == 200);
        BOOST_TEST(r.body().find("shop-a") == std::string::npos, target);
        BOOST_TEST(r.body().find("crm.example") == std::string::npos, target);
    }
    BOOST_TEST(shop.balance() == 100);
    BOOST_TEST(
        shop.call(verb::get, "/api/v1/campaigns/" + std::to_string(shop.campaign), "", shop.a)
            .result_int() == 200);
}

BOOST_AUTO_TEST_CASE(malformed_and_oversized_requests_get_4xx_or_a_closed_connection) {
    Shop shop;
    const auto before = shop.counts();
    const std::string auth = "Authorization: Bearer " + shop.a + "\r\n";
    struct Case {
        const char* what;
        std::string bytes;
        int status;  // 0: the connection is closed without an answer
    };
    std::string many_headers = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
    for (int i = 0; i < 3000; ++i) {
        many_headers += "X-" + std::to_string(i) + ": v\r\n";
    }
    many_headers += "\r\n";
    const std::vector<Case> cases = {
        {"garbage", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http\r\n\r\n", 400},
        {"no version", "GET /healthz\r\n\r\n", 400},
        {"bad method", "GE\x01T /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"absolute URI elsewhere",
         "GET http://evil.example/api/v1/programs HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n", 400},
        {"header over 16 KiB",
         "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n", 431},
        {"3000 headers", many_headers, 431},
        {"huge Content-Length",
         "POST /api/v1/programs/shop-a/cards HTTP/1.1\r\nHost: x\r\n" + auth +
             "Content-Type: application/json\r\nContent-Length: 99999999999\r\n\r\n{",
         413},
        {"two Content-Lengths",
         "POST /api/v1/programs/shop-a/cards HTTP/1.1\r\nHost: x\r\n" + auth +
             "Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}",
         400},
        {"bad chunk size",
         "POST /api/v1/programs/shop-a/cards HTTP/1.1\r\nHost: x\r\n" + auth +
             "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
         400},
        {"chunked over the body limit",
         [&] {
             std::string s = "POST /api/v1/programs/shop-a/cards HTTP/1.1\r\nHost: x\r\n" + auth +
                             "Transfer-Encoding: chunked\r\n\r\n";
             for (int i = 0; i < 300; ++i) {
                 s += "1000\r\n" + std::string(4096, ' ') + "\r\n";
             }
             return s + "0\r\n\r\n";
         }(),
         413},
        {"NUL in the target",
         std::string("GET /api/v1/cards/1\0/x HTTP/1.1\r\nHost: x\r\n", 43) + auth + "\r\n", 400},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.what) {
            const auto answer = raw_exchange(shop.server.port(), c.bytes);
            const int status = status_of(answer);
            if (c.status == 0) {
                BOOST_TEST(answer.closed);
            } else {
                BOOST_TEST(status == c.status, answer.text.substr(0, 200));
            }
            BOOST_TEST(status < 500);
            BOOST_TEST(shop.up());
        }
    }
    BOOST_TEST(shop.counts() == before);
}

BOOST_AUTO_TEST_CASE(slow_clients_are_cut_off_and_others_are_served_meanwhile) {
    // A whole request must arrive within server.read_timeout (2 s here).
    Shop shop(std::map<std::string, std::string>{{"CARDSMITH_SERVER_READ_TIMEOUT", "2"}});
    asio::io_context ioc;
    std::vector<asio::ip::tcp::socket> slow;
    for (int i = 0; i < 60; ++i) {
        slow.emplace_back(ioc);
        slow.back().connect({asio::ip::make_address("127.0.0.1"), shop.server.port()});
        asio::write(slow.back(), asio::buffer(std::string("GET /healthz HTTP/1.1\r\nHost: x\r\n")));
    }
    // They drip a header line every 300 ms; a normal client is served meanwhile.
    const auto start = std::chrono::steady_clock::now();
    int served = 0;
    std::vector<bool> closed(slow.size(), false);
    while (std::chrono::steady_clock::now() - start < 4500ms) {
        for (std::size_t i = 0; i < slow.size(); ++i) {
            if (closed[i]) {
                continue;
            }
            boost::system::error_code ec;
            asio::write(slow[i], asio::buffer(std::string("X-Slow: 1\r\n")), ec);
            if (ec) {
                closed[i] = true;
            }
        }
        const auto t0 = std::chrono::steady_clock::now();
        BOOST_TEST(shop.up());
        BOOST_TEST((std::chrono::steady_clock::now() - t0 < 1s));
        ++served;
        std::this_thread::sleep_for(300ms);
    }
    // By now the server has closed every slow connection (a write or a read tells).
    int cut = 0;
    for (auto& s : slow) {
        boost::system::error_code ec;
        asio::write(s, asio::buffer(std::string("X-Slow: 1\r\n")), ec);
        char c = 0;
        s.non_blocking(true);
        const auto n = s.read_some(asio::buffer(&c, 1), ec);
        (void)n;
        if (ec && ec != asio::error::would_block) {
            ++cut;
        }
    }
    BOOST_TEST(cut == static_cast<int>(slow.size()));
    BOOST_TEST(served >= 10);
}

BOOST_AUTO_TEST_CASE(hostile_bodies_change_nothing) {
    Shop shop;
    const std::string cards = "/api/v1/programs/shop-a/cards";
    const std::string tx = "/api/v1/cards/" + shop.number + "/transactions";
    struct Case {
        const char* what;
        verb method;
        std::string target;
        std::string body;
    };
    const std::vector<Case> cases = {
        {"100,000 levels of arrays", verb::post, cards,
         std::string(100000, '[') + std::string(100000, ']')},
        {"100,000 levels of objects", verb::post, cards,
         [] {
             std::string s;
             for (int i = 0; i < 100000; ++i) s += "{\"a\":";
             return s + "1" + std::string(100000, '}');
         }()},
        {"invalid UTF-8 in a name", verb::post, cards, "{\"holder\":{\"name\":\"\xc3\x28\"}}"},
        {"overlong UTF-8 slash", verb::post, cards, "{\"holder\":{\"name\":\"\xc0\xaf\"}}"},
        {"lone surrogate escape", verb::post, cards, R"({"holder":{"name":"\ud800"}})"},
        {"points beyond int64", verb::post, tx, R"({"points": 9223372036854775808})"},
        {"points at int64 max", verb::post, tx, R"({"points": 9223372036854775807})"},
        {"points at int64 min", verb::post, tx, R"({"points": -9223372036854775808})"},
        {"points as a float", verb::post, tx, R"({"points": 1e308})"},
        {"points as a fraction", verb::post, tx, R"({"points": 1.5})"},
        {"amount beyond int64", verb::post, tx, R"({"amount": 99999999999999999999})"},
        {"amount at int64 max", verb::post, tx, R"({"amount": 9223372036854775807})"},
        {"both points and amount", verb::post, tx, R"({"points": 1, "amount": 1})"},
        {"balance at int64 max", verb::post, cards, R"({"balance": 9223372036854775807})"},
        {"traversal in a template", verb::post, "/api/v1/programs",
         R"({"slug":"x1","name":"x","template":"../../etc"})"},
        {"traversal in a template (absolute)", verb::post, "/api/v1/programs",
         R"({"slug":"x2","name":"x","template":"/etc/passwd"})"},
        {"a 10 MB string", verb::post, cards,
         "{\"holder\":{\"name\":\"" + std::string(10 * 1024 * 1024, 'a') + "\"}}"},
    };
    const auto before = shop.counts();
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.what) {
            auto r = shop.call(c.method, c.target, c.body, shop.a);
            BOOST_TEST(r.result_int() >= 400);
            BOOST_TEST(r.result_int() < 500, r.body().substr(0, 300));
            BOOST_TEST(shop.up());
        }
    }
    BOOST_TEST(shop.counts() == before);
    BOOST_TEST(shop.balance() == 100);

    // Two postings that would together pass int64: the second is refused, not wrapped.
    auto big = shop.call(verb::post, tx, R"({"points": 1000000000})", shop.a);
    BOOST_TEST(big.result_int() < 500);
    for (int i = 0; i < 3; ++i) {
        auto again = shop.call(verb::post, tx, R"({"points": 4611686018427387903})", shop.a);
        BOOST_TEST(again.result_int() < 500);
    }
    BOOST_TEST(shop.balance() >= 100);

    // A replayed idempotency key with another body: 409, nothing applied twice.
    auto post = [&](const std::string& body) {
        test::Client fresh(shop.server.port());
        return fresh.request(verb::post, tx, body,
                             {{"Authorization", "Bearer " + shop.a},
                              {"Content-Type", "application/json"},
                              {"Idempotency-Key", "hostile-1"}});
    };
    auto first = post(R"({"points": 7})");
    BOOST_REQUIRE_EQUAL(first.result_int(), 201);
    const auto after_first = shop.balance();
    auto other = post(R"({"points": 700})");
    BOOST_TEST(other.result_int() == 409);
    BOOST_TEST(std::string(test::json_of(other).at("error").at("code").as_string()) ==
               "idempotency_key_reused");
    BOOST_TEST(post(R"({"points": 7})").result_int() == 201);  // the same: the same answer
    BOOST_TEST(shop.balance() == after_first);
}

BOOST_AUTO_TEST_CASE(path_traversal_in_image_and_file_names_finds_nothing) {
    Shop shop;
    const std::string png =
        read_file(std::string(CARDSMITH_SOURCE_DIR) + "/templates/coffee/icon.png");
    const std::vector<std::string> names = {"..%2F..%2Fvar%2Fsecret.key",
                                            "..%2fcardsmith.toml",
                                            "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
                                            "....%2F%2Fetc%2Fpasswd",
                                            "icon.png%00.txt",
                                            "%2Fetc%2Fpasswd",
                                            "..",
                                            "icon%5C..%5C..%5Csecret.key"};
    const auto before = shop.counts();
    for (const auto& name : names) {
        BOOST_TEST_CONTEXT(name) {
            auto put = shop.call(verb::put, "/api/v1/programs/shop-a/images/" + name, png, shop.a,
                                 "image/png");
            BOOST_TEST(put.result_int() >= 400);
            BOOST_TEST(put.result_int() < 500);
            for (const std::string& target :
                 {"/images/shop-a/" + name, "/p/" + name, "/c/" + name, "/g/" + name,
                  "/api/v1/programs/shop-a/designs/1/images/" + name, "/join/" + name,
                  "/assets/" + name}) {
                test::Client fresh(shop.server.port());
                auto r = fresh.get(target, shop.a);
                BOOST_TEST(r.result_int() >= 400, target);
                BOOST_TEST(r.result_int() < 500, target);
                BOOST_TEST(r.body().find("BEGIN") == std::string::npos, target);
                BOOST_TEST(r.body().find("root:") == std::string::npos, target);
            }
        }
    }
    BOOST_TEST(shop.counts() == before);
    BOOST_TEST(shop.up());
}

BOOST_AUTO_TEST_SUITE_END()
