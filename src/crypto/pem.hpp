#pragma once
// Loading PEM certificates and private keys from files or memory. Throws CryptoError
// naming the file ("apple.key: not a PEM private key") on failure. Private key files are
// read with read_secret_file (key_file.hpp): one other users may read is refused.
#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/openssl_ptr.hpp"

namespace cardsmith::crypto {

[[nodiscard]] X509Ptr load_certificate_file(const std::filesystem::path& path);
// An encrypted key (PKCS#8 "ENCRYPTED PRIVATE KEY", or a traditional "Proc-Type:
// 4,ENCRYPTED" one) needs `passphrase`; without one it is refused with a message saying so.
// A plain key with a passphrase given is accepted (the passphrase is not needed).
[[nodiscard]] EvpPkeyPtr load_private_key_file(const std::filesystem::path& path,
                                               std::string_view passphrase = {});
[[nodiscard]] X509Ptr parse_certificate_pem(std::string_view pem, std::string_view what);
[[nodiscard]] EvpPkeyPtr parse_private_key_pem(std::string_view pem, std::string_view what,
                                               std::string_view passphrase = {});
// True when `pem` holds an encrypted private key.
[[nodiscard]] bool is_encrypted_private_key_pem(std::string_view pem);
[[nodiscard]] std::string certificate_to_pem(X509* cert);
[[nodiscard]] std::string private_key_to_pem(EVP_PKEY* key);

// What Cardsmith needs to know about a pass certificate (apple-wallet.md §1.8).
struct CertificateInfo {
    std::string subject;      // one-line RFC 2253 form
    std::string issuer;       // one-line RFC 2253 form
    std::string uid;          // subject UID (the pass type id), empty if absent
    std::string common_name;  // subject CN
    std::string org_unit;     // subject OU (the team id)
    std::chrono::system_clock::time_point not_before;
    std::chrono::system_clock::time_point not_after;
};
[[nodiscard]] CertificateInfo inspect_certificate(X509* cert);

// True when `key` is the private key of `cert`.
[[nodiscard]] bool key_matches_certificate(X509* cert, EVP_PKEY* key);

// Verifies that `cert` was issued by `intermediate` (signature and name), ignoring
// purpose (Apple's pass EKU is not a standard purpose). Returns an empty string when
// fine, else a short reason.
[[nodiscard]] std::string check_issued_by(X509* cert, X509* intermediate);

// Every certificate of a PEM file, in file order (a server certificate and its
// intermediates, or a chain of intermediates). Throws CryptoError naming the file when it
// cannot be read, holds no certificate, or one block does not parse.
[[nodiscard]] std::vector<X509Ptr> load_certificate_chain_file(const std::filesystem::path& path);

}  // namespace cardsmith::crypto
