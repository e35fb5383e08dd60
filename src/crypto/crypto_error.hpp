#pragma once
// Start-up and tooling failures of the crypto module (bad key file, mismatched key...).
// Thrown only while loading; the message names the file and the problem and never
// contains key material.
#include <stdexcept>
#include <string>

namespace cardsmith::crypto {

class CryptoError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The queued OpenSSL error strings, joined, and the queue cleared.
[[nodiscard]] std::string openssl_errors();

}  // namespace cardsmith::crypto
