#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <climits>
#include <ctime>
#include <filesystem>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "common/random.hpp"
#include "crypto/crypto_error.hpp"
#include "crypto/dev_certs.hpp"
#include "crypto/pass_signer.hpp"
#include "crypto/pem.hpp"

namespace cc = cardsmith::crypto;
namespace fs = std::filesystem;

namespace {

const std::string kManifest =
    "{\n  \"pass.json\": \"da39a3ee5e6b4b0d3255bfef95601890afd80709\",\n"
    "  \"icon.png\": \"a9993e364706816aba3e25717850c26c9cd0d89d\"\n}\n";

// The dev PKI in a fresh temp directory, made once for this file and removed at exit.
struct Pki {
    fs::path dir = fs::temp_directory_path() / ("cardsmith-test-" + cardsmith::random::hex(8));
    Pki() {
        if (!cc::make_dev_certs(dir, cc::DevCertsOptions{})) {
            throw std::runtime_error("dev certs not made");
        }
    }
    Pki(const Pki&) = delete;
    Pki& operator=(const Pki&) = delete;
    ~Pki() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    [[nodiscard]] std::string path(const char* name) const { return (dir / name).string(); }
    [[nodiscard]] cc::X509Ptr cert(const char* name) const {
        return cc::load_certificate_file(dir / name);
    }
    [[nodiscard]] cc::EvpPkeyPtr key(const char* name) const {
        return cc::load_private_key_file(dir / name);
    }
};

const Pki& pki() {
    static const Pki instance;
    return instance;
}

const cc::PassSigner& signer() {
    static const std::shared_ptr<const cc::PassSigner> instance = cc::PassSigner::from_files(
        pki().path("pass.pem"), pki().path("pass.key"), pki().path("wwdr.pem"));
    return *instance;
}

cc::BioPtr mem_bio(const std::string& data) {
    cc::BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
    BOOST_REQUIRE(bio);
    return bio;
}

cc::CmsPtr parse_der(const std::string& der) {
    const cc::BioPtr in = mem_bio(der);
    cc::CmsPtr cms(d2i_CMS_bio(in.get(), nullptr));
    BOOST_REQUIRE(cms);
    return cms;
}

// CMS_verify of a detached signature against the dev root, any purpose.
bool verifies(const std::string& der, const std::string& content) {
    const cc::X509Ptr root = pki().cert("root-ca.pem");
    const cc::X509StorePtr store(X509_STORE_new());
    BOOST_REQUIRE(store);
    BOOST_REQUIRE(X509_STORE_add_cert(store.get(), root.get()) == 1);
    BOOST_REQUIRE(X509_STORE_set_purpose(store.get(), X509_PURPOSE_ANY) == 1);
    const cc::CmsPtr cms = parse_der(der);
    const cc::BioPtr data = mem_bio(content);
    const bool ok =
        CMS_verify(cms.get(), nullptr, store.get(), data.get(), nullptr, CMS_BINARY) == 1;
    ERR_clear_error();
    return ok;
}

CMS_SignerInfo* only_signer_info(CMS_ContentInfo* cms) {
    STACK_OF(CMS_SignerInfo)* infos = CMS_get0_SignerInfos(cms);
    BOOST_REQUIRE(infos != nullptr);
    BOOST_REQUIRE(sk_CMS_SignerInfo_num(infos) == 1);
    return sk_CMS_SignerInfo_value(infos, 0);
}

template <typename Fn>
bool throws_crypto_error_containing(Fn fn, const std::string& needle) {
    try {
        fn();
    } catch (const cc::CryptoError& e) {
        return std::string(e.what()).find(needle) != std::string::npos;
    }
    return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pass_signer)

BOOST_AUTO_TEST_CASE(signature_verifies_over_the_manifest) {
    const std::string der = signer().sign(kManifest);
    BOOST_TEST(!der.empty());
    BOOST_TEST(verifies(der, kManifest));
    const cc::CmsPtr cms = parse_der(der);
    BOOST_TEST(OBJ_obj2nid(CMS_get0_type(cms.get())) == NID_pkcs7_signed);
    BOOST_TEST(CMS_is_detached(cms.get()) == 1);
    BOOST_TEST(OBJ_obj2nid(CMS_get0_eContentType(cms.get())) == NID_pkcs7_data);
}

BOOST_AUTO_TEST_CASE(tampered_manifest_fails) {
    const std::string der = signer().sign(kManifest);
    std::string tampered = kManifest;
    tampered[10] = static_cast<char>(tampered[10] ^ 1);
    BOOST_TEST(!verifies(der, tampered));
    // No LF -> CRLF canonicalisation: the CRLF form is a different document.
    std::string crlf;
    for (char c : kManifest) {
        crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
    }
    BOOST_TEST(!verifies(der, crlf));
    BOOST_TEST(!verifies(der, ""));
}

BOOST_AUTO_TEST_CASE(signer_and_wwdr_are_in_the_certificate_set) {
    const cc::X509Ptr pass = pki().cert("pass.pem");
    const cc::X509Ptr wwdr = pki().cert("wwdr.pem");
    const cc::X509Ptr root = pki().cert("root-ca.pem");
    const cc::CmsPtr cms = parse_der(signer().sign(kManifest));

    CMS_SignerInfo* info = only_signer_info(cms.get());
    BOOST_TEST(CMS_SignerInfo_cert_cmp(info, pass.get()) == 0);
    BOOST_TEST(CMS_SignerInfo_cert_cmp(info, wwdr.get()) != 0);

    const cc::X509StackPtr certs(CMS_get1_certs(cms.get()));
    BOOST_REQUIRE(certs);
    BOOST_TEST(sk_X509_num(certs.get()) == 2);
    bool has_pass = false;
    bool has_wwdr = false;
    bool has_root = false;
    for (int i = 0; i < sk_X509_num(certs.get()); ++i) {
        X509* cert = sk_X509_value(certs.get(), i);
        has_pass = has_pass || X509_cmp(cert, pass.get()) == 0;
        has_wwdr = has_wwdr || X509_cmp(cert, wwdr.get()) == 0;
        has_root = has_root || X509_cmp(cert, root.get()) == 0;
    }
    BOOST_TEST(has_pass);
    BOOST_TEST(has_wwdr);
    BOOST_TEST(!has_root);
}

BOOST_AUTO_TEST_CASE(signed_attributes_carry_signing_time_and_sha256) {
    const auto before = std::chrono::system_clock::now() - std::chrono::minutes(1);
    const cc::CmsPtr cms = parse_der(signer().sign(kManifest));
    CMS_SignerInfo* info = only_signer_info(cms.get());
    BOOST_TEST(CMS_signed_get_attr_by_NID(info, NID_pkcs9_contentType, -1) >= 0);
    BOOST_TEST(CMS_signed_get_attr_by_NID(info, NID_pkcs9_messageDigest, -1) >= 0);
    BOOST_REQUIRE(CMS_signed_get_attr_by_NID(info, NID_pkcs9_signingTime, -1) >= 0);

    // A plain UTCTime close to now.
    const auto* time = static_cast<const ASN1_TIME*>(
        CMS_signed_get0_data_by_OBJ(info, OBJ_nid2obj(NID_pkcs9_signingTime), -3, V_ASN1_UTCTIME));
    BOOST_REQUIRE(time != nullptr);
    std::tm tm{};
    BOOST_REQUIRE(ASN1_TIME_to_tm(time, &tm) == 1);
    const auto signed_at = std::chrono::system_clock::from_time_t(timegm(&tm));
    BOOST_TEST((signed_at >= before));
    BOOST_TEST((signed_at <= std::chrono::system_clock::now() + std::chrono::minutes(1)));

    X509_ALGOR* digest = nullptr;
    CMS_SignerInfo_get0_algs(info, nullptr, nullptr, &digest, nullptr);
    BOOST_REQUIRE(digest != nullptr);
    const ASN1_OBJECT* digest_oid = nullptr;
    X509_ALGOR_get0(&digest_oid, nullptr, nullptr, digest);
    BOOST_TEST(OBJ_obj2nid(digest_oid) == NID_sha256);
}

BOOST_AUTO_TEST_CASE(signing_is_thread_safe) {
    constexpr int kThreads = 4;
    std::vector<std::string> signatures(kThreads);
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
        threads.emplace_back([&signatures, i] {
            signatures[static_cast<std::size_t>(i)] = signer().sign(kManifest + std::to_string(i));
        });
    }
    for (std::thread& t : threads) {
        t.join();
    }
    for (int i = 0; i < kThreads; ++i) {
        BOOST_TEST(
            verifies(signatures[static_cast<std::size_t>(i)], kManifest + std::to_string(i)));
    }
}

BOOST_AUTO_TEST_CASE(certificate_info_describes_the_pass_certificate) {
    BOOST_TEST(signer().certificate_info().uid == "pass.dev.cardsmith");
    BOOST_TEST(signer().certificate_info().org_unit == "DEVTEAM123");
    BOOST_TEST(X509_cmp(signer().certificate(), pki().cert("pass.pem").get()) == 0);
    BOOST_TEST(X509_cmp(signer().wwdr(), pki().cert("wwdr.pem").get()) == 0);
}

BOOST_AUTO_TEST_CASE(mismatched_key_is_refused) {
    BOOST_TEST(throws_crypto_error_containing(
        [] {
            cc::PassSigner s(pki().cert("pass.pem"), pki().key("server.key"),
                             pki().cert("wwdr.pem"));
        },
        "does not match"));
}

BOOST_AUTO_TEST_CASE(certificate_not_issued_by_wwdr_is_refused) {
    // The pass certificate with the root standing in for the WWDR.
    BOOST_TEST(throws_crypto_error_containing(
        [] {
            cc::PassSigner s(pki().cert("pass.pem"), pki().key("pass.key"),
                             pki().cert("root-ca.pem"));
        },
        "not issued by"));
    // A certificate the root issued, with its own key, against the real WWDR.
    BOOST_TEST(throws_crypto_error_containing(
        [] {
            cc::PassSigner s(pki().cert("server.pem"), pki().key("server.key"),
                             pki().cert("wwdr.pem"));
        },
        "not issued by"));
}

BOOST_AUTO_TEST_CASE(missing_file_is_named) {
    BOOST_TEST(throws_crypto_error_containing(
        [] {
            static_cast<void>(cc::PassSigner::from_files(
                pki().path("pass.pem"), pki().path("nope.key"), pki().path("wwdr.pem")));
        },
        "nope.key"));
}

BOOST_AUTO_TEST_CASE(raw_sign_verifies) {
    const std::string signature = cc::raw_sign(signer().private_key(), kManifest);
    BOOST_TEST(signature.size() == 256U);
    const auto check = [&](const std::string& data) {
        const cc::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
        BOOST_REQUIRE(ctx);
        BOOST_REQUIRE(EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr,
                                           X509_get0_pubkey(signer().certificate())) == 1);
        const int rc = EVP_DigestVerify(
            ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
            reinterpret_cast<const unsigned char*>(data.data()), data.size());
        ERR_clear_error();
        return rc == 1;
    };
    BOOST_TEST(check(kManifest));
    BOOST_TEST(!check(kManifest + " "));
    // PKCS#1 v1.5 is deterministic.
    BOOST_TEST(cc::raw_sign(signer().private_key(), kManifest) == signature);
}

BOOST_AUTO_TEST_SUITE_END()
