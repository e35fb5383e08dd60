#include "jwt_check.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace cardsmith::test {
namespace {

struct PkeyFree {
    void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
struct BioFree {
    void operator()(BIO* b) const noexcept { BIO_free(b); }
};
struct MdCtxFree {
    void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};
struct X509Free {
    void operator()(X509* x) const noexcept { X509_free(x); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::int64_t kSkewSeconds = 300;

// Never prompt for a passphrase (encrypted keys simply fail to load).
int no_passphrase(char*, int, int, void*) { return 0; }

BioPtr mem_bio(std::string_view pem) {
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) {
        throw std::runtime_error("jwt_check: BIO_new_mem_buf failed");
    }
    return bio;
}

void require_rsa(const PkeyPtr& key) {
    if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA) {
        throw std::runtime_error("jwt_check: the key is not an RSA key");
    }
}

PkeyPtr load_private_key(std::string_view pem) {
    BioPtr bio = mem_bio(pem);
    PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
    ERR_clear_error();
    if (!key) {
        throw std::runtime_error("jwt_check: no private key in the PEM");
    }
    require_rsa(key);
    return key;
}

// Public key, private key or certificate: whatever the PEM holds.
PkeyPtr load_any_key(std::string_view pem) {
    PkeyPtr key;
    {
        BioPtr bio = mem_bio(pem);
        key.reset(PEM_read_bio_PUBKEY(bio.get(), nullptr, no_passphrase, nullptr));
    }
    if (!key) {
        BioPtr bio = mem_bio(pem);
        key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
    }
    if (!key) {
        BioPtr bio = mem_bio(pem);
        const X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr));
        if (cert) {
            key.reset(X509_get_pubkey(cert.get()));
        }
    }
    ERR_clear_error();
    if (!key) {
        throw std::runtime_error("jwt_check: no public key, private key or certificate in the PEM");
    }
    require_rsa(key);
    return key;
}

std::string bio_string(BIO* bio) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    return n > 0 && data != nullptr ? std::string(data, static_cast<std::size_t>(n))
                                    : std::string();
}

const std::uint8_t* bytes(std::string_view s) {
    return reinterpret_cast<const std::uint8_t*>(s.data());
}

std::optional<boost::json::object> parse_object(std::string_view text) {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(text, ec);
    if (ec || !v.is_object()) {
        return std::nullopt;
    }
    return std::move(v.as_object());
}

std::optional<std::int64_t> integer(const boost::json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (v->is_int64()) {
        return v->as_int64();
    }
    if (v->is_uint64() && v->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
        return static_cast<std::int64_t>(v->as_uint64());
    }
    return std::nullopt;
}

bool string_equals(const boost::json::object& o, std::string_view key, std::string_view want) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() && v->as_string() == want;
}

}  // namespace

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string base64url_encode(std::string_view in) {
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= in.size(); i += 3) {
        const auto n = static_cast<std::uint32_t>(static_cast<std::uint8_t>(in[i]) << 16 |
                                                  static_cast<std::uint8_t>(in[i + 1]) << 8 |
                                                  static_cast<std::uint8_t>(in[i + 2]));
        out.push_back(kAlphabet[(n >> 18) & 63]);
        out.push_back(kAlphabet[(n >> 12) & 63]);
        out.push_back(kAlphabet[(n >> 6) & 63]);
        out.push_back(kAlphabet[n & 63]);
    }
    const std::size_t rest = in.size() - i;
    if (rest > 0) {
        std::uint32_t n = static_cast<std::uint32_t>(static_cast<std::uint8_t>(in[i]) << 16);
        if (rest == 2) {
            n |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(in[i + 1]) << 8);
        }
        out.push_back(kAlphabet[(n >> 18) & 63]);
        out.push_back(kAlphabet[(n >> 12) & 63]);
        if (rest == 2) {
            out.push_back(kAlphabet[(n >> 6) & 63]);
        }
    }
    return out;
}

std::optional<std::string> base64url_decode(std::string_view in) {
    if (in.size() % 4 == 1) {
        return std::nullopt;
    }
    std::array<int, 256> table{};
    table.fill(-1);
    for (int i = 0; i < 64; ++i) {
        table[static_cast<unsigned char>(kAlphabet[i])] = i;
    }
    std::string out;
    out.reserve(in.size() * 3 / 4);
    std::uint32_t acc = 0;
    int bits = 0;
    for (const char c : in) {
        const int v = table[static_cast<unsigned char>(c)];
        if (v < 0) {
            return std::nullopt;
        }
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> bits) & 0xFF));
        }
    }
    return out;
}

JwtCheck check_rs256_jwt(std::string_view jwt, std::string_view key_pem) {
    JwtCheck r;
    const std::size_t dot1 = jwt.find('.');
    const std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : jwt.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos || jwt.find('.', dot2 + 1) != std::string_view::npos) {
        r.error = "not three dot-separated parts";
        return r;
    }
    const std::string_view header_b64 = jwt.substr(0, dot1);
    const std::string_view claims_b64 = jwt.substr(dot1 + 1, dot2 - dot1 - 1);
    const std::string_view signature_b64 = jwt.substr(dot2 + 1);
    const auto header_json = base64url_decode(header_b64);
    const auto claims_json = base64url_decode(claims_b64);
    const auto signature = base64url_decode(signature_b64);
    if (!header_json || !claims_json || !signature) {
        r.error = "a part is not unpadded base64url";
        return r;
    }
    auto header = parse_object(*header_json);
    auto claims = parse_object(*claims_json);
    if (!header || !claims) {
        r.error = "header or claims are not a JSON object";
        return r;
    }
    r.header = std::move(*header);
    r.claims = std::move(*claims);
    if (!string_equals(r.header, "alg", "RS256")) {
        r.status = JwtStatus::unsupported_alg;
        r.error = "header alg is not RS256";
        return r;
    }
    const PkeyPtr key = load_any_key(key_pem);
    const MdCtxPtr ctx(EVP_MD_CTX_new());
    EVP_PKEY_CTX* pctx = nullptr;
    const std::string_view signed_part = jwt.substr(0, dot2);
    const bool verified =
        ctx && EVP_DigestVerifyInit(ctx.get(), &pctx, EVP_sha256(), nullptr, key.get()) == 1 &&
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 &&
        EVP_DigestVerify(ctx.get(), bytes(*signature), signature->size(), bytes(signed_part),
                         signed_part.size()) == 1;
    ERR_clear_error();
    if (!verified) {
        r.status = JwtStatus::bad_signature;
        r.error = "RS256 signature does not verify";
        return r;
    }
    r.status = JwtStatus::ok;
    return r;
}

std::string sign_rs256_jwt(const boost::json::object& header, const boost::json::object& claims,
                           std::string_view private_key_pem) {
    const PkeyPtr key = load_private_key(private_key_pem);
    const std::string input = base64url_encode(boost::json::serialize(header)) + "." +
                              base64url_encode(boost::json::serialize(claims));
    const MdCtxPtr ctx(EVP_MD_CTX_new());
    EVP_PKEY_CTX* pctx = nullptr;
    std::size_t length = 0;
    if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, EVP_sha256(), nullptr, key.get()) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &length, bytes(input), input.size()) != 1) {
        ERR_clear_error();
        throw std::runtime_error("jwt_check: cannot start an RS256 signature");
    }
    std::string signature(length, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<std::uint8_t*>(signature.data()), &length,
                       bytes(input), input.size()) != 1) {
        ERR_clear_error();
        throw std::runtime_error("jwt_check: RS256 signing failed");
    }
    signature.resize(length);
    return input + "." + base64url_encode(signature);
}

std::string public_key_pem(std::string_view key_pem) {
    const PkeyPtr key = load_any_key(key_pem);
    const BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PUBKEY(bio.get(), key.get()) != 1) {
        ERR_clear_error();
        throw std::runtime_error("jwt_check: cannot write the public key");
    }
    return bio_string(bio.get());
}

std::string make_rsa_key_pem(unsigned bits) {
    const PkeyPtr key(EVP_RSA_gen(bits));
    const BioPtr bio(BIO_new(BIO_s_mem()));
    if (!key || !bio ||
        PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
            1) {
        ERR_clear_error();
        throw std::runtime_error("jwt_check: cannot make an RSA key");
    }
    return bio_string(bio.get());
}

ServiceAccount load_service_account(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::runtime_error("jwt_check: cannot read " + path);
    }
    std::ostringstream text;
    text << in.rdbuf();
    const auto json = parse_object(text.str());
    if (!json) {
        throw std::runtime_error("jwt_check: " + path + " is not a JSON object");
    }
    auto field = [&json](std::string_view key) {
        const auto* v = json->if_contains(key);
        return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
    };
    ServiceAccount sa{field("client_email"), field("private_key"), field("private_key_id"),
                      field("token_uri")};
    if (sa.client_email.empty() || sa.private_key.empty()) {
        throw std::runtime_error("jwt_check: " + path + " lacks client_email or private_key");
    }
    return sa;
}

SaveJwtCheck check_save_jwt(std::string_view jwt, std::string_view key_pem,
                            std::string_view client_email, std::size_t max_length) {
    SaveJwtCheck r;
    r.jwt = check_rs256_jwt(jwt, key_pem);
    auto& problems = r.problems;
    if (!r.jwt.ok()) {
        problems.push_back("jwt: " + r.jwt.error);
    }
    if (jwt.size() > max_length) {
        problems.push_back("length " + std::to_string(jwt.size()) + " > " +
                           std::to_string(max_length));
    }
    const auto& header = r.jwt.header;
    const auto& claims = r.jwt.claims;
    if (header.contains("typ") && !string_equals(header, "typ", "JWT")) {
        problems.emplace_back("header typ is not \"JWT\"");
    }
    if (!string_equals(claims, "aud", "google")) {
        problems.emplace_back("aud is not \"google\"");
    }
    if (!string_equals(claims, "typ", "savetowallet")) {
        problems.emplace_back("typ is not \"savetowallet\"");
    }
    const auto* iss = claims.if_contains("iss");
    if (iss == nullptr || !iss->is_string() ||
        (!client_email.empty() && iss->as_string() != client_email)) {
        problems.emplace_back("iss is not the service account's client_email");
    }
    const auto iat = integer(claims, "iat");
    if (!iat || *iat < unix_now() - kSkewSeconds || *iat > unix_now() + kSkewSeconds) {
        problems.emplace_back("iat is not an integer within 5 minutes of now");
    }
    if (const auto* origins = claims.if_contains("origins")) {
        bool good = origins->is_array();
        if (good) {
            for (const auto& o : origins->as_array()) {
                good = good && o.is_string();
            }
        }
        if (!good) {
            problems.emplace_back("origins is not an array of strings");
        }
    }
    bool payload_ok = false;
    if (const auto* payload = claims.if_contains("payload"); payload && payload->is_object()) {
        for (const auto& entry : payload->as_object()) {
            payload_ok =
                payload_ok || (entry.value().is_array() && !entry.value().as_array().empty());
        }
    }
    if (!payload_ok) {
        problems.emplace_back("payload is not an object with a non-empty array");
    }
    r.ok = problems.empty();
    return r;
}

}  // namespace cardsmith::test
