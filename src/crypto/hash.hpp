#pragma once
// Digests as lowercase hex (manifest.json wants SHA-1 hex; apple-wallet.md §1.7).
#include <array>
#include <string>
#include <string_view>

namespace cardsmith::crypto {

[[nodiscard]] std::string sha1_hex(std::string_view data);
[[nodiscard]] std::string sha256_hex(std::string_view data);
[[nodiscard]] std::array<unsigned char, 32> sha256(std::string_view data);
[[nodiscard]] std::string hmac_sha256_hex(std::string_view key, std::string_view data);

// Constant-time equality for secrets (API keys, pass authentication tokens): the time
// depends only on the lengths, never on where the inputs differ.
[[nodiscard]] bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace cardsmith::crypto
