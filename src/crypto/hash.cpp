#include "crypto/hash.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <cstddef>
#include <memory>

#include "common/hex.hpp"
#include "crypto/crypto_error.hpp"
#include "crypto/openssl_ptr.hpp"

namespace cardsmith::crypto {
namespace {

using EvpMacPtr = std::unique_ptr<EVP_MAC, Deleter<EVP_MAC_free>>;
using EvpMacCtxPtr = std::unique_ptr<EVP_MAC_CTX, Deleter<EVP_MAC_CTX_free>>;

// Digest of `data` into `out` (at least EVP_MAX_MD_SIZE bytes); returns the length.
std::size_t digest(const EVP_MD* md, std::string_view data, unsigned char* out) {
    unsigned int len = 0;
    if (md == nullptr || EVP_Digest(data.data(), data.size(), out, &len, md, nullptr) != 1) {
        throw CryptoError("digest failed: " + openssl_errors());
    }
    return len;
}

}  // namespace

std::string sha1_hex(std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> buf{};
    return to_hex(buf.data(), digest(EVP_sha1(), data, buf.data()));
}

std::string sha256_hex(std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> buf{};
    return to_hex(buf.data(), digest(EVP_sha256(), data, buf.data()));
}

std::array<unsigned char, 32> sha256(std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> buf{};
    const std::size_t len = digest(EVP_sha256(), data, buf.data());
    if (len != 32) {
        throw CryptoError("sha256: unexpected digest length");
    }
    std::array<unsigned char, 32> out{};
    std::copy_n(buf.begin(), out.size(), out.begin());
    return out;
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
    const EvpMacPtr mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
    if (!mac) {
        throw CryptoError("HMAC unavailable: " + openssl_errors());
    }
    const EvpMacCtxPtr ctx(EVP_MAC_CTX_new(mac.get()));
    if (!ctx) {
        throw CryptoError("EVP_MAC_CTX_new failed: " + openssl_errors());
    }
    char digest_name[] = "SHA256";
    const std::array<OSSL_PARAM, 2> params = {
        OSSL_PARAM_construct_utf8_string("digest", digest_name, 0),
        OSSL_PARAM_construct_end(),
    };
    // An empty key is legal HMAC; OpenSSL wants a non-null pointer for it.
    static constexpr unsigned char kEmpty = 0;
    const auto* key_bytes =
        key.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(key.data());
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    std::size_t out_len = 0;
    if (EVP_MAC_init(ctx.get(), key_bytes, key.size(), params.data()) != 1 ||
        EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(data.data()),
                       data.size()) != 1 ||
        EVP_MAC_final(ctx.get(), out.data(), &out_len, out.size()) != 1) {
        throw CryptoError("HMAC-SHA256 failed: " + openssl_errors());
    }
    return to_hex(out.data(), out_len);
}

bool constant_time_equal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        // Same amount of work as a real comparison of `a`, so only the lengths show.
        volatile int sink = CRYPTO_memcmp(a.data(), a.data(), a.size());
        static_cast<void>(sink);
        return false;
    }
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace cardsmith::crypto
