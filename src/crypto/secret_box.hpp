#pragma once
// Authenticated encryption of secrets at rest (merchants' pass private keys, relay keys,
// webhook secrets) under the 32-byte server key: AES-256-GCM, random 96-bit nonce per
// seal, associated data bound to the record (e.g. the merchant id) so a sealed value cannot
// be moved to another row. Sealed form: "v1." + base64url(nonce[12] | ciphertext | tag[16]),
// unpadded. A random 96-bit nonce keeps the collision risk negligible up to ~2^32 seals per
// key.
//
// Key rotation (`cardsmith secret-key rotate`, docs/operations.md): a box holds the current
// key, which seals, and previous keys, which only open. One made from a key file also reads
// `<file>.old` (the key the last rotation replaced) as a previous key, and notices when
// another process rotated the key: reload() and a failed open() read the files again. So an
// instance that sealed or reads a value around a rotation still gets it right.
//
// Thread-safe: every method may be called concurrently (the keys sit behind a mutex and
// are swapped whole). Copies share their keys and reloads. Owned by `app`.
#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cardsmith::crypto {

class SecretBox {
public:
    // Throws CryptoError unless `key32` and every previous key are exactly 32 bytes (raw).
    explicit SecretBox(std::string key32, std::vector<std::string> previous = {});

    // `file` holds 64 hex characters (+ optional newline). When it is missing and
    // `create_if_missing`, a fresh random key is written to it with mode 0600 (atomically:
    // a concurrent creator's key wins and is read back). `<file>.old`, when present, is read
    // as a previous key. Both are secret files (key_file.hpp: group or others may not read
    // them). Throws CryptoError naming the file, never the key, when one is missing,
    // unreadable, too open or malformed.
    [[nodiscard]] static SecretBox from_file(const std::filesystem::path& file,
                                             bool create_if_missing);
    // A box with a fresh random key and no previous keys.
    [[nodiscard]] static SecretBox generate();

    // Throws CryptoError only on an OpenSSL failure or an input over 1 GiB.
    [[nodiscard]] std::string seal(std::string_view plaintext,
                                   std::string_view associated_data) const;
    // nullopt when `sealed` is malformed, was tampered with, or was sealed under none of the
    // keys or with other associated data. A box made from a key file that opens nothing
    // reloads the files when they changed and tries once more.
    [[nodiscard]] std::optional<std::string> open(std::string_view sealed,
                                                  std::string_view associated_data) const;
    // True when `sealed` opens with the current key (not only with a previous one).
    [[nodiscard]] bool sealed_with_current_key(std::string_view sealed,
                                               std::string_view associated_data) const;

    // First 8 hex characters of SHA-256(current key): tells keys apart in logs, reveals
    // nothing useful.
    [[nodiscard]] std::string key_id() const;
    // A key for another purpose ("csrf", ...), derived from the current key with
    // HMAC-SHA256(key, purpose), hex: one server key, independent subkeys.
    [[nodiscard]] std::string derive(std::string_view purpose) const;
    // The same from every key, the current one first: checks that must accept what was made
    // before a rotation.
    [[nodiscard]] std::vector<std::string> derive_all(std::string_view purpose) const;

    // A box whose current key is this one's and whose previous keys are `older`'s keys
    // (its current one first); not tied to a file.
    [[nodiscard]] SecretBox with_previous(const SecretBox& older) const;

    // Reads the key files again if they changed since they were read (another process
    // rotated the key): the new file's key becomes current, the one it replaced stays as a
    // previous key. `error` says why changed files could not be used (the keys in memory
    // stay). A box not made from a file never changes.
    struct Reload {
        bool changed = false;
        std::string error;
    };
    Reload reload() const;

    // Writes the current key to `file` (64 hex + newline) atomically: a private temporary
    // file, flushed, renamed over `file`, the folder flushed. `mode` is 0600 or 0400; the
    // owner is `owner`:`group` when given (a root-run rotation keeps the service's owner).
    // Throws CryptoError naming the file.
    void save(const std::filesystem::path& file, mode_t mode = 0600,
              std::optional<std::pair<uid_t, gid_t>> owner = std::nullopt) const;

    struct State;  // keys and where they came from (secret_box.cpp)

private:
    explicit SecretBox(std::shared_ptr<State> state);
    std::shared_ptr<State> state_;
};

}  // namespace cardsmith::crypto
