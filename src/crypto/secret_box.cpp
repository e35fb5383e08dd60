#include "crypto/secret_box.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>
#include <utility>
#include <vector>

#include "common/hex.hpp"
#include "common/random.hpp"
#include "crypto/base64.hpp"
#include "crypto/crypto_error.hpp"
#include "crypto/hash.hpp"
#include "crypto/key_file.hpp"
#include "crypto/openssl_ptr.hpp"

namespace cardsmith::crypto {
namespace {

using EvpCipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, Deleter<EVP_CIPHER_CTX_free>>;

constexpr std::string_view kPrefix = "v1.";
constexpr std::size_t kKeySize = 32;
constexpr std::size_t kNonceSize = 12;
constexpr std::size_t kTagSize = 16;
constexpr std::size_t kMaxInput = std::size_t{1} << 30;
// Far larger than a well-formed key file (65 bytes): a bigger file is refused unread.
constexpr std::size_t kMaxKeyFile = 64 * 1024;

// Wipes a string holding key material when it goes out of scope.
struct Wiped {
    std::string value;
    Wiped() = default;
    explicit Wiped(std::string v) : value(std::move(v)) {}
    Wiped(const Wiped&) = delete;
    Wiped& operator=(const Wiped&) = delete;
    ~Wiped() { OPENSSL_cleanse(value.data(), value.size()); }
};

[[noreturn]] void throw_file_error(const std::filesystem::path& file, const char* what, int error) {
    throw CryptoError(file.string() + ": " + what + ": " +
                      std::error_code(error, std::generic_category()).message());
}

// The file's contents (a secret file: key_file.hpp), or nullopt when it does not exist.
std::optional<std::string> read_key_file(const std::filesystem::path& file) {
    return read_secret_file(file, kMaxKeyFile, true);
}

// The 32 key bytes from "<64 hex>[\r]\n"; throws naming the file (never the contents).
std::string parse_key_file(std::string_view text, const std::filesystem::path& file) {
    if (text.ends_with('\n')) {
        text.remove_suffix(1);
        if (text.ends_with('\r')) {
            text.remove_suffix(1);
        }
    }
    std::string key(kKeySize, '\0');
    bool ok = text.size() == kKeySize * 2;
    for (std::size_t i = 0; ok && i < kKeySize; ++i) {
        const int hi = hex_value(text[2 * i]);
        const int lo = hex_value(text[2 * i + 1]);
        ok = hi >= 0 && lo >= 0;
        key[i] = static_cast<char>(ok ? (hi << 4) | lo : 0);
    }
    if (!ok) {
        OPENSSL_cleanse(key.data(), key.size());
        throw CryptoError(file.string() +
                          ": malformed secret key file (expected 64 hex characters and an "
                          "optional newline)");
    }
    return key;
}

void write_all(int fd, std::string_view data, const std::filesystem::path& file) {
    std::size_t written = 0;
    while (written < data.size()) {
        const ssize_t n = ::write(fd, data.data() + written, data.size() - written);
        if (n > 0) {
            written += static_cast<std::size_t>(n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            throw_file_error(file, "cannot write the secret key file", n < 0 ? errno : EIO);
        }
    }
}

// Writes `key` as hex to a new private temp file next to `file` (flushed) and returns its
// path; the caller links or renames it into place, so readers never see a partial file.
std::filesystem::path write_temp_key(const std::filesystem::path& file,
                                     const std::array<unsigned char, kKeySize>& key, mode_t mode,
                                     std::optional<std::pair<uid_t, gid_t>> owner) {
    const Wiped text(to_hex(key.data(), key.size()) + "\n");
    std::filesystem::path temp = file;
    temp += ".tmp-" + random::hex(8);
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        throw_file_error(file, "cannot create the secret key file", errno);
    }
    try {
        if (owner && ::fchown(fd, owner->first, owner->second) != 0) {
            throw_file_error(file, "cannot set the secret key file's owner", errno);
        }
        write_all(fd, text.value, file);
        if (::fchmod(fd, mode) != 0) {
            throw_file_error(file, "cannot set the secret key file's mode", errno);
        }
        if (::fsync(fd) != 0) {
            throw_file_error(file, "cannot write the secret key file", errno);
        }
    } catch (...) {
        ::close(fd);
        ::unlink(temp.c_str());
        throw;
    }
    if (::close(fd) != 0) {
        const int error = errno;
        ::unlink(temp.c_str());
        throw_file_error(file, "cannot write the secret key file", error);
    }
    return temp;
}

// Writes a fresh key to a private temp file, then links it into place: when two processes
// race the first link wins and both read it.
void create_key_file(const std::filesystem::path& file) {
    std::array<unsigned char, kKeySize> key{};
    if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) {
        throw CryptoError("RAND_bytes failed: " + openssl_errors());
    }
    const std::filesystem::path temp = write_temp_key(file, key, 0600, std::nullopt);
    OPENSSL_cleanse(key.data(), key.size());
    const int linked = ::link(temp.c_str(), file.c_str());
    const int link_error = errno;
    ::unlink(temp.c_str());
    if (linked != 0 && link_error != EEXIST) {
        throw_file_error(file, "cannot create the secret key file", link_error);
    }
}

// Replaces `file` with `key` in one rename, then flushes the folder so the rename survives
// a crash.
void write_key_file_atomically(const std::filesystem::path& file,
                               const std::array<unsigned char, kKeySize>& key, mode_t mode,
                               std::optional<std::pair<uid_t, gid_t>> owner) {
    const std::filesystem::path temp = write_temp_key(file, key, mode, owner);
    if (::rename(temp.c_str(), file.c_str()) != 0) {
        const int error = errno;
        ::unlink(temp.c_str());
        throw_file_error(file, "cannot replace the secret key file", error);
    }
    const std::filesystem::path dir = file.has_parent_path() ? file.parent_path() : ".";
    const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
        (void)::fsync(dir_fd);
        ::close(dir_fd);
    }
}

void check(bool ok, const char* what) {
    if (!ok) {
        throw CryptoError(std::string("secret box: ") + what + " failed: " + openssl_errors());
    }
}

const unsigned char* bytes(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

using Key = std::array<unsigned char, kKeySize>;

// One immutable set of keys: the current one seals, all open.
struct Keys {
    Key current{};
    std::vector<Key> previous;
    Keys() = default;
    Keys(const Keys&) = delete;
    Keys& operator=(const Keys&) = delete;
    ~Keys() {
        OPENSSL_cleanse(current.data(), current.size());
        for (auto& k : previous) {
            OPENSSL_cleanse(k.data(), k.size());
        }
    }
};

// What a key file looked like when read, to notice a replacement.
struct Stamp {
    bool exists = false;
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    std::int64_t mtime_ns = 0;
    bool operator==(const Stamp&) const = default;
};

Stamp stamp_of(const std::filesystem::path& file) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) {
        return {};
    }
    return {true, st.st_dev, st.st_ino, st.st_size,
            static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

std::filesystem::path old_file_of(const std::filesystem::path& file) {
    std::filesystem::path old = file;
    old += ".old";
    return old;
}

Key key_from(std::string_view raw) {
    if (raw.size() != kKeySize) {
        throw CryptoError("secret box: the key must be 32 bytes");
    }
    Key k{};
    std::copy(raw.begin(), raw.end(), k.begin());
    return k;
}

// Keeps a handful of previous keys: enough for rotations in quick succession.
constexpr std::size_t kMaxPrevious = 4;

void add_previous(Keys& keys, const Key& k) {
    if (k == keys.current || keys.previous.size() >= kMaxPrevious ||
        std::find(keys.previous.begin(), keys.previous.end(), k) != keys.previous.end()) {
        return;
    }
    keys.previous.push_back(k);
}

std::optional<std::string> open_with(const Key& key, std::string_view sealed,
                                     std::string_view associated_data);

}  // namespace

struct SecretBox::State {
    std::mutex mutex;
    std::shared_ptr<const Keys> keys;
    std::filesystem::path file;  // empty: not made from a file
    Stamp file_stamp, old_stamp;

    [[nodiscard]] std::shared_ptr<const Keys> snapshot() {
        std::lock_guard lock(mutex);
        return keys;
    }
};

namespace {

// The key in `file` (must exist) as a Key.
Key read_key(const std::filesystem::path& file) {
    std::optional<std::string> text = read_key_file(file);
    if (!text) {
        throw CryptoError(file.string() + ": secret key file not found");
    }
    const Wiped contents(std::move(*text));
    const Wiped raw(parse_key_file(contents.value, file));
    return key_from(raw.value);
}

// Reads `file` and `<file>.old` into `keys` (current, then the old one as previous).
void read_files(const std::filesystem::path& file, Keys& keys, Stamp& file_stamp,
                Stamp& old_stamp) {
    file_stamp = stamp_of(file);
    keys.current = read_key(file);
    const std::filesystem::path old = old_file_of(file);
    old_stamp = stamp_of(old);
    if (old_stamp.exists) {
        add_previous(keys, read_key(old));
    }
}

}  // namespace

SecretBox::SecretBox(std::shared_ptr<State> state) : state_(std::move(state)) {}

SecretBox::SecretBox(std::string key32, std::vector<std::string> previous)
    : state_(std::make_shared<State>()) {
    const Wiped key(std::move(key32));
    auto keys = std::make_shared<Keys>();
    keys->current = key_from(key.value);
    for (auto& p : previous) {
        const Wiped old(std::move(p));
        add_previous(*keys, key_from(old.value));
    }
    state_->keys = std::move(keys);
}

SecretBox SecretBox::from_file(const std::filesystem::path& file, bool create_if_missing) {
    if (!read_key_file(file)) {
        if (!create_if_missing) {
            throw CryptoError(file.string() + ": secret key file not found");
        }
        create_key_file(file);
    }
    auto state = std::make_shared<State>();
    auto keys = std::make_shared<Keys>();
    read_files(file, *keys, state->file_stamp, state->old_stamp);
    state->file = file;
    state->keys = std::move(keys);
    return SecretBox(std::move(state));
}

SecretBox SecretBox::generate() {
    Key key{};
    if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) {
        throw CryptoError("RAND_bytes failed: " + openssl_errors());
    }
    SecretBox box(std::string(reinterpret_cast<const char*>(key.data()), key.size()));
    OPENSSL_cleanse(key.data(), key.size());
    return box;
}

SecretBox SecretBox::with_previous(const SecretBox& older) const {
    const auto mine = state_->snapshot();
    const auto theirs = older.state_->snapshot();
    auto keys = std::make_shared<Keys>();
    keys->current = mine->current;
    add_previous(*keys, theirs->current);
    for (const auto& k : theirs->previous) {
        add_previous(*keys, k);
    }
    for (const auto& k : mine->previous) {
        add_previous(*keys, k);
    }
    auto state = std::make_shared<State>();
    state->keys = std::move(keys);
    return SecretBox(std::move(state));
}

SecretBox::Reload SecretBox::reload() const {
    State& s = *state_;
    Reload out;
    if (s.file.empty()) {
        return out;
    }
    std::lock_guard lock(s.mutex);
    const std::filesystem::path old = old_file_of(s.file);
    if (stamp_of(s.file) == s.file_stamp && stamp_of(old) == s.old_stamp) {
        return out;
    }
    try {
        auto keys = std::make_shared<Keys>();
        Stamp file_stamp, old_stamp;
        read_files(s.file, *keys, file_stamp, old_stamp);
        // The keys this instance used until now still open what it sealed with them.
        add_previous(*keys, s.keys->current);
        for (const auto& k : s.keys->previous) {
            add_previous(*keys, k);
        }
        out.changed = keys->current != s.keys->current;
        s.keys = std::move(keys);
        s.file_stamp = file_stamp;
        s.old_stamp = old_stamp;
    } catch (const std::exception& e) {
        out.error = e.what();
    }
    return out;
}

std::string SecretBox::seal(std::string_view plaintext, std::string_view associated_data) const {
    if (plaintext.size() > kMaxInput || associated_data.size() > kMaxInput) {
        throw CryptoError("secret box: input larger than 1 GiB");
    }
    const auto keys = state_->snapshot();
    std::string raw(kNonceSize + plaintext.size() + kTagSize, '\0');
    auto* nonce = reinterpret_cast<unsigned char*>(raw.data());
    unsigned char* ciphertext = nonce + kNonceSize;
    unsigned char* tag = ciphertext + plaintext.size();
    check(RAND_bytes(nonce, static_cast<int>(kNonceSize)) == 1, "RAND_bytes");

    const EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
    check(ctx != nullptr, "EVP_CIPHER_CTX_new");
    check(
        EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, keys->current.data(), nonce) == 1,
        "EVP_EncryptInit_ex");
    int len = 0;
    if (!associated_data.empty()) {
        check(EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes(associated_data),
                                static_cast<int>(associated_data.size())) == 1,
              "EVP_EncryptUpdate (AD)");
    }
    if (!plaintext.empty()) {
        check(EVP_EncryptUpdate(ctx.get(), ciphertext, &len, bytes(plaintext),
                                static_cast<int>(plaintext.size())) == 1 &&
                  static_cast<std::size_t>(len) == plaintext.size(),
              "EVP_EncryptUpdate");
    }
    check(EVP_EncryptFinal_ex(ctx.get(), tag, &len) == 1 && len == 0, "EVP_EncryptFinal_ex");
    check(
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagSize), tag) == 1,
        "EVP_CTRL_GCM_GET_TAG");
    return std::string(kPrefix) + base64url_encode(raw);
}

std::optional<std::string> SecretBox::open(std::string_view sealed,
                                           std::string_view associated_data) const {
    for (int attempt = 0; attempt < 2; ++attempt) {
        const auto keys = state_->snapshot();
        if (auto out = open_with(keys->current, sealed, associated_data)) {
            return out;
        }
        for (const auto& k : keys->previous) {
            if (auto out = open_with(k, sealed, associated_data)) {
                return out;
            }
        }
        // Sealed under a key another process rotated to since: read the files again.
        if (attempt == 0 && !reload().changed) {
            break;
        }
    }
    return std::nullopt;
}

bool SecretBox::sealed_with_current_key(std::string_view sealed,
                                        std::string_view associated_data) const {
    return open_with(state_->snapshot()->current, sealed, associated_data).has_value();
}

std::string SecretBox::key_id() const {
    const auto keys = state_->snapshot();
    const std::array<unsigned char, 32> digest =
        sha256(std::string_view(reinterpret_cast<const char*>(keys->current.data()), kKeySize));
    return to_hex(digest.data(), 4);
}

std::string SecretBox::derive(std::string_view purpose) const {
    const auto keys = state_->snapshot();
    return hmac_sha256_hex(
        std::string_view(reinterpret_cast<const char*>(keys->current.data()), kKeySize), purpose);
}

std::vector<std::string> SecretBox::derive_all(std::string_view purpose) const {
    const auto keys = state_->snapshot();
    std::vector<std::string> out;
    out.push_back(hmac_sha256_hex(
        std::string_view(reinterpret_cast<const char*>(keys->current.data()), kKeySize), purpose));
    for (const auto& k : keys->previous) {
        out.push_back(hmac_sha256_hex(
            std::string_view(reinterpret_cast<const char*>(k.data()), kKeySize), purpose));
    }
    return out;
}

void SecretBox::save(const std::filesystem::path& file, mode_t mode,
                     std::optional<std::pair<uid_t, gid_t>> owner) const {
    const auto keys = state_->snapshot();
    write_key_file_atomically(file, keys->current, mode, owner);
}

namespace {

std::optional<std::string> open_with(const Key& key, std::string_view sealed,
                                     std::string_view associated_data) {
    if (!sealed.starts_with(kPrefix) || associated_data.size() > kMaxInput) {
        return std::nullopt;
    }
    const std::optional<std::string> raw = base64url_decode(sealed.substr(kPrefix.size()));
    if (!raw || raw->size() < kNonceSize + kTagSize) {
        return std::nullopt;
    }
    const std::string_view nonce = std::string_view(*raw).substr(0, kNonceSize);
    const std::string_view ciphertext =
        std::string_view(*raw).substr(kNonceSize, raw->size() - kNonceSize - kTagSize);
    std::array<unsigned char, kTagSize> tag{};
    std::copy_n(bytes(*raw) + raw->size() - kTagSize, kTagSize, tag.begin());

    const EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
    check(ctx != nullptr, "EVP_CIPHER_CTX_new");
    check(EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), bytes(nonce)) == 1,
          "EVP_DecryptInit_ex");
    int len = 0;
    if (!associated_data.empty()) {
        check(EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes(associated_data),
                                static_cast<int>(associated_data.size())) == 1,
              "EVP_DecryptUpdate (AD)");
    }
    Wiped plaintext(std::string(ciphertext.size(), '\0'));
    auto* out = reinterpret_cast<unsigned char*>(plaintext.value.data());
    if (!ciphertext.empty()) {
        check(EVP_DecryptUpdate(ctx.get(), out, &len, bytes(ciphertext),
                                static_cast<int>(ciphertext.size())) == 1,
              "EVP_DecryptUpdate");
    }
    check(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagSize),
                              tag.data()) == 1,
          "EVP_CTRL_GCM_SET_TAG");
    if (EVP_DecryptFinal_ex(ctx.get(), out + ciphertext.size(), &len) != 1) {
        return std::nullopt;  // authentication failed; OpenSSL queues no error for it
    }
    return std::exchange(plaintext.value, {});
}

}  // namespace

}  // namespace cardsmith::crypto
