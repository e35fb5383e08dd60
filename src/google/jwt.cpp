#include "google/jwt.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <boost/json.hpp>
#include <memory>
#include <stdexcept>

#include "crypto/base64.hpp"
#include "crypto/crypto_error.hpp"
#include "crypto/key_file.hpp"
#include "crypto/pem.hpp"

namespace cardsmith::google {
namespace json = boost::json;

ServiceAccount load_service_account(const std::filesystem::path& path) {
    // It holds a private key: read like one (a file other users may read is refused).
    std::string text;
    try {
        text = *crypto::read_secret_file(path, 1024 * 1024);
    } catch (const crypto::CryptoError& e) {
        throw std::runtime_error(std::string("google.service_account: ") + e.what());
    }
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    OPENSSL_cleanse(text.data(), text.size());
    const auto* o = !ec ? v.if_object() : nullptr;
    const auto field = [&](std::string_view key) -> std::string {
        const auto* f = o != nullptr ? o->if_contains(key) : nullptr;
        return f != nullptr && f->is_string() ? std::string(f->as_string()) : std::string();
    };
    ServiceAccount a;
    a.client_email = field("client_email");
    a.private_key_id = field("private_key_id");
    a.token_uri = field("token_uri");
    const std::string pem = field("private_key");
    if (a.client_email.empty() || pem.empty()) {
        throw std::runtime_error("google.service_account: " + path.string() +
                                 " is not a service-account key (client_email, private_key)");
    }
    try {
        a.key = crypto::parse_private_key_pem(pem, "google.service_account private_key");
    } catch (const std::exception&) {
        throw std::runtime_error("google.service_account: the private_key in " + path.string() +
                                 " is not a PEM private key");
    }
    if (EVP_PKEY_get_base_id(a.key.get()) != EVP_PKEY_RSA) {
        throw std::runtime_error("google.service_account: the key in " + path.string() +
                                 " is not RSA");
    }
    return a;
}

std::string sign_jwt(const json::object& claims, EVP_PKEY* key, std::string_view key_id) {
    json::object header{{"alg", "RS256"}, {"typ", "JWT"}};
    if (!key_id.empty()) {
        header["kid"] = key_id;
    }
    std::string input = crypto::base64url_encode(json::serialize(header)) + "." +
                        crypto::base64url_encode(json::serialize(claims));
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    std::size_t size = 0;
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &size,
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
        throw std::runtime_error("JWT signing failed");
    }
    std::string signature(size, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
        throw std::runtime_error("JWT signing failed");
    }
    signature.resize(size);
    input += '.';
    input += crypto::base64url_encode(signature);
    return input;
}

std::string token_assertion(const ServiceAccount& account, std::string_view audience,
                            std::int64_t now_seconds) {
    const json::object claims{{"iss", account.client_email},
                              {"scope", kWalletScope},
                              {"aud", audience},
                              {"iat", now_seconds},
                              {"exp", now_seconds + 3600}};
    return sign_jwt(claims, account.key.get(), account.private_key_id);
}

std::string save_jwt(const ServiceAccount& account, std::string_view object_id,
                     std::string_view class_id, const std::vector<std::string>& origins,
                     std::int64_t now_seconds) {
    json::array origin_list;
    for (const auto& o : origins) {
        origin_list.emplace_back(o);
    }
    const json::object claims{
        {"iss", account.client_email},
        {"aud", "google"},
        {"typ", "savetowallet"},
        {"iat", now_seconds},
        {"origins", std::move(origin_list)},
        {"payload",
         {{"loyaltyObjects",
           json::array{json::object{{"id", object_id}, {"classId", class_id}}}}}}};
    return sign_jwt(claims, account.key.get(), account.private_key_id);
}

}  // namespace cardsmith::google
