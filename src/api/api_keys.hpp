#pragma once
// API keys: 256 random bits, shown once, stored only as SHA-256 hex.
#include <string>

namespace cardsmith::api {

struct NewApiKey {
    std::string key;     // "csk_" + 43 base64url characters
    std::string hash;    // SHA-256 hex of `key`
    std::string prefix;  // first 8 characters, to recognise a key in listings
};

[[nodiscard]] NewApiKey generate_api_key();

}  // namespace cardsmith::api
