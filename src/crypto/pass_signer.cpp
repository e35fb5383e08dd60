#include "crypto/pass_signer.hpp"

#include <openssl/err.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include <climits>

#include "crypto/crypto_error.hpp"

namespace cardsmith::crypto {
namespace {

// Detached, binary (no S/MIME CRLF canonicalisation, apple-wallet.md §1.8), no
// SMIMECapabilities attribute; PARTIAL so that the signer is added with SHA-256.
constexpr unsigned int kCmsFlags = CMS_DETACHED | CMS_BINARY | CMS_NOSMIMECAP | CMS_PARTIAL;

BioPtr input_bio(std::string_view data) {
    if (data.size() > static_cast<std::size_t>(INT_MAX)) {
        throw CryptoError("input too large to sign");
    }
    BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
    if (!bio) {
        throw CryptoError("BIO_new_mem_buf failed: " + openssl_errors());
    }
    return bio;
}

}  // namespace

PassSigner::PassSigner(X509Ptr cert, EvpPkeyPtr key, X509Ptr wwdr)
    : cert_(std::move(cert)), key_(std::move(key)), wwdr_(std::move(wwdr)) {
    if (!cert_ || !key_ || !wwdr_) {
        throw CryptoError("pass signer: missing certificate, key or WWDR certificate");
    }
    info_ = inspect_certificate(cert_.get());
    if (!key_matches_certificate(cert_.get(), key_.get())) {
        throw CryptoError("pass signer: the private key does not match the pass certificate (" +
                          info_.subject + ")");
    }
    if (const std::string reason = check_issued_by(cert_.get(), wwdr_.get()); !reason.empty()) {
        throw CryptoError("pass signer: the pass certificate (issuer " + info_.issuer +
                          ") was not issued by the given WWDR certificate (" +
                          inspect_certificate(wwdr_.get()).subject + "): " + reason);
    }
    // Fill OpenSSL's lazily computed extension caches now, so that concurrent sign()
    // calls only ever read the certificates.
    static_cast<void>(X509_check_purpose(cert_.get(), -1, 0));
    static_cast<void>(X509_check_purpose(wwdr_.get(), -1, 0));
    ERR_clear_error();

    extra_certs_.reset(sk_X509_new_null());
    if (!extra_certs_ || X509_up_ref(wwdr_.get()) != 1) {
        throw CryptoError("pass signer: allocation failed: " + openssl_errors());
    }
    if (sk_X509_push(extra_certs_.get(), wwdr_.get()) <= 0) {
        X509_free(wwdr_.get());
        throw CryptoError("pass signer: sk_X509_push failed: " + openssl_errors());
    }
}

std::shared_ptr<const PassSigner> PassSigner::from_files(const std::string& cert_path,
                                                         const std::string& key_path,
                                                         const std::string& wwdr_path) {
    // Loaded in this order on purpose, so an error names the first bad file.
    X509Ptr cert = load_certificate_file(cert_path);
    EvpPkeyPtr key = load_private_key_file(key_path);
    X509Ptr wwdr = load_certificate_file(wwdr_path);
    return std::make_shared<const PassSigner>(std::move(cert), std::move(key), std::move(wwdr));
}

std::string PassSigner::sign(std::string_view manifest) const {
    const BioPtr data = input_bio(manifest);
    const CmsPtr cms(CMS_sign(nullptr, nullptr, extra_certs_.get(), nullptr, kCmsFlags));
    if (!cms) {
        throw CryptoError("CMS_sign failed: " + openssl_errors());
    }
    if (CMS_add1_signer(cms.get(), cert_.get(), key_.get(), EVP_sha256(), kCmsFlags) == nullptr) {
        throw CryptoError("CMS_add1_signer failed: " + openssl_errors());
    }
    if (CMS_final(cms.get(), data.get(), nullptr, kCmsFlags) != 1) {
        throw CryptoError("CMS_final failed: " + openssl_errors());
    }
    const BioPtr out(BIO_new(BIO_s_mem()));
    if (!out || i2d_CMS_bio(out.get(), cms.get()) != 1) {
        throw CryptoError("i2d_CMS_bio failed: " + openssl_errors());
    }
    char* der = nullptr;
    const long len = BIO_get_mem_data(out.get(), &der);
    if (len <= 0 || der == nullptr) {
        throw CryptoError("empty CMS output");
    }
    return {der, static_cast<std::size_t>(len)};
}

std::string raw_sign(EVP_PKEY* key, std::string_view data) {
    if (key == nullptr) {
        throw CryptoError("raw_sign: null key");
    }
    const EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
    if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, EVP_sha256(), nullptr, key) != 1) {
        throw CryptoError("EVP_DigestSignInit failed: " + openssl_errors());
    }
    if (EVP_PKEY_is_a(key, "RSA") == 1 &&
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0) {
        throw CryptoError("EVP_PKEY_CTX_set_rsa_padding failed: " + openssl_errors());
    }
    const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
    std::size_t len = 0;
    if (EVP_DigestSign(ctx.get(), nullptr, &len, bytes, data.size()) != 1) {
        throw CryptoError("EVP_DigestSign (size) failed: " + openssl_errors());
    }
    std::string signature(len, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &len, bytes,
                       data.size()) != 1) {
        throw CryptoError("EVP_DigestSign failed: " + openssl_errors());
    }
    signature.resize(len);
    return signature;
}

}  // namespace cardsmith::crypto
