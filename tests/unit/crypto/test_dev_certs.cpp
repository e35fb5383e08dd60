#include <openssl/x509v3.h>

#include <array>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>

#include "common/random.hpp"
#include "crypto/crypto_error.hpp"
#include "crypto/dev_certs.hpp"
#include "crypto/pem.hpp"

namespace cc = cardsmith::crypto;
namespace fs = std::filesystem;

namespace {

// A fresh directory name under the system temp directory, removed on destruction.
struct TempDir {
    fs::path path = fs::temp_directory_path() / ("cardsmith-test-" + cardsmith::random::hex(8));
    TempDir() = default;
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

std::string read(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

using Asn1ObjectPtr = std::unique_ptr<ASN1_OBJECT, cc::Deleter<ASN1_OBJECT_free>>;
using Asn1Utf8StringPtr = std::unique_ptr<ASN1_UTF8STRING, cc::Deleter<ASN1_UTF8STRING_free>>;
using ExtendedKeyUsagePtr =
    std::unique_ptr<EXTENDED_KEY_USAGE, cc::Deleter<EXTENDED_KEY_USAGE_free>>;

std::string as_string(const ASN1_STRING* s) {
    return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
            static_cast<std::size_t>(ASN1_STRING_length(s))};
}

std::string oid_text(const ASN1_OBJECT* oid) {
    std::array<char, 128> buf{};
    const int len = OBJ_obj2txt(buf.data(), static_cast<int>(buf.size()), oid, 1);
    return len > 0 ? std::string(buf.data()) : std::string();
}

fs::perms mode(const fs::path& path) { return fs::status(path).permissions() & fs::perms::all; }

// The dev PKI made once for this file's tests.
struct DevPki {
    TempDir dir;
    cc::DevCertsOptions options;
    bool made = false;
    DevPki() {
        options.pass_type_id = "pass.test.cardsmith";
        options.team_id = "TEAM987654";
        options.valid_days = 30;
        made = cc::make_dev_certs(dir.path / "certs", options);
    }
    [[nodiscard]] fs::path file(const char* name) const { return dir.path / "certs" / name; }
    [[nodiscard]] cc::X509Ptr cert(const char* name) const {
        return cc::load_certificate_file(file(name));
    }
    [[nodiscard]] cc::EvpPkeyPtr key(const char* name) const {
        return cc::load_private_key_file(file(name));
    }
};

const DevPki& pki() {
    static const DevPki instance;
    return instance;
}

// Verifies `leaf` up to the dev root with `purpose`; "" when fine, else the reason.
std::string verify_chain(X509* leaf, X509* intermediate, int purpose) {
    const cc::X509Ptr root = pki().cert("root-ca.pem");
    const cc::X509StorePtr store(X509_STORE_new());
    BOOST_REQUIRE(store);
    BOOST_REQUIRE(X509_STORE_add_cert(store.get(), root.get()) == 1);
    const cc::X509StackPtr untrusted(sk_X509_new_null());
    BOOST_REQUIRE(untrusted);
    if (intermediate != nullptr) {
        BOOST_REQUIRE(X509_up_ref(intermediate) == 1);
        BOOST_REQUIRE(sk_X509_push(untrusted.get(), intermediate) > 0);
    }
    const cc::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
    BOOST_REQUIRE(ctx);
    BOOST_REQUIRE(X509_STORE_CTX_init(ctx.get(), store.get(), leaf, untrusted.get()) == 1);
    X509_STORE_CTX_set_purpose(ctx.get(), purpose);
    if (X509_verify_cert(ctx.get()) == 1) {
        return {};
    }
    return X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dev_certs)

BOOST_AUTO_TEST_CASE(writes_every_file_with_private_modes) {
    BOOST_REQUIRE(pki().made);
    for (const char* name :
         {"root-ca.pem", "root-ca.key", "wwdr.pem", "wwdr.key", "pass.pem", "pass.key",
          "server.pem", "server.key", "client.pem", "client.key", "google-service-account.json"}) {
        BOOST_TEST_INFO(name);
        BOOST_TEST(fs::is_regular_file(pki().file(name)));
        BOOST_TEST(fs::file_size(pki().file(name)) > 0U);
    }
    const fs::perms owner_rw = fs::perms::owner_read | fs::perms::owner_write;
    for (const char* name : {"root-ca.key", "wwdr.key", "pass.key", "server.key", "client.key",
                             "google-service-account.json"}) {
        BOOST_TEST_INFO(name);
        BOOST_TEST((mode(pki().file(name)) == owner_rw));
    }
    BOOST_TEST((mode(pki().dir.path / "certs") == fs::perms::owner_all));
}

BOOST_AUTO_TEST_CASE(second_call_touches_nothing) {
    const std::string before = read(pki().file("pass.pem"));
    const std::string key_before = read(pki().file("pass.key"));
    BOOST_TEST(!cc::make_dev_certs(pki().dir.path / "certs", pki().options));
    BOOST_TEST(read(pki().file("pass.pem")) == before);
    BOOST_TEST(read(pki().file("pass.key")) == key_before);
}

BOOST_AUTO_TEST_CASE(every_key_matches_its_certificate) {
    for (const char* stem : {"root-ca", "wwdr", "pass", "server", "client"}) {
        BOOST_TEST_INFO(stem);
        const cc::X509Ptr cert = pki().cert((std::string(stem) + ".pem").c_str());
        const cc::EvpPkeyPtr key = pki().key((std::string(stem) + ".key").c_str());
        BOOST_TEST(cc::key_matches_certificate(cert.get(), key.get()));
        BOOST_TEST(EVP_PKEY_get_bits(key.get()) == 2048);
    }
    const cc::X509Ptr pass = pki().cert("pass.pem");
    const cc::EvpPkeyPtr server_key = pki().key("server.key");
    BOOST_TEST(!cc::key_matches_certificate(pass.get(), server_key.get()));
}

BOOST_AUTO_TEST_CASE(pass_certificate_looks_like_apples) {
    const cc::X509Ptr pass = pki().cert("pass.pem");
    const cc::X509Ptr wwdr = pki().cert("wwdr.pem");
    const cc::X509Ptr root = pki().cert("root-ca.pem");
    const cc::CertificateInfo info = cc::inspect_certificate(pass.get());
    BOOST_TEST(info.uid == "pass.test.cardsmith");
    BOOST_TEST(info.common_name == "Pass Type ID: pass.test.cardsmith");
    BOOST_TEST(info.org_unit == "TEAM987654");
    BOOST_TEST(info.subject.find("O=Cardsmith Dev") != std::string::npos);
    BOOST_TEST(info.issuer == cc::inspect_certificate(wwdr.get()).subject);
    BOOST_TEST(cc::check_issued_by(pass.get(), wwdr.get()) == "");
    BOOST_TEST(cc::check_issued_by(wwdr.get(), root.get()) == "");
    BOOST_TEST(cc::check_issued_by(pass.get(), root.get()) != "");
    BOOST_TEST(X509_cmp(pass.get(), wwdr.get()) != 0);
    BOOST_TEST(ASN1_INTEGER_cmp(X509_get0_serialNumber(pass.get()),
                                X509_get0_serialNumber(wwdr.get())) != 0);

    const auto now = std::chrono::system_clock::now();
    BOOST_TEST((info.not_before <= now));
    BOOST_TEST((info.not_after > now + std::chrono::days(29)));
    BOOST_TEST((info.not_after < now + std::chrono::days(31)));
}

BOOST_AUTO_TEST_CASE(pass_certificate_has_apple_extensions) {
    const cc::X509Ptr pass = pki().cert("pass.pem");
    const Asn1ObjectPtr oid(OBJ_txt2obj("1.2.840.113635.100.6.1.16", 1));
    BOOST_REQUIRE(oid);
    const int index = X509_get_ext_by_OBJ(pass.get(), oid.get(), -1);
    BOOST_REQUIRE(index >= 0);
    X509_EXTENSION* ext = X509_get_ext(pass.get(), index);
    BOOST_REQUIRE(ext != nullptr);
    BOOST_TEST(X509_EXTENSION_get_critical(ext) == 0);
    const ASN1_OCTET_STRING* octets = X509_EXTENSION_get_data(ext);
    const unsigned char* p = ASN1_STRING_get0_data(octets);
    const Asn1Utf8StringPtr value(d2i_ASN1_UTF8STRING(nullptr, &p, ASN1_STRING_length(octets)));
    BOOST_REQUIRE(value);
    BOOST_TEST(as_string(value.get()) == "pass.test.cardsmith");

    const ExtendedKeyUsagePtr eku(static_cast<EXTENDED_KEY_USAGE*>(
        X509_get_ext_d2i(pass.get(), NID_ext_key_usage, nullptr, nullptr)));
    BOOST_REQUIRE(eku);
    BOOST_REQUIRE(sk_ASN1_OBJECT_num(eku.get()) == 1);
    BOOST_TEST(oid_text(sk_ASN1_OBJECT_value(eku.get(), 0)) == "1.2.840.113635.100.4.14");
}

BOOST_AUTO_TEST_CASE(chains_verify_to_the_dev_root) {
    const cc::X509Ptr pass = pki().cert("pass.pem");
    const cc::X509Ptr wwdr = pki().cert("wwdr.pem");
    const cc::X509Ptr root = pki().cert("root-ca.pem");
    const cc::X509Ptr server = pki().cert("server.pem");
    const cc::X509Ptr client = pki().cert("client.pem");
    BOOST_TEST(verify_chain(pass.get(), wwdr.get(), X509_PURPOSE_ANY) == "");
    BOOST_TEST(verify_chain(pass.get(), nullptr, X509_PURPOSE_ANY) != "");
    // Apple's pass EKU is no standard purpose (apple-wallet.md §1.8).
    BOOST_TEST(verify_chain(pass.get(), wwdr.get(), X509_PURPOSE_SMIME_SIGN) != "");
    BOOST_TEST(verify_chain(server.get(), nullptr, X509_PURPOSE_SSL_SERVER) == "");
    BOOST_TEST(verify_chain(server.get(), nullptr, X509_PURPOSE_SSL_CLIENT) != "");
    BOOST_TEST(verify_chain(client.get(), nullptr, X509_PURPOSE_SSL_CLIENT) == "");
    BOOST_TEST(verify_chain(client.get(), nullptr, X509_PURPOSE_SSL_SERVER) != "");
    BOOST_TEST(X509_check_ca(root.get()) >= 1);
    BOOST_TEST(X509_check_ca(wwdr.get()) >= 1);
    BOOST_TEST(X509_check_ca(pass.get()) == 0);
    BOOST_TEST(X509_check_ca(server.get()) == 0);
}

BOOST_AUTO_TEST_CASE(server_certificate_names_localhost) {
    const cc::X509Ptr server = pki().cert("server.pem");
    BOOST_TEST(X509_get_ext_by_NID(server.get(), NID_subject_alt_name, -1) >= 0);
    BOOST_TEST(X509_check_host(server.get(), "localhost", 0, 0, nullptr) == 1);
    BOOST_TEST(X509_check_ip_asc(server.get(), "127.0.0.1", 0) == 1);
    BOOST_TEST(X509_check_host(server.get(), "example.com", 0, 0, nullptr) != 1);
    BOOST_TEST(X509_check_ip_asc(server.get(), "127.0.0.2", 0) != 1);
}

BOOST_AUTO_TEST_CASE(service_account_is_google_shaped) {
    const std::string text = read(pki().file("google-service-account.json"));
    boost::json::value parsed;
    BOOST_REQUIRE_NO_THROW(parsed = boost::json::parse(text));
    const boost::json::object& json = parsed.as_object();
    BOOST_TEST(json.at("type").as_string() == "service_account");
    BOOST_TEST(json.at("project_id").as_string() == "cardsmith-dev");
    BOOST_TEST(json.at("client_email").as_string() ==
               "cardsmith-dev@cardsmith-dev.iam.gserviceaccount.com");
    BOOST_TEST(json.at("token_uri").as_string() == "https://oauth2.googleapis.com/token");
    const std::string key_id(json.at("private_key_id").as_string());
    BOOST_TEST(key_id.size() == 40U);
    BOOST_TEST(key_id.find_first_not_of("0123456789abcdef") == std::string::npos);
    const std::string client_id(json.at("client_id").as_string());
    BOOST_TEST(!client_id.empty());
    BOOST_TEST(client_id.find_first_not_of("0123456789") == std::string::npos);
    const std::string pem(json.at("private_key").as_string());
    BOOST_TEST(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    const cc::EvpPkeyPtr key = cc::parse_private_key_pem(pem, "private_key");
    BOOST_REQUIRE(key);
    BOOST_TEST(EVP_PKEY_is_a(key.get(), "RSA") == 1);
    BOOST_TEST(EVP_PKEY_get_bits(key.get()) == 2048);
}

BOOST_AUTO_TEST_CASE(rejects_invalid_options_without_writing) {
    const TempDir dir;
    cc::DevCertsOptions options;
    options.valid_days = 0;
    BOOST_CHECK_THROW(static_cast<void>(cc::make_dev_certs(dir.path, options)), cc::CryptoError);
    BOOST_TEST(!fs::exists(dir.path));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(pem)

BOOST_AUTO_TEST_CASE(round_trips_certificate_and_key) {
    const cc::X509Ptr pass = pki().cert("pass.pem");
    const cc::X509Ptr again = cc::parse_certificate_pem(cc::certificate_to_pem(pass.get()), "x");
    BOOST_TEST(X509_cmp(pass.get(), again.get()) == 0);
    const cc::EvpPkeyPtr key = pki().key("pass.key");
    const cc::EvpPkeyPtr key_again =
        cc::parse_private_key_pem(cc::private_key_to_pem(key.get()), "x");
    BOOST_TEST(EVP_PKEY_eq(key.get(), key_again.get()) == 1);
}

BOOST_AUTO_TEST_CASE(errors_name_the_file) {
    const TempDir dir;
    fs::create_directories(dir.path);
    const fs::path missing = dir.path / "missing.pem";
    BOOST_CHECK_EXCEPTION(static_cast<void>(cc::load_certificate_file(missing)), cc::CryptoError,
                          [&](const cc::CryptoError& e) {
                              return std::string(e.what()).find("missing.pem") != std::string::npos;
                          });
    const fs::path garbage = dir.path / "apple.key";
    std::ofstream(garbage) << "not a key\n";
    BOOST_CHECK_EXCEPTION(static_cast<void>(cc::load_private_key_file(garbage)), cc::CryptoError,
                          [&](const cc::CryptoError& e) {
                              return std::string(e.what()).find("apple.key") != std::string::npos;
                          });
    BOOST_CHECK_EXCEPTION(
        static_cast<void>(cc::parse_certificate_pem("junk", "wwdr")), cc::CryptoError,
        [](const cc::CryptoError& e) { return std::string(e.what()).starts_with("wwdr:"); });
    // A key where a certificate is expected is no certificate.
    const std::string key_pem = read(pki().file("pass.key"));
    BOOST_CHECK_THROW(static_cast<void>(cc::parse_certificate_pem(key_pem, "k")), cc::CryptoError);
}

BOOST_AUTO_TEST_CASE(chain_files_keep_their_order) {
    const TempDir dir;
    fs::create_directories(dir.path);
    const fs::path chain = dir.path / "fullchain.pem";
    std::ofstream(chain) << read(pki().file("pass.pem")) << read(pki().file("wwdr.pem"));
    const auto certs = cc::load_certificate_chain_file(chain);
    BOOST_REQUIRE_EQUAL(certs.size(), 2u);
    BOOST_TEST(X509_cmp(certs[0].get(), pki().cert("pass.pem").get()) == 0);
    BOOST_TEST(X509_cmp(certs[1].get(), pki().cert("wwdr.pem").get()) == 0);
    // A key file holds no certificate; the message names the file.
    BOOST_CHECK_EXCEPTION(
        static_cast<void>(cc::load_certificate_chain_file(pki().file("pass.key"))), cc::CryptoError,
        [](const cc::CryptoError& e) {
            return std::string(e.what()).find("pass.key: no PEM certificate") != std::string::npos;
        });
}

BOOST_AUTO_TEST_SUITE_END()
