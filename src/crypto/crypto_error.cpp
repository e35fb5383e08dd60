#include "crypto/crypto_error.hpp"

#include <openssl/err.h>

#include <array>

namespace cardsmith::crypto {

std::string openssl_errors() {
    std::string out;
    for (unsigned long code = ERR_get_error(); code != 0; code = ERR_get_error()) {
        std::array<char, 256> buf{};
        ERR_error_string_n(code, buf.data(), buf.size());
        if (!out.empty()) {
            out += "; ";
        }
        out += buf.data();
    }
    if (out.empty()) {
        out = "no OpenSSL error queued";
    }
    return out;
}

}  // namespace cardsmith::crypto
