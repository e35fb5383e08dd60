#pragma once
// Checking a Pass Type ID identity (certificate + private key) that a merchant uploads,
// either as PEM certificate + PEM key (possibly encrypted) or as a PKCS#12 bundle
// (apple-wallet.md §1.8 and pitfalls 1, 2, 3, 5). Pure function of its inputs: no I/O,
// no logging, thread-safe. Problems are returned, never thrown; their messages are meant
// for the merchant and never contain key material or the password.
#include <openssl/x509.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <variant>

namespace cardsmith::crypto {

// What a merchant sends. Either certificate_pem + private_key_pem, or pkcs12_der.
struct IdentityUpload {
    std::string certificate_pem;  // PEM pass certificate (may also contain further certs)
    std::string private_key_pem;  // PEM private key, plain or encrypted (PKCS#8 or Proc-Type)
    std::string pkcs12_der;       // alternatively: a PKCS#12 bundle (.p12, binary)
    std::string password;         // for the encrypted key or the PKCS#12
    std::string pass_type_id;     // optional: must equal the certificate's UID when given
    std::string team_id;          // optional: must equal the certificate's OU when given
};

// An identity that passed every check, re-encoded for storage.
struct CheckedIdentity {
    std::string pass_type_id;     // the certificate's subject UID
    std::string team_id;          // the certificate's subject OU
    std::string certificate_pem;  // the leaf only, re-encoded PEM
    std::string private_key_pem;  // UNENCRYPTED PKCS#8 PEM: the caller encrypts it for storage
    std::string subject;          // one-line RFC 2253 subject
    std::chrono::system_clock::time_point not_before;
    std::chrono::system_clock::time_point not_after;
    std::string sha256_fingerprint;  // lowercase hex SHA-256 of the certificate's DER
};

// Why an upload was refused. `field` names the input at fault: "certificate",
// "privateKey", "pkcs12", "password", "passTypeId" or "teamId".
struct IdentityProblem {
    std::string field;
    std::string message;
};

// Largest accepted input (each of certificate, key, PKCS#12 and the ids).
inline constexpr std::size_t kMaxIdentityInput = 64 * 1024;
// Largest accepted password (OpenSSL's passphrase callbacks take at most 1023 bytes).
inline constexpr std::size_t kMaxIdentityPassword = 1023;

// Checks, in order: exactly one form given and sizes; parsing (a wrong password is a
// problem on "password"); the key belongs to the certificate; the certificate was issued
// by `wwdr` (the WWDR intermediate as trust anchor, partial chain, no purpose check);
// valid at `now`; subject UID (starting with "pass.") and OU present and equal to
// pass_type_id / team_id when those were given.
[[nodiscard]] std::variant<CheckedIdentity, IdentityProblem> check_identity(
    const IdentityUpload& upload, X509* wwdr, std::chrono::system_clock::time_point now);

}  // namespace cardsmith::crypto
