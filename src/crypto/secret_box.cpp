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
#include <optional>
#include <system_error>
#include <utility>

#include "common/hex.hpp"
#include "common/random.hpp"
#include "crypto/base64.hpp"
#include "crypto/crypto_error.hpp"
#include "crypto/hash.hpp"
#include "crypto/openssl_ptr.hpp"

namespace cardsmith::crypto {
namespace {

using EvpCipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, Deleter<EVP_CIPHER_CTX_free>>;

constexpr std::string_view kPrefix = "v1.";
constexpr std::size_t kKeySize = 32;
constexpr std::size_t kNonceSize = 12;
constexpr std::size_t kTagSize = 16;
constexpr std::size_t kMaxInput = std::size_t{1} << 30;
// Larger than any well-formed key file; reading stops there.
constexpr std::size_t kMaxKeyFile = 256;

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

// The file's contents, or nullopt when it does not exist.
std::optional<std::string> read_key_file(const std::filesystem::path& file) {
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            return std::nullopt;
        }
        throw_file_error(file, "cannot open the secret key file", errno);
    }
    std::string out(kMaxKeyFile + 1, '\0');
    std::size_t got = 0;
    int error = 0;
    while (got < out.size()) {
        const ssize_t n = ::read(fd, out.data() + got, out.size() - got);
        if (n > 0) {
            got += static_cast<std::size_t>(n);
        } else if (n == 0) {
            break;
        } else if (errno != EINTR) {
            error = errno;
            break;
        }
    }
    ::close(fd);
    if (error != 0) {
        OPENSSL_cleanse(out.data(), out.size());
        throw_file_error(file, "cannot read the secret key file", error);
    }
    out.resize(got);
    return out;
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

// Writes a fresh key to a private temp file, then links it into place: readers never see
// a partial file, and when two processes race the first link wins and both read it.
void create_key_file(const std::filesystem::path& file) {
    std::array<unsigned char, kKeySize> key{};
    if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) {
        throw CryptoError("RAND_bytes failed: " + openssl_errors());
    }
    const Wiped text(to_hex(key.data(), key.size()) + "\n");
    OPENSSL_cleanse(key.data(), key.size());
    std::filesystem::path temp = file;
    temp += ".tmp-" + random::hex(8);
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        throw_file_error(file, "cannot create the secret key file", errno);
    }
    try {
        if (::fchmod(fd, 0600) != 0) {
            throw_file_error(file, "cannot set the secret key file's mode", errno);
        }
        write_all(fd, text.value, file);
        if (::fsync(fd) != 0) {
            throw_file_error(file, "cannot write the secret key file", errno);
        }
    } catch (...) {
        ::close(fd);
        ::unlink(temp.c_str());
        throw;
    }
    const int closed = ::close(fd);
    const int close_error = errno;
    const int linked = closed == 0 ? ::link(temp.c_str(), file.c_str()) : -1;
    const int link_error = errno;
    ::unlink(temp.c_str());
    if (closed != 0) {
        throw_file_error(file, "cannot write the secret key file", close_error);
    }
    if (linked != 0 && link_error != EEXIST) {
        throw_file_error(file, "cannot create the secret key file", link_error);
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

}  // namespace

SecretBox::SecretBox(std::string key32) {
    const Wiped key(std::move(key32));
    if (key.value.size() != kKeySize) {
        throw CryptoError("secret box: the key must be 32 bytes");
    }
    std::copy(key.value.begin(), key.value.end(), key_.begin());
}

SecretBox::~SecretBox() { OPENSSL_cleanse(key_.data(), key_.size()); }

SecretBox SecretBox::from_file(const std::filesystem::path& file, bool create_if_missing) {
    std::optional<std::string> text = read_key_file(file);
    if (!text) {
        if (!create_if_missing) {
            throw CryptoError(file.string() + ": secret key file not found");
        }
        create_key_file(file);
        text = read_key_file(file);
        if (!text) {
            throw CryptoError(file.string() + ": secret key file vanished after creation");
        }
    }
    const Wiped contents(std::move(*text));
    return SecretBox(parse_key_file(contents.value, file));
}

std::string SecretBox::seal(std::string_view plaintext, std::string_view associated_data) const {
    if (plaintext.size() > kMaxInput || associated_data.size() > kMaxInput) {
        throw CryptoError("secret box: input larger than 1 GiB");
    }
    std::string raw(kNonceSize + plaintext.size() + kTagSize, '\0');
    auto* nonce = reinterpret_cast<unsigned char*>(raw.data());
    unsigned char* ciphertext = nonce + kNonceSize;
    unsigned char* tag = ciphertext + plaintext.size();
    check(RAND_bytes(nonce, static_cast<int>(kNonceSize)) == 1, "RAND_bytes");

    const EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
    check(ctx != nullptr, "EVP_CIPHER_CTX_new");
    check(EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), nonce) == 1,
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
    check(EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), bytes(nonce)) == 1,
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

std::string SecretBox::key_id() const {
    const std::array<unsigned char, 32> digest =
        sha256(std::string_view(reinterpret_cast<const char*>(key_.data()), key_.size()));
    return to_hex(digest.data(), 4);
}

std::string SecretBox::derive(std::string_view purpose) const {
    return hmac_sha256_hex(
        std::string_view(reinterpret_cast<const char*>(key_.data()), key_.size()), purpose);
}

}  // namespace cardsmith::crypto
