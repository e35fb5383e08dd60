#pragma once
// Cryptographically secure random values (OpenSSL's RAND_bytes), for card numbers,
// serials, tokens and API keys. Thread-safe.
#include <cstdint>
#include <string>

namespace cardsmith::random {

void fill(void* out, std::size_t n);
[[nodiscard]] std::uint64_t uniform(std::uint64_t bound);  // in [0, bound), no modulo bias
[[nodiscard]] std::string base64url(std::size_t bytes);    // URL-safe, unpadded
[[nodiscard]] std::string hex(std::size_t bytes);
// `length` characters of lower-case letters and digits without look-alikes (0 o 1 l i).
[[nodiscard]] std::string code(std::size_t length);

}  // namespace cardsmith::random
