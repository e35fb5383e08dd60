#include "google/callbacks.hpp"

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <boost/json.hpp>
#include <charconv>
#include <optional>
#include <stdexcept>

namespace cardsmith::google {
namespace json = boost::json;
namespace {

constexpr std::string_view kSender = "GooglePayPasses";
constexpr std::string_view kProtocol = "ECv2SigningOnly";

std::optional<std::string> base64_decode(std::string_view in) {
    // Standard alphabet with padding (Google's encoding of keys and signatures).
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : in) {
        int v = -1;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '+' || c == '-')
            v = 62;
        else if (c == '/' || c == '_')
            v = 63;
        else if (c == '=')
            break;
        else
            return std::nullopt;
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xFF);
        }
    }
    return out;
}

crypto::EvpPkeyPtr public_key(std::string_view base64_der) {
    auto der = base64_decode(base64_der);
    if (!der) return nullptr;
    const auto* p = reinterpret_cast<const unsigned char*>(der->data());
    crypto::EvpPkeyPtr key(d2i_PUBKEY(nullptr, &p, static_cast<long>(der->size())));
    if (!key || EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_EC) return nullptr;
    return key;
}

bool verify_ecdsa(EVP_PKEY* key, std::string_view data, std::string_view base64_signature) {
    auto sig = base64_decode(base64_signature);
    if (!sig) return false;
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
           EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig->data()),
                            sig->size(), reinterpret_cast<const unsigned char*>(data.data()),
                            data.size()) == 1;
}

std::string text(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::int64_t millis(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (v == nullptr) return 0;
    if (v->is_int64()) return v->as_int64();
    if (v->is_string()) {
        std::int64_t out = 0;
        const auto& s = v->as_string();
        std::from_chars(s.data(), s.data() + s.size(), out);
        return out;
    }
    return 0;
}

}  // namespace

std::string length_values(const std::vector<std::string_view>& parts) {
    std::string out;
    for (auto part : parts) {
        const auto n = static_cast<std::uint32_t>(part.size());
        for (int i = 0; i < 4; ++i) {
            out += static_cast<char>((n >> (8 * i)) & 0xFF);
        }
        out += part;
    }
    return out;
}

std::size_t CallbackVerifier::set_root_keys(std::string_view keys_json, std::int64_t now_ms) {
    boost::system::error_code ec;
    auto v = json::parse(keys_json, ec);
    const auto* keys = !ec && v.is_object() ? v.as_object().if_contains("keys") : nullptr;
    auto roots = std::make_shared<std::vector<crypto::EvpPkeyPtr>>();
    if (keys != nullptr && keys->is_array()) {
        for (const auto& k : keys->as_array()) {
            if (!k.is_object()) continue;
            const auto& o = k.as_object();
            if (text(o, "protocolVersion") != kProtocol) continue;
            const auto expires = millis(o, "keyExpiration");
            if (expires != 0 && expires <= now_ms) continue;
            if (auto key = public_key(text(o, "keyValue"))) {
                roots->push_back(std::move(key));
            }
        }
    }
    if (roots->empty()) {
        throw std::runtime_error("no usable ECv2SigningOnly key in Google's key set");
    }
    const auto n = roots->size();
    std::lock_guard lock(mutex_);
    roots_ = std::move(roots);
    return n;
}

bool CallbackVerifier::has_keys() const {
    std::lock_guard lock(mutex_);
    return roots_ != nullptr;
}

std::variant<CallbackEvent, std::string> CallbackVerifier::verify(std::string_view body,
                                                                  std::int64_t now_ms) const {
    std::shared_ptr<const std::vector<crypto::EvpPkeyPtr>> roots;
    {
        std::lock_guard lock(mutex_);
        roots = roots_;
    }
    if (!roots) {
        return std::string("Google's signing keys are not loaded");
    }
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    if (ec || !v.is_object()) {
        return std::string("not JSON");
    }
    const auto& m = v.as_object();
    if (text(m, "protocolVersion") != kProtocol) {
        return std::string("protocolVersion must be ECv2SigningOnly");
    }
    const auto* inter = m.if_contains("intermediateSigningKey");
    if (inter == nullptr || !inter->is_object()) {
        return std::string("no intermediateSigningKey");
    }
    const std::string signed_key = text(inter->as_object(), "signedKey");
    const auto* signatures = inter->as_object().if_contains("signatures");
    // 1. A root key signed the intermediate key.
    const std::string key_data = length_values({kSender, kProtocol, signed_key});
    bool key_ok = false;
    if (signatures != nullptr && signatures->is_array()) {
        for (const auto& s : signatures->as_array()) {
            if (!s.is_string()) continue;
            for (const auto& root : *roots) {
                if (verify_ecdsa(root.get(), key_data, s.as_string())) {
                    key_ok = true;
                    break;
                }
            }
            if (key_ok) break;
        }
    }
    if (!key_ok) {
        return std::string("the intermediate key is not signed by Google");
    }
    auto kv = json::parse(signed_key, ec);
    if (ec || !kv.is_object()) {
        return std::string("signedKey is not JSON");
    }
    const auto expires = millis(kv.as_object(), "keyExpiration");
    if (expires != 0 && expires <= now_ms) {
        return std::string("the intermediate key expired");
    }
    auto intermediate = public_key(text(kv.as_object(), "keyValue"));
    if (!intermediate) {
        return std::string("the intermediate key is not an EC public key");
    }
    // 2. The intermediate key signed the message for us (the issuer).
    const std::string signed_message = text(m, "signedMessage");
    const std::string message_data = length_values({kSender, issuer_, kProtocol, signed_message});
    if (!verify_ecdsa(intermediate.get(), message_data, text(m, "signature"))) {
        return std::string("bad message signature");
    }
    auto msg = json::parse(signed_message, ec);
    if (ec || !msg.is_object()) {
        return std::string("signedMessage is not JSON");
    }
    const auto& o = msg.as_object();
    CallbackEvent e{text(o, "classId"), text(o, "objectId"), text(o, "eventType"), text(o, "nonce"),
                    millis(o, "expTimeMillis")};
    if (e.object_id.empty() || (e.event_type != "save" && e.event_type != "del") ||
        e.nonce.empty()) {
        return std::string("the message lacks objectId, eventType or nonce");
    }
    return e;
}

}  // namespace cardsmith::google
