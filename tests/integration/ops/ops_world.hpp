#pragma once
// What the operations tests share: a scraped /metrics page as name{labels} → value, and a
// merchant with a program whose cards the tests issue (on the real server process).
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <map>
#include <optional>
#include <sstream>
#include <string>

#include "crypto/openssl_ptr.hpp"
#include "crypto/pem.hpp"
#include "dev_pki.hpp"
#include "http_client.hpp"
#include "server_process.hpp"
#include "test_util.hpp"

namespace cardsmith::test {

// One scrape: every sample line, and each family's TYPE.
struct Scrape {
    std::map<std::string, double> samples;  // `name{labels}` exactly as rendered
    std::map<std::string, std::string> types;

    explicit Scrape(const std::string& text) {
        std::istringstream in(text);
        for (std::string line; std::getline(in, line);) {
            if (line.rfind("# TYPE ", 0) == 0) {
                const auto space = line.find(' ', 7);
                types[line.substr(7, space - 7)] = line.substr(space + 1);
            } else if (!line.empty() && line[0] != '#') {
                const auto space = line.rfind(' ');
                samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
            }
        }
    }
    [[nodiscard]] std::optional<double> value(const std::string& series) const {
        auto it = samples.find(series);
        return it == samples.end() ? std::nullopt : std::optional<double>(it->second);
    }
    [[nodiscard]] double at(const std::string& series) const {
        auto v = value(series);
        BOOST_REQUIRE_MESSAGE(v.has_value(), "no sample " + series);
        return *v;
    }
};

inline Scrape scrape(Client& client) {
    auto r = client.get("/metrics");
    BOOST_REQUIRE_EQUAL(r.result_int(), 200);
    return Scrape(r.body());
}

// A merchant and its program "shop" (coffee template).
struct Shop {
    ServerProcess& server;
    Client client;
    std::string key;

    explicit Shop(ServerProcess& s) : server(s), client(s.port()) {
        auto m = client.post_json("/api/v1/merchants", {{"name", "Shop"}}, server.admin_key());
        BOOST_REQUIRE_EQUAL(m.result_int(), 201);
        key = std::string(json_of(m).at("apiKey").as_string());
        auto p = client.post_json(
            "/api/v1/programs", {{"slug", "shop"}, {"name", "Shop"}, {"template", "coffee"}}, key);
        BOOST_REQUIRE_EQUAL(p.result_int(), 201);
    }
    boost::json::object card(const std::string& email) {
        auto c =
            client.post_json("/api/v1/programs/shop/cards", {{"holder", {{"email", email}}}}, key);
        BOOST_REQUIRE_EQUAL(c.result_int(), 201);
        return json_of(c).as_object();
    }
    // The signed pass of a card (GET links.pkpass).
    std::string pkpass(const boost::json::object& card) {
        auto r = client.get(path_of(std::string(card.at("links").at("pkpass").as_string())));
        BOOST_REQUIRE_EQUAL(r.result_int(), 200);
        return r.body();
    }
};

// A merchant pass certificate issued by the dev WWDR (so the server accepts its upload).
inline std::pair<std::string, std::string> merchant_certificate(const std::string& uid, int days) {
    const auto dir = DevPki::shared().dir.path();
    crypto::EvpPkeyPtr key(EVP_RSA_gen(2048));
    crypto::X509Ptr cert(X509_new());
    X509_set_version(cert.get(), X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 4242);
    X509_NAME* name = X509_get_subject_name(cert.get());
    const std::string cn = "Pass Type ID: " + uid;
    const std::string team = "TEAMOPS";
    for (const auto& [nid, value] : {std::pair{NID_userId, uid}, std::pair{NID_commonName, cn},
                                     std::pair{NID_organizationalUnitName, team}}) {
        X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                   0);
    }
    auto issuer = crypto::load_certificate_file(dir / "wwdr.pem");
    auto issuer_key = crypto::load_private_key_file(dir / "wwdr.key");
    X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer.get()));
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -86400);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 86400 + 3600);
    X509_set_pubkey(cert.get(), key.get());
    X509_sign(cert.get(), issuer_key.get(), EVP_sha256());
    return {crypto::certificate_to_pem(cert.get()), crypto::private_key_to_pem(key.get())};
}

}  // namespace cardsmith::test
