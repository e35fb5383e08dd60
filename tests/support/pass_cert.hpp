#pragma once
// Apple-shaped pass certificates for tests: an RSA certificate with the pass type id as
// subject UID, "Pass Type ID: <uid>" as CN and the team as OU, signed by one of the shared
// dev PKI's certificates (DevPki), as a merchant would upload.
#include <openssl/x509.h>

#include <chrono>
#include <string>

#include "crypto/pem.hpp"
#include "dev_pki.hpp"

namespace cardsmith::test {

constexpr std::chrono::seconds kDay{86400};

struct Issued {
    std::string cert_pem;
    std::string key_pem;
};

// An RSA pass certificate with the given UID/OU signed by `issuer` (nullptr: self-signed).
inline Issued issue(const std::string& uid, const std::string& team, const char* issuer_name,
                    std::chrono::seconds from = -kDay, std::chrono::seconds to = 400 * kDay) {
    const auto dir = test::DevPki::shared().dir.path();
    crypto::EvpPkeyPtr key(EVP_RSA_gen(2048));
    crypto::X509Ptr cert(X509_new());
    X509_set_version(cert.get(), X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 777);
    X509_NAME* name = X509_get_subject_name(cert.get());
    const std::string cn = "Pass Type ID: " + uid;
    for (const auto& [nid, value] : {std::pair{NID_userId, uid}, std::pair{NID_commonName, cn},
                                     std::pair{NID_organizationalUnitName, team}}) {
        X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                   0);
    }
    crypto::X509Ptr issuer;
    crypto::EvpPkeyPtr issuer_key;
    if (issuer_name != nullptr) {
        issuer = crypto::load_certificate_file(dir / (std::string(issuer_name) + ".pem"));
        issuer_key = crypto::load_private_key_file(dir / (std::string(issuer_name) + ".key"));
    }
    X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer ? issuer.get() : cert.get()));
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), from.count());
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), to.count());
    X509_set_pubkey(cert.get(), key.get());
    X509_sign(cert.get(), issuer_key ? issuer_key.get() : key.get(), EVP_sha256());
    return {crypto::certificate_to_pem(cert.get()), crypto::private_key_to_pem(key.get())};
}

}  // namespace cardsmith::test
