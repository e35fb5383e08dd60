#pragma once
// base64url (RFC 4648 §5) without padding: sealed secrets, JWTs; and standard base64 with
// padding (§4), how Google and the merchant console exchange keys and certificates.
#include <optional>
#include <string>
#include <string_view>

namespace cardsmith::crypto {

[[nodiscard]] std::string base64url_encode(std::string_view data);
// Strict: unpadded, no stray characters, unused trailing bits zero (one encoding per value).
[[nodiscard]] std::optional<std::string> base64url_decode(std::string_view text);

// Standard alphabet, padded, one line (OpenSSL's EVP_EncodeBlock).
[[nodiscard]] std::string base64_encode(std::string_view data);

}  // namespace cardsmith::crypto
