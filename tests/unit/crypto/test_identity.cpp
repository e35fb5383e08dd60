#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cctype>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "common/time_format.hpp"
#include "crypto/crypto_error.hpp"
#include "crypto/hash.hpp"
#include "crypto/identity.hpp"
#include "crypto/pem.hpp"
#include "crypto/secret_box.hpp"
#include "dev_pki.hpp"
#include "temp_dir.hpp"

namespace cc = cardsmith::crypto;
namespace fs = std::filesystem;
using cardsmith::test::DevPki;
using Clock = std::chrono::system_clock;

namespace {

const std::string kPassword = "correct horse battery staple";

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    BOOST_REQUIRE(in);
    std::ostringstream ss;
    ss << in.rdbuf();
    return std::move(ss).str();
}

std::string pki_file(const char* name) { return read_file(DevPki::shared().dir.path() / name); }
cc::X509Ptr pki_cert(const char* name) { return cc::parse_certificate_pem(pki_file(name), name); }
cc::EvpPkeyPtr pki_key(const char* name) { return cc::parse_private_key_pem(pki_file(name), name); }

const cc::X509Ptr& wwdr() {
    static const cc::X509Ptr cert = pki_cert("wwdr.pem");
    return cert;
}

cc::IdentityUpload pem_upload(std::string cert, std::string key) {
    cc::IdentityUpload upload;
    upload.certificate_pem = std::move(cert);
    upload.private_key_pem = std::move(key);
    return upload;
}

cc::IdentityUpload good_upload() { return pem_upload(pki_file("pass.pem"), pki_file("pass.key")); }

std::variant<cc::CheckedIdentity, cc::IdentityProblem> check(const cc::IdentityUpload& upload,
                                                             Clock::time_point now = Clock::now()) {
    return cc::check_identity(upload, wwdr().get(), now);
}

cc::CheckedIdentity accepted(const cc::IdentityUpload& upload) {
    auto result = check(upload);
    if (const auto* p = std::get_if<cc::IdentityProblem>(&result)) {
        BOOST_FAIL("refused: " + p->field + ": " + p->message);
    }
    return std::get<cc::CheckedIdentity>(std::move(result));
}

cc::IdentityProblem refused(const cc::IdentityUpload& upload,
                            Clock::time_point now = Clock::now()) {
    auto result = check(upload, now);
    BOOST_REQUIRE_MESSAGE(std::holds_alternative<cc::IdentityProblem>(result), "accepted");
    cc::IdentityProblem p = std::get<cc::IdentityProblem>(std::move(result));
    BOOST_TEST_MESSAGE(p.field + ": " + p.message);
    BOOST_TEST(p.message.find(kPassword) == std::string::npos);
    BOOST_TEST(p.message.find("MII") == std::string::npos);  // no base64 DER
    return p;
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

std::string bio_string(BIO* bio) {
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    BOOST_REQUIRE(len > 0);
    return {data, static_cast<std::size_t>(len)};
}

std::string encrypted_pkcs8(EVP_PKEY* key, const std::string& password) {
    const cc::BioPtr bio(BIO_new(BIO_s_mem()));
    BOOST_REQUIRE(PEM_write_bio_PKCS8PrivateKey(bio.get(), key, EVP_aes_256_cbc(), nullptr, 0,
                                                nullptr, const_cast<char*>(password.c_str())) == 1);
    return bio_string(bio.get());
}

std::string encrypted_traditional(EVP_PKEY* key, const std::string& password) {
    const cc::BioPtr bio(BIO_new(BIO_s_mem()));
    BOOST_REQUIRE(PEM_write_bio_PrivateKey_traditional(bio.get(), key, EVP_des_ede3_cbc(), nullptr,
                                                       0, nullptr,
                                                       const_cast<char*>(password.c_str())) == 1);
    return bio_string(bio.get());
}

struct PkcsOptions {
    const char* password = kPassword.c_str();
    int key_nid = 0;   // 0: OpenSSL's default (PBES2 AES-256-CBC)
    int cert_nid = 0;  // 0: OpenSSL's default
    OSSL_LIB_CTX* libctx = nullptr;
};

std::string pkcs12(EVP_PKEY* key, X509* cert, X509* extra, const PkcsOptions& options) {
    cc::X509StackPtr ca(sk_X509_new_null());
    BOOST_REQUIRE(ca);
    if (extra != nullptr) {
        BOOST_REQUIRE(X509_up_ref(extra) == 1);
        BOOST_REQUIRE(sk_X509_push(ca.get(), extra) > 0);
    }
    PKCS12* p12 = PKCS12_create_ex(options.password, "pass", key, cert, ca.get(), options.key_nid,
                                   options.cert_nid, 0, 0, 0, options.libctx, nullptr);
    BOOST_REQUIRE(p12 != nullptr);
    unsigned char* der = nullptr;
    const int len = i2d_PKCS12(p12, &der);
    PKCS12_free(p12);
    BOOST_REQUIRE(len > 0);
    std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
    return out;
}

cc::IdentityUpload pkcs12_upload(std::string der, std::string password = kPassword) {
    cc::IdentityUpload upload;
    upload.pkcs12_der = std::move(der);
    upload.password = std::move(password);
    return upload;
}

// A certificate for a fresh P-256 key, signed by `issuer_key` (nullptr: self-signed),
// valid from now + `from` to now + `to`.
struct Issued {
    cc::EvpPkeyPtr key;
    cc::X509Ptr cert;
    [[nodiscard]] cc::IdentityUpload upload() const {
        return pem_upload(cc::certificate_to_pem(cert.get()), cc::private_key_to_pem(key.get()));
    }
};

Issued issue(const std::vector<std::pair<int, std::string>>& subject, X509* issuer,
             EVP_PKEY* issuer_key, std::chrono::seconds from, std::chrono::seconds to) {
    Issued made{cc::EvpPkeyPtr(EVP_EC_gen("P-256")), cc::X509Ptr(X509_new())};
    BOOST_REQUIRE(made.key && made.cert);
    X509* cert = made.cert.get();
    BOOST_REQUIRE(X509_set_version(cert, X509_VERSION_3) == 1);
    BOOST_REQUIRE(ASN1_INTEGER_set(X509_get_serialNumber(cert), 4242) == 1);
    X509_NAME* name = X509_get_subject_name(cert);
    for (const auto& [nid, value] : subject) {
        BOOST_REQUIRE(X509_NAME_add_entry_by_NID(
                          name, nid, MBSTRING_UTF8,
                          reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1, 0) == 1);
    }
    X509* signer = issuer != nullptr ? issuer : cert;
    BOOST_REQUIRE(X509_set_issuer_name(cert, X509_get_subject_name(signer)) == 1);
    BOOST_REQUIRE(X509_gmtime_adj(X509_getm_notBefore(cert), from.count()) != nullptr);
    BOOST_REQUIRE(X509_gmtime_adj(X509_getm_notAfter(cert), to.count()) != nullptr);
    BOOST_REQUIRE(X509_set_pubkey(cert, made.key.get()) == 1);
    EVP_PKEY* signing_key = issuer_key != nullptr ? issuer_key : made.key.get();
    BOOST_REQUIRE(X509_sign(cert, signing_key, EVP_sha256()) > 0);
    return made;
}

const std::vector<std::pair<int, std::string>> kPassSubject = {
    {NID_userId, "pass.com.example.test"},
    {NID_commonName, "Pass Type ID: pass.com.example.test"},
    {NID_organizationalUnitName, "TEAM000001"}};

constexpr std::chrono::seconds kDay{86400};

Issued issue_from_wwdr(const std::vector<std::pair<int, std::string>>& subject,
                       std::chrono::seconds from = -kDay, std::chrono::seconds to = 30 * kDay) {
    static const cc::EvpPkeyPtr wwdr_key = pki_key("wwdr.key");
    return issue(subject, wwdr().get(), wwdr_key.get(), from, to);
}

std::string der_of(X509* cert) {
    unsigned char* der = nullptr;
    const int len = i2d_X509(cert, &der);
    BOOST_REQUIRE(len > 0);
    std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(identity)

BOOST_AUTO_TEST_CASE(good_pem_pair_is_accepted) {
    const cc::CheckedIdentity id = accepted(good_upload());
    const cc::X509Ptr pass = pki_cert("pass.pem");
    const cc::CertificateInfo info = cc::inspect_certificate(pass.get());
    BOOST_TEST(id.pass_type_id == "pass.dev.cardsmith");
    BOOST_TEST(id.team_id == "DEVTEAM123");
    BOOST_TEST(id.subject == info.subject);
    BOOST_TEST(contains(id.subject, "UID=pass.dev.cardsmith"));
    BOOST_TEST((id.not_before == info.not_before));
    BOOST_TEST((id.not_after == info.not_after));
    BOOST_TEST(id.sha256_fingerprint == cc::sha256_hex(der_of(pass.get())));
    BOOST_TEST(id.sha256_fingerprint.size() == 64U);

    const cc::X509Ptr leaf = cc::parse_certificate_pem(id.certificate_pem, "leaf");
    BOOST_TEST(X509_cmp(leaf.get(), pass.get()) == 0);
    BOOST_TEST(id.certificate_pem.find("BEGIN CERTIFICATE") ==
               id.certificate_pem.rfind("BEGIN CERTIFICATE"));
    BOOST_TEST(id.private_key_pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    const cc::EvpPkeyPtr key = cc::parse_private_key_pem(id.private_key_pem, "key");
    BOOST_TEST(cc::key_matches_certificate(pass.get(), key.get()));
}

BOOST_AUTO_TEST_CASE(matching_ids_and_a_chain_in_the_certificate_text_are_accepted) {
    // The WWDR first: the leaf is the certificate the key belongs to, not the first one.
    cc::IdentityUpload upload =
        pem_upload(pki_file("wwdr.pem") + pki_file("pass.pem"), pki_file("pass.key"));
    upload.pass_type_id = "pass.dev.cardsmith";
    upload.team_id = "DEVTEAM123";
    const cc::CheckedIdentity id = accepted(upload);
    BOOST_TEST(id.certificate_pem == cc::certificate_to_pem(pki_cert("pass.pem").get()));
}

BOOST_AUTO_TEST_CASE(encrypted_pkcs8_key_needs_the_right_password) {
    const cc::EvpPkeyPtr key = pki_key("pass.key");
    cc::IdentityUpload upload =
        pem_upload(pki_file("pass.pem"), encrypted_pkcs8(key.get(), kPassword));
    BOOST_TEST(contains(upload.private_key_pem, "BEGIN ENCRYPTED PRIVATE KEY"));

    upload.password = kPassword;
    const cc::CheckedIdentity id = accepted(upload);
    BOOST_TEST(id.private_key_pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    BOOST_TEST(cc::key_matches_certificate(
        pki_cert("pass.pem").get(), cc::parse_private_key_pem(id.private_key_pem, "k").get()));

    upload.password = "wrong password";
    cc::IdentityProblem p = refused(upload);
    BOOST_TEST(p.field == "password");
    BOOST_TEST(p.message == "the password does not decrypt the private key");
    BOOST_TEST(!contains(p.message, "wrong password"));

    upload.password.clear();
    p = refused(upload);
    BOOST_TEST(p.field == "password");
    BOOST_TEST(p.message == "the private key is encrypted: give its password");
}

BOOST_AUTO_TEST_CASE(legacy_proc_type_encrypted_key_needs_the_right_password) {
    const cc::EvpPkeyPtr key = pki_key("pass.key");
    cc::IdentityUpload upload =
        pem_upload(pki_file("pass.pem"), encrypted_traditional(key.get(), kPassword));
    BOOST_TEST(contains(upload.private_key_pem, "Proc-Type: 4,ENCRYPTED"));
    upload.password = kPassword;
    static_cast<void>(accepted(upload));
    upload.password = "nope";
    BOOST_TEST(refused(upload).field == "password");
}

BOOST_AUTO_TEST_CASE(pkcs12_bundle_is_accepted_and_checks_its_password) {
    const cc::EvpPkeyPtr key = pki_key("pass.key");
    const cc::X509Ptr pass = pki_cert("pass.pem");
    const std::string der = pkcs12(key.get(), pass.get(), wwdr().get(), {});

    const cc::CheckedIdentity id = accepted(pkcs12_upload(der));
    BOOST_TEST(id.pass_type_id == "pass.dev.cardsmith");
    BOOST_TEST(id.certificate_pem == cc::certificate_to_pem(pass.get()));
    BOOST_TEST(id.private_key_pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));

    cc::IdentityProblem p = refused(pkcs12_upload(der, "wrong password"));
    BOOST_TEST(p.field == "password");
    BOOST_TEST(p.message == "the password does not open the PKCS#12 bundle");
    p = refused(pkcs12_upload(der, ""));
    BOOST_TEST(p.field == "password");
    BOOST_TEST(contains(p.message, "give it"));
}

BOOST_AUTO_TEST_CASE(pkcs12_with_an_empty_password_is_accepted) {
    const cc::EvpPkeyPtr key = pki_key("pass.key");
    const cc::X509Ptr pass = pki_cert("pass.pem");
    PkcsOptions options;
    options.password = "";
    static_cast<void>(accepted(pkcs12_upload(pkcs12(key.get(), pass.get(), nullptr, options), "")));
}

// Keychain-style RC2/3DES encryption, which OpenSSL 3's default provider cannot read
// (apple-wallet.md pitfall 5).
BOOST_AUTO_TEST_CASE(legacy_rc2_pkcs12_is_accepted) {
    OSSL_LIB_CTX* ctx = OSSL_LIB_CTX_new();
    BOOST_REQUIRE(ctx != nullptr);
    OSSL_PROVIDER* def = OSSL_PROVIDER_load(ctx, "default");
    OSSL_PROVIDER* legacy = OSSL_PROVIDER_load(ctx, "legacy");
    ERR_clear_error();
    if (def != nullptr && legacy != nullptr) {
        const cc::EvpPkeyPtr key = pki_key("pass.key");
        const cc::X509Ptr pass = pki_cert("pass.pem");
        PkcsOptions options;
        options.key_nid = NID_pbe_WithSHA1And3_Key_TripleDES_CBC;
        options.cert_nid = NID_pbe_WithSHA1And40BitRC2_CBC;
        options.libctx = ctx;
        const std::string der = pkcs12(key.get(), pass.get(), wwdr().get(), options);

        // The process-wide context alone cannot read it: the test means something.
        const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
        PKCS12* p12 = d2i_PKCS12(nullptr, &cursor, static_cast<long>(der.size()));
        BOOST_REQUIRE(p12 != nullptr);
        EVP_PKEY* parsed_key = nullptr;
        X509* parsed_cert = nullptr;
        BOOST_TEST(PKCS12_parse(p12, kPassword.c_str(), &parsed_key, &parsed_cert, nullptr) == 0);
        EVP_PKEY_free(parsed_key);
        X509_free(parsed_cert);
        PKCS12_free(p12);
        ERR_clear_error();

        const cc::CheckedIdentity id = accepted(pkcs12_upload(der));
        BOOST_TEST(id.certificate_pem == cc::certificate_to_pem(pass.get()));
        BOOST_TEST(refused(pkcs12_upload(der, "wrong")).field == "password");
    } else {
        BOOST_TEST_MESSAGE("legacy provider not available: skipped");
    }
    OSSL_PROVIDER_unload(legacy);
    OSSL_PROVIDER_unload(def);
    OSSL_LIB_CTX_free(ctx);
}

BOOST_AUTO_TEST_CASE(key_of_another_certificate_is_refused) {
    cc::IdentityProblem p = refused(pem_upload(pki_file("pass.pem"), pki_file("server.key")));
    BOOST_TEST(p.field == "privateKey");
    BOOST_TEST(p.message == "the private key does not belong to the certificate");

    const cc::EvpPkeyPtr other = pki_key("server.key");
    // PKCS12_create refuses a mismatching pair: bundle a key with only the WWDR.
    p = refused(pkcs12_upload(pkcs12(other.get(), nullptr, wwdr().get(), {})));
    BOOST_TEST(p.field == "pkcs12");
    BOOST_TEST(p.message == "the private key does not belong to the certificate");
    // A matching pair that the WWDR did not issue.
    const cc::X509Ptr server = pki_cert("server.pem");
    p = refused(pkcs12_upload(pkcs12(other.get(), server.get(), nullptr, {})));
    BOOST_TEST(p.field == "certificate");
    BOOST_TEST(contains(p.message, "was not issued by Apple's WWDR intermediate"));
}

BOOST_AUTO_TEST_CASE(certificate_not_from_the_wwdr_is_refused) {
    cc::IdentityProblem p = refused(pem_upload(pki_file("client.pem"), pki_file("client.key")));
    BOOST_TEST(p.field == "certificate");
    BOOST_TEST(p.message.starts_with(
        "the certificate was not issued by Apple's WWDR intermediate (its issuer is "));
    BOOST_TEST(contains(p.message, "Cardsmith Dev Root CA"));

    const Issued self_signed = issue(kPassSubject, nullptr, nullptr, -kDay, 30 * kDay);
    p = refused(self_signed.upload());
    BOOST_TEST(p.field == "certificate");
    BOOST_TEST(contains(p.message, "was not issued by Apple's WWDR intermediate"));

    // Names the WWDR as issuer but is signed by another key.
    const cc::EvpPkeyPtr forger = pki_key("server.key");
    const Issued forged = issue(kPassSubject, wwdr().get(), forger.get(), -kDay, 30 * kDay);
    p = refused(forged.upload());
    BOOST_TEST(p.field == "certificate");
    BOOST_TEST(contains(p.message, "was not issued by Apple's WWDR intermediate"));
    BOOST_TEST(contains(p.message, "signature does not verify"));
}

BOOST_AUTO_TEST_CASE(certificate_must_be_valid_now) {
    const cc::CertificateInfo info = cc::inspect_certificate(pki_cert("pass.pem").get());
    cc::IdentityProblem p = refused(good_upload(), info.not_after + std::chrono::hours(24));
    BOOST_TEST(p.field == "certificate");
    BOOST_TEST(p.message == "the certificate expired on " +
                                cardsmith::format_iso8601(info.not_after).substr(0, 10));

    p = refused(good_upload(), info.not_before - std::chrono::hours(24));
    BOOST_TEST(p.field == "certificate");
    BOOST_TEST(p.message ==
               "the certificate is not valid before " + cardsmith::format_iso8601(info.not_before));

    // A really expired one, issued by the WWDR.
    const Issued expired = issue_from_wwdr(kPassSubject, -30 * kDay, -2 * kDay);
    p = refused(expired.upload());
    BOOST_TEST(contains(p.message, "the certificate expired on "));
    // And a fresh one from the same helper is fine, so the helper is not the problem.
    static_cast<void>(accepted(issue_from_wwdr(kPassSubject).upload()));
}

// RFC 5280 §4.1.2.5: a certificate without a well-defined end says 99991231235959Z. Its
// end overflowed system_clock's nanoseconds (after 2262) into a date in the past.
BOOST_AUTO_TEST_CASE(certificate_valid_until_9999_is_accepted) {
    const Issued forever = issue_from_wwdr(kPassSubject);
    BOOST_REQUIRE(
        ASN1_TIME_set_string_X509(X509_getm_notAfter(forever.cert.get()), "99991231235959Z") == 1);
    BOOST_REQUIRE(X509_sign(forever.cert.get(), pki_key("wwdr.key").get(), EVP_sha256()) > 0);
    const cc::CertificateInfo info = cc::inspect_certificate(forever.cert.get());
    BOOST_TEST((info.not_after > Clock::now() + std::chrono::days(365 * 200)));
    const cc::CheckedIdentity checked = accepted(forever.upload());
    BOOST_TEST((checked.not_after > Clock::now() + std::chrono::days(365 * 200)));
}

BOOST_AUTO_TEST_CASE(ids_must_match_the_certificate) {
    cc::IdentityUpload upload = good_upload();
    upload.pass_type_id = "pass.c.d";
    cc::IdentityProblem p = refused(upload);
    BOOST_TEST(p.field == "passTypeId");
    BOOST_TEST(p.message ==
               "the certificate's UID is pass.dev.cardsmith but passTypeId is pass.c.d");

    upload = good_upload();
    upload.team_id = "OTHERTEAM1";
    p = refused(upload);
    BOOST_TEST(p.field == "teamId");
    BOOST_TEST(p.message == "the certificate's OU is DEVTEAM123 but teamId is OTHERTEAM1");
}

BOOST_AUTO_TEST_CASE(certificate_needs_a_pass_uid_and_a_team_ou) {
    cc::IdentityProblem p = refused(
        issue_from_wwdr({{NID_commonName, "x"}, {NID_organizationalUnitName, "T"}}).upload());
    BOOST_TEST(p.field == "certificate");
    BOOST_TEST(contains(p.message, "has no UID"));

    p = refused(
        issue_from_wwdr({{NID_userId, "com.example.app"}, {NID_organizationalUnitName, "T"}})
            .upload());
    BOOST_TEST(p.field == "certificate");
    BOOST_TEST(contains(p.message, "UID is com.example.app, which is not a pass type ID"));

    p = refused(issue_from_wwdr({{NID_userId, "pass.x"}, {NID_commonName, "x"}}).upload());
    BOOST_TEST(p.field == "certificate");
    BOOST_TEST(contains(p.message, "has no OU"));

    // Control characters from the certificate never reach a message (or a log line).
    cc::IdentityUpload upload =
        issue_from_wwdr({{NID_userId, "pass.x\nFAKE"}, {NID_organizationalUnitName, "T"}}).upload();
    upload.pass_type_id = "pass.y";
    p = refused(upload);
    BOOST_TEST(p.field == "passTypeId");
    BOOST_TEST(p.message == "the certificate's UID is pass.x?FAKE but passTypeId is pass.y");
}

BOOST_AUTO_TEST_CASE(garbage_is_refused_on_the_right_field) {
    cc::IdentityProblem p = refused(pem_upload("hello", pki_file("pass.key")));
    BOOST_TEST(p.field == "certificate");
    BOOST_TEST(contains(p.message, "not a PEM certificate"));

    p = refused(pem_upload(der_of(pki_cert("pass.pem").get()), pki_file("pass.key")));
    BOOST_TEST(p.field == "certificate");

    std::string damaged = pki_file("pass.pem");
    damaged[damaged.size() / 2] = '*';
    p = refused(pem_upload(damaged, pki_file("pass.key")));
    BOOST_TEST(p.field == "certificate");
    BOOST_TEST(contains(p.message, "damaged"));
    // A good certificate followed by a damaged one.
    p = refused(pem_upload(pki_file("pass.pem") + damaged, pki_file("pass.key")));
    BOOST_TEST(p.field == "certificate");
    BOOST_TEST(contains(p.message, "damaged"));

    p = refused(pem_upload(pki_file("pass.pem"), "-----BEGIN PRIVATE KEY-----\nAAAA\n"));
    BOOST_TEST(p.field == "privateKey");
    BOOST_TEST(contains(p.message, "not a PEM private key"));

    p = refused(pkcs12_upload(std::string("\x30\x03\x02\x01\x03garbage", 12)));
    BOOST_TEST(p.field == "pkcs12");
    BOOST_TEST(contains(p.message, "not a PKCS#12 bundle"));
}

BOOST_AUTO_TEST_CASE(exactly_one_form_within_size_limits) {
    cc::IdentityUpload both = good_upload();
    both.pkcs12_der = "x";
    BOOST_TEST(refused(both).field == "pkcs12");
    BOOST_TEST(refused(cc::IdentityUpload{}).field == "certificate");
    BOOST_TEST(refused(pem_upload(pki_file("pass.pem"), "")).field == "privateKey");
    BOOST_TEST(refused(pem_upload("", pki_file("pass.key"))).field == "certificate");

    cc::IdentityUpload big = good_upload();
    big.certificate_pem += std::string(cc::kMaxIdentityInput, '\n');
    cc::IdentityProblem p = refused(big);
    BOOST_TEST(p.field == "certificate");
    BOOST_TEST(contains(p.message, "64 KiB"));
    BOOST_TEST(refused(pkcs12_upload(std::string(cc::kMaxIdentityInput + 1, 'x'))).field ==
               "pkcs12");
    cc::IdentityUpload long_password = good_upload();
    long_password.password = std::string(cc::kMaxIdentityPassword + 1, 'p');
    BOOST_TEST(refused(long_password).field == "password");

    // Exactly at the limit is fine.
    cc::IdentityUpload at_limit = good_upload();
    at_limit.certificate_pem.resize(cc::kMaxIdentityInput, '\n');
    static_cast<void>(accepted(at_limit));
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

const std::string kKey(32, '\x42');

std::string b64url_decode(std::string text) {
    for (char& c : text) {
        c = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    while (text.size() % 4 != 0) {
        text += '=';
    }
    std::string out(text.size() / 4 * 3, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(text.data()),
                                  static_cast<int>(text.size()));
    BOOST_REQUIRE(n >= 0);
    out.resize(static_cast<std::size_t>(n) -
               static_cast<std::size_t>(std::count(text.begin(), text.end(), '=')));
    return out;
}

// Plain EVP AES-256-GCM over the documented layout nonce | ciphertext | tag.
std::optional<std::string> reference_open(const std::string& key, const std::string& raw,
                                          const std::string& ad) {
    BOOST_REQUIRE(raw.size() >= 28U);
    const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
    const std::size_t ct_len = raw.size() - 28;
    std::string tag = raw.substr(12 + ct_len);
    std::string out(ct_len, '\0');
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    int len = 0;
    bool ok = EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr,
                                 reinterpret_cast<const unsigned char*>(key.data()), bytes) == 1;
    ok = ok &&
         EVP_DecryptUpdate(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(ad.data()),
                           static_cast<int>(ad.size())) == 1;
    ok = ok && EVP_DecryptUpdate(ctx, reinterpret_cast<unsigned char*>(out.data()), &len,
                                 bytes + 12, static_cast<int>(ct_len)) == 1;
    ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag.data()) == 1;
    ok = ok && EVP_DecryptFinal_ex(ctx, reinterpret_cast<unsigned char*>(out.data()), &len) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) {
        return std::nullopt;
    }
    return out;
}

template <typename Fn>
std::string crypto_error_of(Fn fn) {
    try {
        fn();
    } catch (const cc::CryptoError& e) {
        return e.what();
    }
    BOOST_FAIL("no CryptoError");
    return {};
}

// Key files are private (a group- or world-readable one is refused before it is read).
void write_text(const fs::path& path, const std::string& text) {
    {
        std::ofstream out(path, std::ios::binary);
        out << text;
        BOOST_REQUIRE(out);
    }
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(secret_box)

BOOST_AUTO_TEST_CASE(round_trip_with_the_documented_format) {
    const cc::SecretBox box(kKey);
    const std::string secret = pki_file("pass.key");
    const std::string sealed = box.seal(secret, "merchant:7");
    BOOST_TEST(sealed.starts_with("v1."));
    BOOST_TEST(sealed.find_first_not_of(
                   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 3) ==
               std::string::npos);
    BOOST_TEST(box.open(sealed, "merchant:7").value() == secret);

    const std::string raw = b64url_decode(sealed.substr(3));
    BOOST_TEST(raw.size() == 12 + secret.size() + 16);
    BOOST_TEST(reference_open(kKey, raw, "merchant:7").value() == secret);

    // A fresh nonce each time.
    BOOST_TEST(box.seal(secret, "merchant:7") != sealed);
    BOOST_TEST(box.open(box.seal("", ""), "").value().empty());
    BOOST_TEST(box.open(box.seal(std::string(1, '\0'), ""), "").value() == std::string(1, '\0'));
}

BOOST_AUTO_TEST_CASE(tampering_wrong_ad_and_wrong_key_fail) {
    const cc::SecretBox box(kKey);
    const std::string sealed = box.seal("the private key", "merchant:7");
    for (std::size_t i = 3; i < sealed.size(); ++i) {
        std::string tampered = sealed;
        tampered[i] = tampered[i] == 'A' ? 'B' : 'A';
        BOOST_TEST(!box.open(tampered, "merchant:7").has_value(), "position " << i);
    }
    std::string raw = b64url_decode(sealed.substr(3));
    raw[raw.size() / 2] = static_cast<char>(raw[raw.size() / 2] ^ 0x01);
    BOOST_TEST(!reference_open(kKey, raw, "merchant:7").has_value());

    BOOST_TEST(!box.open(sealed, "merchant:8").has_value());
    BOOST_TEST(!box.open(sealed, "").has_value());
    BOOST_TEST(!cc::SecretBox(std::string(32, '\x43')).open(sealed, "merchant:7").has_value());
    BOOST_TEST(!box.open(sealed.substr(0, sealed.size() - 1), "merchant:7").has_value());
    BOOST_TEST(!box.open("v2" + sealed.substr(2), "merchant:7").has_value());
    BOOST_TEST(!box.open(sealed + "=", "merchant:7").has_value());
    BOOST_TEST(!box.open("", "").has_value());
    BOOST_TEST(!box.open("v1.", "").has_value());
    BOOST_TEST(!box.open("v1.!!!!", "").has_value());
}

BOOST_AUTO_TEST_CASE(key_must_be_32_bytes_and_key_id_tells_keys_apart) {
    BOOST_TEST(
        contains(crypto_error_of([] { cc::SecretBox box(std::string(31, 'k')); }), "32 bytes"));
    BOOST_TEST(
        contains(crypto_error_of([] { cc::SecretBox box(std::string(64, 'a')); }), "32 bytes"));
    // SHA-256 of 32 zero bytes starts 66687aad.
    BOOST_TEST(cc::SecretBox(std::string(32, '\0')).key_id() == "66687aad");
    BOOST_TEST(cc::SecretBox(kKey).key_id() != cc::SecretBox(std::string(32, '\0')).key_id());
    BOOST_TEST(cc::SecretBox(kKey).key_id().size() == 8U);
}

BOOST_AUTO_TEST_CASE(from_file_creates_a_private_key_file_and_reads_it_back) {
    const cardsmith::test::TempDir dir;
    const fs::path file = dir.path() / "server.key";
    BOOST_TEST(
        contains(crypto_error_of([&] { static_cast<void>(cc::SecretBox::from_file(file, false)); }),
                 file.string()));
    BOOST_TEST(!fs::exists(file));

    const cc::SecretBox made = cc::SecretBox::from_file(file, true);
    struct stat st {};
    BOOST_REQUIRE(::stat(file.c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0600U);
    const std::string text = read_file(file);
    BOOST_TEST(text.size() == 65U);
    BOOST_TEST(text.back() == '\n');
    BOOST_TEST(text.find_first_not_of("0123456789abcdef") == 64U);
    BOOST_TEST(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator{}) == 1);

    const cc::SecretBox again = cc::SecretBox::from_file(file, true);
    BOOST_TEST(again.key_id() == made.key_id());
    BOOST_TEST(again.open(made.seal("x", "ad"), "ad").value() == "x");
    BOOST_TEST(read_file(file) == text);

    // Upper case and CRLF are fine; the key is the hex.
    std::string upper = text.substr(0, 64);
    for (char& c : upper) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    const fs::path crlf = dir.path() / "crlf.key";
    write_text(crlf, upper + "\r\n");
    BOOST_TEST(cc::SecretBox::from_file(crlf, false).key_id() == made.key_id());
}

BOOST_AUTO_TEST_CASE(malformed_key_files_are_refused_without_showing_them) {
    const cardsmith::test::TempDir dir;
    const std::string good = std::string(64, 'a');
    const std::vector<std::string> bad = {"",
                                          "\n",
                                          good.substr(0, 63) + "\n",
                                          good + "a\n",
                                          good + "\n\n",
                                          good + " ",
                                          std::string(63, 'a') + "g",
                                          std::string(5000, 'a'),
                                          std::string(32, '\x42')};
    for (std::size_t i = 0; i < bad.size(); ++i) {
        const fs::path file = dir.path() / ("bad" + std::to_string(i) + ".key");
        write_text(file, bad[i]);
        const std::string what =
            crypto_error_of([&] { static_cast<void>(cc::SecretBox::from_file(file, true)); });
        BOOST_TEST(contains(what, file.string()), what);
        BOOST_TEST(contains(what, "malformed"), what);
        BOOST_TEST(!contains(what, std::string(20, 'a')), what);
        BOOST_TEST(read_file(file) == bad[i]);  // never overwritten
    }
    const std::string what =
        crypto_error_of([&] { static_cast<void>(cc::SecretBox::from_file(dir.path(), true)); });
    BOOST_TEST(contains(what, dir.path().string()), what);
    BOOST_TEST(contains(crypto_error_of([&] {
                            static_cast<void>(
                                cc::SecretBox::from_file(dir.path() / "no" / "k", true));
                        }),
                        "cannot create"));
}

BOOST_AUTO_TEST_SUITE_END()
