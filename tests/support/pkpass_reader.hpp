#pragma once
// Test helpers for .pkpass files: unzip into name → bytes (libzip), and verify the
// detached CMS signature against a root certificate with OpenSSL's CMS_verify.
#include <map>
#include <string>

namespace cardsmith::test {

// Throws std::runtime_error when the bytes are not a ZIP.
[[nodiscard]] std::map<std::string, std::string> unzip(const std::string& bytes);

struct SignatureCheck {
    bool verified = false;
    std::string error;           // OpenSSL's reason when not verified
    std::string signer_subject;  // one-line subject of the signing certificate
    bool has_signing_time = false;
    int certificates = 0;  // certificates carried in the SignedData
    bool carries_issuer_of_signer = false;
};
// `root_pem_file`: trust anchor. Purpose checks are off (Apple's pass EKU is not standard).
[[nodiscard]] SignatureCheck verify_signature(const std::string& signature_der,
                                              const std::string& manifest,
                                              const std::string& root_pem_file);

}  // namespace cardsmith::test
