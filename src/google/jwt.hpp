#pragma once
// RS256 JSON Web Tokens for Google (google-wallet.md §4, §7): the OAuth assertion that
// buys an access token, and the "skinny" save JWT behind Add to Google Wallet. Signed
// with the service account's RSA key (RSASSA-PKCS1-v1_5 + SHA-256 through OpenSSL).
#include <boost/json/object.hpp>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/openssl_ptr.hpp"

namespace cardsmith::google {

// The service-account key file Google's console hands out (JSON).
struct ServiceAccount {
    std::string client_email;
    std::string private_key_id;
    std::string token_uri;
    crypto::EvpPkeyPtr key;  // RSA
};

// Throws std::runtime_error naming `path` (never the key) when unreadable or incomplete.
[[nodiscard]] ServiceAccount load_service_account(const std::filesystem::path& path);

// header.claims.signature, header {"alg":"RS256","typ":"JWT"[,"kid"]}.
[[nodiscard]] std::string sign_jwt(const boost::json::object& claims, EVP_PKEY* key,
                                   std::string_view key_id = {});

inline constexpr std::string_view kWalletScope =
    "https://www.googleapis.com/auth/wallet_object.issuer";

// The JWT-bearer assertion for `audience` (the token URL), valid for an hour.
[[nodiscard]] std::string token_assertion(const ServiceAccount& account, std::string_view audience,
                                          std::int64_t now_seconds);

// The save JWT naming one existing loyalty object by id (so it stays far below Google's
// 1,800-character limit for links).
[[nodiscard]] std::string save_jwt(const ServiceAccount& account, std::string_view object_id,
                                   std::string_view class_id,
                                   const std::vector<std::string>& origins,
                                   std::int64_t now_seconds);

}  // namespace cardsmith::google
