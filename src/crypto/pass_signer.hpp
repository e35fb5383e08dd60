#pragma once
// Detached CMS signature of manifest.json for a .pkpass (apple-wallet.md §1.8): signer
// is the Pass Type ID certificate, the WWDR intermediate rides along, signed
// attributes carry contentType, messageDigest and signingTime; DER output.
// Immutable after construction; sign() is thread-safe and may run on many threads.
#include <memory>
#include <string>
#include <string_view>

#include "crypto/openssl_ptr.hpp"
#include "crypto/pem.hpp"

namespace cardsmith::crypto {

class PassSigner {
public:
    // Takes ownership. Throws CryptoError when the key does not match the certificate
    // or the certificate was not issued by `wwdr`.
    PassSigner(X509Ptr cert, EvpPkeyPtr key, X509Ptr wwdr);
    static std::shared_ptr<const PassSigner> from_files(const std::string& cert_path,
                                                        const std::string& key_path,
                                                        const std::string& wwdr_path);

    // DER-encoded detached SignedData over `manifest`. Throws CryptoError on an
    // OpenSSL failure (never expected with a valid key).
    [[nodiscard]] std::string sign(std::string_view manifest) const;

    [[nodiscard]] const CertificateInfo& certificate_info() const { return info_; }
    [[nodiscard]] X509* certificate() const { return cert_.get(); }
    [[nodiscard]] EVP_PKEY* private_key() const { return key_.get(); }
    [[nodiscard]] X509* wwdr() const { return wwdr_.get(); }

private:
    X509Ptr cert_;
    EvpPkeyPtr key_;
    X509Ptr wwdr_;
    X509StackPtr extra_certs_;
    CertificateInfo info_;
};

// One raw RSA signature (SHA-256 digest + PKCS#1 v1.5) of `data`: the benchmark's
// ceiling, the cost a pass signature cannot go below.
[[nodiscard]] std::string raw_sign(EVP_PKEY* key, std::string_view data);

}  // namespace cardsmith::crypto
