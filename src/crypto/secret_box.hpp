#pragma once
// Authenticated encryption of secrets at rest (merchants' pass private keys) under one
// 32-byte server key: AES-256-GCM, random 96-bit nonce per seal, associated data bound
// to the record (e.g. the merchant id) so a sealed value cannot be moved to another row.
// Sealed form: "v1." + base64url(nonce[12] | ciphertext | tag[16]), unpadded.
// Immutable after construction: const methods are thread-safe. Owned by `app`.
// A random 96-bit nonce keeps the collision risk negligible up to ~2^32 seals per key.
#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace cardsmith::crypto {

class SecretBox {
public:
    // Throws CryptoError unless `key32` is exactly 32 bytes (raw, not hex).
    explicit SecretBox(std::string key32);
    ~SecretBox();
    SecretBox(const SecretBox&) = default;
    SecretBox& operator=(const SecretBox&) = default;
    SecretBox(SecretBox&&) = default;
    SecretBox& operator=(SecretBox&&) = default;

    // `file` holds 64 hex characters (+ optional newline). When it is missing and
    // `create_if_missing`, a fresh random key is written to it with mode 0600 (atomically:
    // a concurrent creator's key wins and is read back). Throws CryptoError naming the file,
    // never the key, when it is missing, unreadable or malformed.
    [[nodiscard]] static SecretBox from_file(const std::filesystem::path& file,
                                             bool create_if_missing);

    // Throws CryptoError only on an OpenSSL failure or an input over 1 GiB.
    [[nodiscard]] std::string seal(std::string_view plaintext,
                                   std::string_view associated_data) const;
    // nullopt when `sealed` is malformed, was tampered with, or was sealed under another
    // key or other associated data.
    [[nodiscard]] std::optional<std::string> open(std::string_view sealed,
                                                  std::string_view associated_data) const;

    // First 8 hex characters of SHA-256(key): tells keys apart in logs, reveals nothing useful.
    [[nodiscard]] std::string key_id() const;
    // A key for another purpose ("csrf", ...), derived with HMAC-SHA256(key, purpose), hex:
    // one server key, independent subkeys.
    [[nodiscard]] std::string derive(std::string_view purpose) const;

private:
    std::array<unsigned char, 32> key_{};
};

}  // namespace cardsmith::crypto
