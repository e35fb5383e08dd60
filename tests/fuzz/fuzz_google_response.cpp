// Fuzz target: what Google sends back. The first byte picks the answer, the next two its
// HTTP status (big-endian, for the REST answers); the rest is the body:
//   0 the OAuth token endpoint's answer        read_token_answer, then refresh_time
//   1 a Wallet REST error                       error_message
//   2 a LoyaltyObject read before addMessage    messages_to_keep
//   3 Google's callback signing keys            CallbackVerifier::set_root_keys
//   4 a save/delete callback (internet-facing)  CallbackVerifier::verify, as received
//   5 the same, with valid signatures           the body's signedKey and signedMessage
//                                               (NUL-separated) signed by a root and an
//                                               intermediate key made at start-up, so the
//                                               parsing behind the signature checks runs
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <boost/json.hpp>

#include "crypto/base64.hpp"
#include "crypto/openssl_ptr.hpp"
#include "fuzz_support.hpp"
#include "google/callbacks.hpp"
#include "google/token_source.hpp"
#include "google/wallet.hpp"

namespace cardsmith::fuzz {
namespace {
namespace json = boost::json;

constexpr std::string_view kIssuer = "3388000000022222228";
constexpr std::int64_t kNowMs = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

// An ECDSA P-256 key as Google's signing keys are.
struct EcKey {
    crypto::EvpPkeyPtr key{EVP_EC_gen("P-256")};

    [[nodiscard]] std::string public_base64() const {
        unsigned char* der = nullptr;
        const int n = i2d_PUBKEY(key.get(), &der);
        FUZZ_EXPECT(n > 0);
        std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
        OPENSSL_free(der);
        return crypto::base64_encode(out);
    }
    [[nodiscard]] std::string sign_base64(std::string_view data) const {
        std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                                    EVP_MD_CTX_free);
        std::size_t n = 0;
        const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
        FUZZ_EXPECT(EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) == 1);
        FUZZ_EXPECT(EVP_DigestSign(ctx.get(), nullptr, &n, bytes, data.size()) == 1);
        std::string sig(n, '\0');
        FUZZ_EXPECT(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &n,
                                   bytes, data.size()) == 1);
        sig.resize(n);
        return crypto::base64_encode(sig);
    }
};

struct World {
    EcKey root;
    google::CallbackVerifier verifier{std::string(kIssuer)};
    World() {
        const std::string keys = json::serialize(json::object{
            {"keys", json::array{json::object{{"keyValue", root.public_base64()},
                                              {"protocolVersion", "ECv2SigningOnly"}}}}});
        FUZZ_EXPECT(verifier.set_root_keys(keys, kNowMs) == 1);
    }
};

World& world() {
    static World w;
    return w;
}

void token(int status, std::string_view body) {
    const auto answer = google::read_token_answer(status, body);
    FUZZ_EXPECT(answer.token.empty() != answer.failure.empty());
    if (!answer.token.empty()) {
        const auto now = std::chrono::steady_clock::now();
        // A token is kept a while: a refresh for every request would flood the endpoint.
        FUZZ_EXPECT(google::refresh_time(now, answer.lifetime) > now);
    }
}

void messages(std::string_view body) {
    const auto keep =
        google::messages_to_keep(body, "campaign-12-card-4000123412341234", "2026-01-01T00:00:00Z");
    if (keep) {
        FUZZ_EXPECT(keep->size() <= 5);
    }
}

void root_keys(std::string_view body) {
    google::CallbackVerifier verifier{std::string(kIssuer)};
    try {
        FUZZ_EXPECT(verifier.set_root_keys(body, kNowMs) > 0);
        FUZZ_EXPECT(verifier.has_keys());
    } catch (const std::runtime_error&) {
        FUZZ_EXPECT(!verifier.has_keys());  // documented: no usable key
    }
}

void callback(std::string_view body) {
    const auto result = world().verifier.verify(body, kNowMs);
    if (const auto* event = std::get_if<google::CallbackEvent>(&result)) {
        FUZZ_EXPECT(!event->object_id.empty() && !event->nonce.empty());
    }
}

// Google's envelope around a signedKey and a signedMessage taken from the input.
void signed_callback(std::string_view body) {
    const auto nul = body.find('\0');
    if (nul == std::string_view::npos) {
        return;
    }
    const std::string signed_key(body.substr(0, nul));
    const std::string message(body.substr(nul + 1));
    static const EcKey intermediate;
    // The input's signedKey names the intermediate key when it asks for "{{key}}".
    std::string key_text = signed_key;
    if (auto at = key_text.find("{{key}}"); at != std::string::npos) {
        key_text.replace(at, 7, intermediate.public_base64());
    }
    const auto& w = world();
    const std::string envelope = json::serialize(json::object{
        {"protocolVersion", "ECv2SigningOnly"},
        {"intermediateSigningKey",
         {{"signedKey", key_text},
          {"signatures", json::array{w.root.sign_base64(google::length_values(
                             {"GooglePayPasses", "ECv2SigningOnly", key_text}))}}}},
        {"signedMessage", message},
        {"signature", intermediate.sign_base64(google::length_values(
                          {"GooglePayPasses", kIssuer, "ECv2SigningOnly", message}))}});
    callback(envelope);
}

}  // namespace
}  // namespace cardsmith::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace cardsmith::fuzz;
    if (size < 3) {
        return 0;
    }
    const int status = data[1] * 256 + data[2];
    const std::string_view body = text_of(data + 3, size - 3);
    switch (data[0] % 6) {
        case 0:
            token(status, body);
            break;
        case 1:
            (void)cardsmith::google::error_message(body);
            break;
        case 2:
            messages(body);
            break;
        case 3:
            root_keys(body);
            break;
        case 4:
            callback(body);
            break;
        default:
            signed_callback(body);
            break;
    }
    return 0;
}
