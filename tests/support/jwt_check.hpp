#pragma once
// RS256 JWT helpers for tests (google-wallet.md §4 and §7), all on OpenSSL: verify a compact
// JWT against an RSA public key (EVP_DigestVerify, SHA-256, PKCS#1 v1.5) and return its
// header and claims as JSON objects; check a Google "save to wallet" JWT; and, for tests
// that must act as a client without our production code, sign a JWT, make an RSA key and
// read a Google-style service-account JSON. Thread-safe (no shared state).
#include <boost/json/object.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cardsmith::test {

enum class JwtStatus {
    ok,               // well formed, header alg RS256, signature verifies
    malformed,        // not three base64url (no padding) parts, or header/claims not JSON objects
    unsupported_alg,  // header "alg" is not "RS256"
    bad_signature,    // RS256 signature does not verify with the key
};

struct JwtCheck {
    JwtStatus status = JwtStatus::malformed;
    std::string error;           // human-readable reason, empty when ok
    boost::json::object header;  // decoded whenever the parts parse, even with a bad signature
    boost::json::object claims;
    [[nodiscard]] bool ok() const { return status == JwtStatus::ok; }
};

// Verifies `jwt` against `key_pem`: a "PUBLIC KEY" (SPKI) PEM, or a private key or X.509
// certificate PEM whose public half is used. Bad tokens never throw; a key that cannot be
// loaded (or is not RSA) throws std::runtime_error.
[[nodiscard]] JwtCheck check_rs256_jwt(std::string_view jwt, std::string_view key_pem);

// base64url(header) "." base64url(claims) "." base64url(RS256 signature), no padding.
// `private_key_pem`: PKCS#8 or traditional RSA private key PEM. Throws std::runtime_error.
[[nodiscard]] std::string sign_rs256_jwt(const boost::json::object& header,
                                         const boost::json::object& claims,
                                         std::string_view private_key_pem);

[[nodiscard]] std::string base64url_encode(std::string_view bytes);
// nullopt for characters outside the base64url alphabet, '=' padding or an impossible length.
[[nodiscard]] std::optional<std::string> base64url_decode(std::string_view text);

// The SPKI "PUBLIC KEY" PEM of a public key, private key or certificate PEM. Throws.
[[nodiscard]] std::string public_key_pem(std::string_view key_pem);
// A fresh RSA private key as PKCS#8 PEM (e.g. the "other key" of a bad-signature test).
[[nodiscard]] std::string make_rsa_key_pem(unsigned bits = 2048);

// The fields of a Google service-account key JSON that a token request needs (§4).
struct ServiceAccount {
    std::string client_email;
    std::string private_key;  // PKCS#8 PEM
    std::string private_key_id;
    std::string token_uri;
};
// Reads `google-service-account.json` (as written by `cardsmith dev-certs`). Throws
// std::runtime_error when the file is unreadable or client_email/private_key are missing.
[[nodiscard]] ServiceAccount load_service_account(const std::string& path);

// A save-to-wallet JWT (§7) as Google expects it: check_rs256_jwt passes; header typ (if
// present) "JWT"; claims aud "google", typ "savetowallet", iss a string equal to
// `client_email` when that is non-empty, iat an integer within ±5 min of now, origins (if
// present) an array of strings, payload an object holding at least one non-empty array;
// and the whole JWT at most `max_length` characters.
struct SaveJwtCheck {
    bool ok = false;
    std::vector<std::string> problems;  // one line per failed rule
    JwtCheck jwt;
};
[[nodiscard]] SaveJwtCheck check_save_jwt(std::string_view jwt, std::string_view key_pem,
                                          std::string_view client_email = {},
                                          std::size_t max_length = 1800);

// Seconds since the Unix epoch, for iat/exp.
[[nodiscard]] std::int64_t unix_now();

}  // namespace cardsmith::test
