#pragma once
// Google Wallet's save/delete callbacks (google-wallet.md §8): on every save or removal
// of a pass Google POSTs a message signed with the ECv2SigningOnly protocol to the class's
// callbackOptions.url. Verification as Tink's PaymentMethodTokenRecipient does it, with
// OpenSSL (ECDSA P-256, SHA-256):
//   1. the intermediate key's `signedKey` is signed by one of Google's root keys
//      (fetched from google.callback_keys) over LV("GooglePayPasses") LV("ECv2SigningOnly")
//      LV(signedKey), and has not expired;
//   2. the message is signed by that intermediate key over LV("GooglePayPasses")
//      LV(<issuer id>) LV("ECv2SigningOnly") LV(signedMessage),
// where LV(x) is x's length as 4 little-endian bytes followed by x. Thread-safe; the
// root keys can be replaced while requests are verified.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "crypto/openssl_ptr.hpp"

namespace cardsmith::google {

struct CallbackEvent {
    std::string class_id, object_id;
    std::string event_type;  // "save" or "del"
    std::string nonce;
    std::int64_t exp_ms = 0;
};

class CallbackVerifier {
public:
    explicit CallbackVerifier(std::string issuer_id) : issuer_(std::move(issuer_id)) {}

    // Google's key set: {"keys":[{"keyValue":"<base64 DER SubjectPublicKeyInfo>",
    // "protocolVersion":"ECv2SigningOnly","keyExpiration":"<ms>"?}]}. Returns the number of
    // usable keys; throws std::runtime_error when there is none.
    std::size_t set_root_keys(std::string_view keys_json, std::int64_t now_ms);
    [[nodiscard]] bool has_keys() const;

    // The event, or why the message is refused (not Google's, tampered, malformed).
    // Expiry of the message itself (exp_ms) is left to the caller.
    [[nodiscard]] std::variant<CallbackEvent, std::string> verify(std::string_view body,
                                                                  std::int64_t now_ms) const;

private:
    std::string issuer_;
    mutable std::mutex mutex_;
    std::shared_ptr<const std::vector<crypto::EvpPkeyPtr>> roots_;
};

// Length-value concatenation of the signed parts (exposed for tests).
[[nodiscard]] std::string length_values(const std::vector<std::string_view>& parts);

}  // namespace cardsmith::google
