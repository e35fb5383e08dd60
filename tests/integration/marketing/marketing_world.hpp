#pragma once
// The marketing tests' world: the real server with the fake APNs, a merchant with program
// "bean" (coffee template), cards each with one device registered through Apple's web
// service, and shorthands for the API.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <set>
#include <sstream>

#include "dev_pki.hpp"
#include "fake_apns.hpp"
#include "http_client.hpp"
#include "pkpass_reader.hpp"
#include "server_process.hpp"
#include "test_util.hpp"

namespace cardsmith::test {
namespace json = boost::json;
using bhttp::verb;

inline std::string hex_token(int i) {
    char buf[65];
    std::snprintf(buf, sizeof buf, "%064x", 0xD00000 + i);
    return buf;
}

inline testing::FakeApnsOptions fake_options() {
    auto& pki = DevPki::shared();
    testing::FakeApnsOptions o;
    o.cert_file = (pki.dir.path() / "server.pem").string();
    o.key_file = (pki.dir.path() / "server.key").string();
    o.ca_file = pki.root();
    return o;
}

inline std::string config_toml(std::uint16_t port, int cards_per_second) {
    return "[apns]\nhost = \"127.0.0.1\"\nport = " + std::to_string(port) + "\nca_file = \"" +
           DevPki::shared().root() +
           "\"\nconnections = 1\nretry_base_ms = 100\nretry_max_ms = 400\n"
           "[rollouts]\ncards_per_second = " +
           std::to_string(cards_per_second) + "\n";
}

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

struct Holder {
    std::string number, serial, type, auth, token;
};

struct World {
    testing::FakeApns apns{fake_options()};
    ServerProcess server;
    std::unique_ptr<Client> client;
    std::string key;
    std::vector<Holder> cards;

    explicit World(int cards_per_second = 0, int n = 6, const std::string& extra_toml = "",
                   const std::map<std::string, std::string>& env = {})
        : server(config_toml(apns.port(), cards_per_second) + extra_toml, env,
                 DevPki::shared().dir.path()),
          client(std::make_unique<Client>(server.port())) {
        auto m = client->post_json("/api/v1/merchants", {{"name", "Bean"}}, server.admin_key());
        BOOST_REQUIRE_EQUAL(m.result_int(), 201);
        key = std::string(json_of(m).at("apiKey").as_string());
        auto p = client->post_json(
            "/api/v1/programs", {{"slug", "bean"}, {"name", "Bean"}, {"template", "coffee"}}, key);
        BOOST_REQUIRE_EQUAL(p.result_int(), 201);
        for (int i = 0; i < n; ++i) {
            add_card(i);
        }
    }
    void add_card(int i) {
        auto c = client->post_json("/api/v1/programs/bean/cards",
                                   {{"holder", {{"name", "Holder " + std::to_string(i)}}}}, key);
        BOOST_REQUIRE_EQUAL(c.result_int(), 201);
        auto card = json_of(c).as_object();
        auto bytes = client->get(path_of(std::string(card.at("links").at("pkpass").as_string())));
        BOOST_REQUIRE_EQUAL(bytes.result_int(), 200);
        auto pass = json::parse(unzip(bytes.body())["pass.json"]).as_object();
        Holder h{std::string(card.at("cardNumber").as_string()),
                 std::string(pass.at("serialNumber").as_string()),
                 std::string(pass.at("passTypeIdentifier").as_string()),
                 "ApplePass " + std::string(pass.at("authenticationToken").as_string()),
                 hex_token(i)};
        auto r = client->request(verb::post,
                                 "/apple/v1/devices/dev" + std::to_string(i) + "/registrations/" +
                                     h.type + "/" + h.serial,
                                 json::serialize(json::object{{"pushToken", h.token}}),
                                 {{"Authorization", h.auth}, {"Content-Type", "application/json"}});
        BOOST_REQUIRE_EQUAL(r.result_int(), 201);
        cards.push_back(h);
    }
    void reconnect() { client = std::make_unique<Client>(server.port()); }
    Response call(verb method, const std::string& target, const json::value& body = nullptr) {
        return client->request(
            method, target, body.is_null() ? "" : json::serialize(body),
            {{"Authorization", "Bearer " + key}, {"Content-Type", "application/json"}});
    }
    // The background colour of the pass a device would fetch now.
    std::string background(const Holder& h) {
        auto r = client->request(verb::get, "/apple/v1/passes/" + h.type + "/" + h.serial, "",
                                 {{"Authorization", h.auth}});
        BOOST_REQUIRE_EQUAL(r.result_int(), 200);
        auto pj = json::parse(unzip(r.body())["pass.json"]).as_object();
        return std::string(pj.at("backgroundColor").as_string());
    }
    std::size_t pushes_to(const std::string& token) const {
        std::size_t n = 0;
        for (const auto& p : apns.pushes()) {
            if (p.device_token == token && p.status == 200) ++n;
        }
        return n;
    }
    json::object rollout(std::int64_t id) {
        auto r = call(verb::get, "/api/v1/rollouts/" + std::to_string(id));
        BOOST_REQUIRE_EQUAL(r.result_int(), 200);
        return json_of(r).as_object();
    }
    std::string state(std::int64_t id) { return std::string(rollout(id).at("state").as_string()); }
};

}  // namespace cardsmith::test
