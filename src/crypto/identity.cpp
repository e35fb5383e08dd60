#include "crypto/identity.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/x509_vfy.h>

#include <climits>
#include <cstring>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "common/check.hpp"
#include "common/time_format.hpp"
#include "crypto/crypto_error.hpp"
#include "crypto/hash.hpp"
#include "crypto/openssl_ptr.hpp"
#include "crypto/pem.hpp"

namespace cardsmith::crypto {
namespace {

using Pkcs12Ptr = std::unique_ptr<PKCS12, Deleter<PKCS12_free>>;
using Pkcs8Ptr = std::unique_ptr<PKCS8_PRIV_KEY_INFO, Deleter<PKCS8_PRIV_KEY_INFO_free>>;

struct Pkcs7StackDeleter {
    void operator()(STACK_OF(PKCS7) * s) const noexcept { sk_PKCS7_pop_free(s, PKCS7_free); }
};
using Pkcs7StackPtr = std::unique_ptr<STACK_OF(PKCS7), Pkcs7StackDeleter>;

struct SafebagStackDeleter {
    void operator()(STACK_OF(PKCS12_SAFEBAG) * s) const noexcept {
        sk_PKCS12_SAFEBAG_pop_free(s, PKCS12_SAFEBAG_free);
    }
};
using SafebagStackPtr = std::unique_ptr<STACK_OF(PKCS12_SAFEBAG), SafebagStackDeleter>;

using Problem = std::optional<IdentityProblem>;

constexpr std::size_t kMaxIdLength = 255;
constexpr std::size_t kMaxCertificates = 16;
constexpr int kMaxSafeNesting = 3;

// A library context holding the default and legacy providers, for keys and PKCS#12
// bundles encrypted with RC2 or DES (older macOS Keychain exports; apple-wallet.md
// pitfall 5) without loading the legacy provider into the process-wide context. Keys
// decoded here are moved to the default context before use. Made once; thread-safe.
class LegacyContext {
public:
    LegacyContext() : ctx_(OSSL_LIB_CTX_new()) {
        if (ctx_ != nullptr) {
            default_ = OSSL_PROVIDER_load(ctx_, "default");
            // May be missing from a minimal install: legacy algorithms then fail cleanly.
            legacy_ = OSSL_PROVIDER_load(ctx_, "legacy");
        }
        ERR_clear_error();
    }
    ~LegacyContext() {
        if (legacy_ != nullptr) {
            OSSL_PROVIDER_unload(legacy_);
        }
        if (default_ != nullptr) {
            OSSL_PROVIDER_unload(default_);
        }
        OSSL_LIB_CTX_free(ctx_);
    }
    LegacyContext(const LegacyContext&) = delete;
    LegacyContext& operator=(const LegacyContext&) = delete;
    // nullptr (OpenSSL's default context) when the context could not be made.
    [[nodiscard]] OSSL_LIB_CTX* get() const { return default_ != nullptr ? ctx_ : nullptr; }

private:
    OSSL_LIB_CTX* ctx_;
    OSSL_PROVIDER* default_ = nullptr;
    OSSL_PROVIDER* legacy_ = nullptr;
};

OSSL_LIB_CTX* legacy_context() {
    static const LegacyContext instance;
    return instance.get();
}

IdentityProblem problem(std::string field, std::string message) {
    return IdentityProblem{std::move(field), std::move(message)};
}

// `text` with control characters replaced, so that a hostile certificate name cannot
// forge lines in a log or a message.
std::string printable(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7F) {
            c = '?';
        }
    }
    return out;
}

BioPtr memory_bio(std::string_view data) {
    BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
    if (!bio) {
        throw CryptoError("BIO_new_mem_buf failed: " + openssl_errors());
    }
    return bio;
}

// Hands OpenSSL the upload's password and notes that the key turned out encrypted.
struct PasswordSource {
    const std::string* password;
    bool asked = false;
};

int supply_password(char* buf, int size, int /*rwflag*/, void* user) {
    auto* source = static_cast<PasswordSource*>(user);
    source->asked = true;
    const std::string& password = *source->password;
    if (password.empty() || size <= 0 || password.size() > static_cast<std::size_t>(size)) {
        return -1;
    }
    std::memcpy(buf, password.data(), password.size());
    return static_cast<int>(password.size());
}

int refuse_password(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*user*/) { return -1; }

Problem check_sizes(const IdentityUpload& upload) {
    struct Input {
        const char* field;
        const char* name;
        const std::string* value;
    };
    const Input inputs[] = {{"certificate", "the certificate", &upload.certificate_pem},
                            {"privateKey", "the private key", &upload.private_key_pem},
                            {"pkcs12", "the PKCS#12 bundle", &upload.pkcs12_der}};
    for (const Input& input : inputs) {
        if (input.value->size() > kMaxIdentityInput) {
            return problem(input.field, std::string(input.name) + " is larger than 64 KiB");
        }
    }
    if (upload.password.size() > kMaxIdentityPassword) {
        return problem("password", "the password is longer than 1023 bytes");
    }
    if (upload.pass_type_id.size() > kMaxIdLength) {
        return problem("passTypeId", "passTypeId is longer than 255 characters");
    }
    if (upload.team_id.size() > kMaxIdLength) {
        return problem("teamId", "teamId is longer than 255 characters");
    }
    const bool has_pem = !upload.certificate_pem.empty() || !upload.private_key_pem.empty();
    if (has_pem && !upload.pkcs12_der.empty()) {
        return problem("pkcs12",
                       "give either a certificate and private key or a PKCS#12 bundle, not both");
    }
    if (!has_pem && upload.pkcs12_der.empty()) {
        return problem("certificate",
                       "give the pass certificate and its private key, or a PKCS#12 bundle");
    }
    if (has_pem && upload.certificate_pem.empty()) {
        return problem("certificate", "the pass certificate is missing");
    }
    if (has_pem && upload.private_key_pem.empty()) {
        return problem("privateKey", "the private key is missing");
    }
    return std::nullopt;
}

// What the upload holds, before any check: its certificates in order and one key.
struct Parsed {
    std::vector<X509Ptr> certs;
    EvpPkeyPtr key;
};

// A key decoded in the legacy context, re-decoded in the default one.
EvpPkeyPtr to_default_context(const EVP_PKEY* key) {
    const Pkcs8Ptr p8(EVP_PKEY2PKCS8(key));
    EvpPkeyPtr out(p8 ? EVP_PKCS82PKEY(p8.get()) : nullptr);
    ERR_clear_error();
    return out;
}

Problem read_pem_certificates(std::string_view pem, Parsed& out) {
    const BioPtr bio = memory_bio(pem);
    while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, refuse_password, nullptr)) {
        out.certs.emplace_back(cert);
        if (out.certs.size() > kMaxCertificates) {
            ERR_clear_error();
            return problem("certificate", "the certificate text holds more than 16 certificates");
        }
    }
    // Reading stops with "no start line" at the end of the text; anything else is damage.
    const unsigned long last = ERR_peek_last_error();
    ERR_clear_error();
    if (out.certs.empty() && pem.find("-----BEGIN CERTIFICATE-----") != std::string_view::npos) {
        return problem("certificate",
                       "the PEM certificate is damaged: was it copied completely, from -----BEGIN "
                       "CERTIFICATE----- to -----END CERTIFICATE-----?");
    }
    if (out.certs.empty()) {
        return problem("certificate",
                       "not a PEM certificate: paste the text starting with -----BEGIN "
                       "CERTIFICATE----- (Apple's pass.cer download is binary: convert it with "
                       "`openssl x509 -inform der -in pass.cer -out pass.pem`)");
    }
    if (ERR_GET_LIB(last) != ERR_LIB_PEM || ERR_GET_REASON(last) != PEM_R_NO_START_LINE) {
        return problem("certificate", "a certificate in the PEM text is damaged");
    }
    return std::nullopt;
}

Problem read_pem_key(const IdentityUpload& upload, Parsed& out) {
    const BioPtr bio = memory_bio(upload.private_key_pem);
    PasswordSource source{&upload.password};
    const EvpPkeyPtr key(PEM_read_bio_PrivateKey_ex(bio.get(), nullptr, supply_password, &source,
                                                    legacy_context(), nullptr));
    ERR_clear_error();
    if (!key) {
        if (!source.asked) {
            return problem("privateKey",
                           "not a PEM private key: paste the text starting with -----BEGIN "
                           "PRIVATE KEY----- (or ENCRYPTED PRIVATE KEY, RSA PRIVATE KEY)");
        }
        if (upload.password.empty()) {
            return problem("password", "the private key is encrypted: give its password");
        }
        return problem("password", "the password does not decrypt the private key");
    }
    out.key = to_default_context(key.get());
    if (!out.key) {
        return problem("privateKey", "the private key could not be read");
    }
    return std::nullopt;
}

// The password for a PKCS#12 bundle as OpenSSL wants it (nullptr for "no password").
struct Pkcs12Password {
    const char* data = nullptr;
    int size = 0;
    bool mac_verified = false;
};

// Picks the password the bundle's integrity MAC accepts, as PKCS12_parse does: an empty
// password may mean either no password or the empty string.
Problem choose_pkcs12_password(PKCS12* p12, const std::string& password, Pkcs12Password& out) {
    if (!password.empty()) {
        out = {password.c_str(), static_cast<int>(password.size()), false};
    }
    if (PKCS12_mac_present(p12) != 1) {
        return std::nullopt;
    }
    if (!password.empty()) {
        out.mac_verified = PKCS12_verify_mac(p12, out.data, out.size) == 1;
    } else if (PKCS12_verify_mac(p12, nullptr, 0) == 1) {
        out = {nullptr, 0, true};
    } else if (PKCS12_verify_mac(p12, "", 0) == 1) {
        out = {"", 0, true};
    }
    ERR_clear_error();
    if (out.mac_verified) {
        return std::nullopt;
    }
    if (password.empty()) {
        return problem("password", "the PKCS#12 bundle is protected by a password: give it");
    }
    return problem("password", "the password does not open the PKCS#12 bundle");
}

Problem decrypt_problem(const Pkcs12Password& password) {
    ERR_clear_error();
    if (!password.mac_verified) {
        return problem("password", "the password does not open the PKCS#12 bundle");
    }
    return problem("pkcs12",
                   "the PKCS#12 bundle uses an encryption this server cannot read: export it "
                   "again, or upload the certificate and private key as PEM");
}

Problem read_bags(const STACK_OF(PKCS12_SAFEBAG) * bags, const Pkcs12Password& password, int depth,
                  Parsed& out, int& keys) {
    for (int i = 0; i < sk_PKCS12_SAFEBAG_num(bags); ++i) {
        const PKCS12_SAFEBAG* bag = sk_PKCS12_SAFEBAG_value(bags, i);
        const int nid = PKCS12_SAFEBAG_get_nid(bag);
        if (nid == NID_keyBag || nid == NID_pkcs8ShroudedKeyBag) {
            Pkcs8Ptr decrypted;
            const PKCS8_PRIV_KEY_INFO* p8 = PKCS12_SAFEBAG_get0_p8inf(bag);
            if (nid == NID_pkcs8ShroudedKeyBag) {
                decrypted.reset(PKCS12_decrypt_skey_ex(bag, password.data, password.size,
                                                       legacy_context(), nullptr));
                if (!decrypted) {
                    return decrypt_problem(password);
                }
                p8 = decrypted.get();
            }
            ++keys;
            out.key.reset(p8 != nullptr ? EVP_PKCS82PKEY(p8) : nullptr);
        } else if (nid == NID_certBag && PKCS12_SAFEBAG_get_bag_nid(bag) == NID_x509Certificate) {
            if (X509* cert = PKCS12_SAFEBAG_get1_cert(bag)) {
                out.certs.emplace_back(cert);
            }
        } else if (nid == NID_safeContentsBag && depth < kMaxSafeNesting) {
            if (Problem p =
                    read_bags(PKCS12_SAFEBAG_get0_safes(bag), password, depth + 1, out, keys)) {
                return p;
            }
        }
        if (out.certs.size() > kMaxCertificates) {
            return problem("pkcs12", "the PKCS#12 bundle holds more than 16 certificates");
        }
    }
    ERR_clear_error();
    return std::nullopt;
}

// One authenticated safe: plain data, or encrypted with the password (decrypted in the
// legacy context; PKCS12_unpack_p7encdata would use the default one).
Problem read_safe(PKCS7* p7, const Pkcs12Password& password, Parsed& out, int& keys) {
    SafebagStackPtr bags;
    if (PKCS7_type_is_data(p7)) {
        bags.reset(PKCS12_unpack_p7data(p7));
    } else if (PKCS7_type_is_encrypted(p7)) {
        const PKCS7_ENCRYPT* encrypted = p7->d.encrypted;
        if (encrypted == nullptr || encrypted->enc_data == nullptr ||
            encrypted->enc_data->enc_data == nullptr) {
            return problem("pkcs12", "the PKCS#12 bundle is damaged");
        }
        bags.reset(static_cast<STACK_OF(PKCS12_SAFEBAG)*>(PKCS12_item_decrypt_d2i_ex(
            encrypted->enc_data->algorithm, ASN1_ITEM_rptr(PKCS12_SAFEBAGS), password.data,
            password.size, encrypted->enc_data->enc_data, 1, legacy_context(), nullptr)));
        if (!bags) {
            return decrypt_problem(password);
        }
    } else {
        return std::nullopt;  // enveloped safes (public-key privacy) are not used for this
    }
    if (!bags) {
        ERR_clear_error();
        return problem("pkcs12", "the PKCS#12 bundle is damaged");
    }
    return read_bags(bags.get(), password, 0, out, keys);
}

Problem read_pkcs12(const IdentityUpload& upload, Parsed& out) {
    const auto* der = reinterpret_cast<const unsigned char*>(upload.pkcs12_der.data());
    const unsigned char* cursor = der;
    const Pkcs12Ptr p12(d2i_PKCS12(nullptr, &cursor, static_cast<long>(upload.pkcs12_der.size())));
    ERR_clear_error();
    if (!p12) {
        return problem("pkcs12",
                       "not a PKCS#12 bundle: upload the .p12 file exported from Keychain Access");
    }
    Pkcs12Password password;
    if (Problem p = choose_pkcs12_password(p12.get(), upload.password, password)) {
        return p;
    }
    const Pkcs7StackPtr safes(PKCS12_unpack_authsafes(p12.get()));
    if (!safes) {
        ERR_clear_error();
        return problem("pkcs12", "the PKCS#12 bundle is damaged");
    }
    int keys = 0;
    for (int i = 0; i < sk_PKCS7_num(safes.get()); ++i) {
        if (Problem p = read_safe(sk_PKCS7_value(safes.get(), i), password, out, keys)) {
            return p;
        }
    }
    if (keys == 0 || !out.key) {
        return problem("pkcs12",
                       "the PKCS#12 bundle holds no private key: export the certificate together "
                       "with its key (in Keychain Access, select both)");
    }
    if (keys > 1) {
        return problem("pkcs12",
                       "the PKCS#12 bundle holds more than one private key: export only the pass "
                       "certificate and its key");
    }
    if (out.certs.empty()) {
        return problem("pkcs12", "the PKCS#12 bundle holds no certificate");
    }
    return std::nullopt;
}

// The certificate that the key belongs to (uploads may carry the chain too).
X509* find_leaf(const Parsed& parsed) {
    for (const X509Ptr& cert : parsed.certs) {
        if (key_matches_certificate(cert.get(), parsed.key.get())) {
            return cert.get();
        }
    }
    return nullptr;
}

// Verifies the chain leaf → wwdr with the WWDR as trust anchor. Time is checked apart,
// so that an expired certificate gets a message with its date.
Problem check_chain(X509* leaf, X509* wwdr, const CertificateInfo& info) {
    const X509StorePtr store(X509_STORE_new());
    const X509StoreCtxPtr ctx(X509_STORE_CTX_new());
    if (!store || !ctx || X509_STORE_add_cert(store.get(), wwdr) != 1 ||
        X509_STORE_set_flags(store.get(), X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_NO_CHECK_TIME) !=
            1 ||
        X509_STORE_CTX_init(ctx.get(), store.get(), leaf, nullptr) != 1) {
        throw CryptoError("X509 store setup failed: " + openssl_errors());
    }
    // No purpose: Apple's pass certificate EKU (1.2.840.113635.100.4.14) is not standard.
    const int verified = X509_verify_cert(ctx.get());
    const int error = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    if (verified == 1) {
        return std::nullopt;
    }
    switch (error) {
        case X509_V_ERR_CERT_SIGNATURE_FAILURE:
            return problem("certificate",
                           "the certificate was not issued by Apple's WWDR intermediate: it names "
                           "the WWDR as issuer, but its signature does not verify");
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
        case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        case X509_V_ERR_CERT_UNTRUSTED:
            return problem("certificate",
                           "the certificate was not issued by Apple's WWDR intermediate (its "
                           "issuer is " +
                               printable(info.issuer) + ")");
        default:
            return problem("certificate",
                           std::string("the certificate does not chain to Apple's WWDR "
                                       "intermediate: ") +
                               X509_verify_cert_error_string(error));
    }
}

std::string date_of(std::chrono::system_clock::time_point t) {
    return format_iso8601(t).substr(0, 10);
}

Problem check_validity(const CertificateInfo& info, X509* wwdr,
                       std::chrono::system_clock::time_point now) {
    if (now < info.not_before) {
        return problem("certificate",
                       "the certificate is not valid before " + format_iso8601(info.not_before));
    }
    if (now > info.not_after) {
        return problem("certificate", "the certificate expired on " + date_of(info.not_after));
    }
    if (const CertificateInfo anchor = inspect_certificate(wwdr); now > anchor.not_after) {
        return problem("certificate",
                       "the WWDR intermediate configured on this server expired on " +
                           date_of(anchor.not_after) +
                           ": the server's operator must install the current one");
    }
    return std::nullopt;
}

Problem check_ids(const CertificateInfo& info, const IdentityUpload& upload) {
    if (info.uid.empty()) {
        return problem("certificate",
                       "the certificate has no UID (pass type ID) in its subject: upload a Pass "
                       "Type ID certificate from Apple's developer portal");
    }
    if (!info.uid.starts_with("pass.")) {
        return problem("certificate", "the certificate's UID is " + printable(info.uid) +
                                          ", which is not a pass type ID (those start with "
                                          "\"pass.\")");
    }
    if (info.org_unit.empty()) {
        return problem("certificate", "the certificate has no OU (team ID) in its subject");
    }
    if (!upload.pass_type_id.empty() && upload.pass_type_id != info.uid) {
        return problem("passTypeId", "the certificate's UID is " + printable(info.uid) +
                                         " but passTypeId is " + printable(upload.pass_type_id));
    }
    if (!upload.team_id.empty() && upload.team_id != info.org_unit) {
        return problem("teamId", "the certificate's OU is " + printable(info.org_unit) +
                                     " but teamId is " + printable(upload.team_id));
    }
    return std::nullopt;
}

std::string der_of(X509* cert) {
    unsigned char* der = nullptr;
    const int len = i2d_X509(cert, &der);
    if (len <= 0 || der == nullptr) {
        throw CryptoError("i2d_X509 failed: " + openssl_errors());
    }
    std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
    return out;
}

std::string pkcs8_pem(EVP_PKEY* key) {
    const BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio ||
        PEM_write_bio_PKCS8PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        throw CryptoError("PEM_write_bio_PKCS8PrivateKey failed: " + openssl_errors());
    }
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    if (len <= 0 || data == nullptr) {
        throw CryptoError("BIO_get_mem_data failed");
    }
    std::string out(data, static_cast<std::size_t>(len));
    OPENSSL_cleanse(data, static_cast<std::size_t>(len));
    return out;
}

std::variant<CheckedIdentity, IdentityProblem> check_parsed(
    const IdentityUpload& upload, const Parsed& parsed, X509* wwdr,
    std::chrono::system_clock::time_point now) {
    X509* leaf = find_leaf(parsed);
    if (leaf == nullptr) {
        return problem(upload.pkcs12_der.empty() ? "privateKey" : "pkcs12",
                       "the private key does not belong to the certificate");
    }
    const CertificateInfo info = inspect_certificate(leaf);
    Problem p = check_chain(leaf, wwdr, info);
    if (!p) {
        p = check_validity(info, wwdr, now);
    }
    if (!p) {
        p = check_ids(info, upload);
    }
    if (p) {
        return *std::move(p);
    }
    CheckedIdentity checked;
    checked.pass_type_id = info.uid;
    checked.team_id = info.org_unit;
    checked.certificate_pem = certificate_to_pem(leaf);
    checked.private_key_pem = pkcs8_pem(parsed.key.get());
    checked.subject = info.subject;
    checked.not_before = info.not_before;
    checked.not_after = info.not_after;
    checked.sha256_fingerprint = sha256_hex(der_of(leaf));
    return checked;
}

}  // namespace

std::variant<CheckedIdentity, IdentityProblem> check_identity(
    const IdentityUpload& upload, X509* wwdr, std::chrono::system_clock::time_point now) {
    CARDSMITH_CHECK(wwdr != nullptr);
    if (Problem p = check_sizes(upload)) {
        return *std::move(p);
    }
    try {
        Parsed parsed;
        Problem p = upload.pkcs12_der.empty()
                        ? read_pem_certificates(upload.certificate_pem, parsed)
                        : read_pkcs12(upload, parsed);
        if (!p && upload.pkcs12_der.empty()) {
            p = read_pem_key(upload, parsed);
        }
        if (p) {
            return *std::move(p);
        }
        return check_parsed(upload, parsed, wwdr, now);
    } catch (const CryptoError&) {
        // OpenSSL failed on input it had accepted (e.g. an unreadable validity date); the
        // details may quote the input, so they stay out of the message.
        ERR_clear_error();
        return problem("certificate", "the certificate could not be read");
    }
}

}  // namespace cardsmith::crypto
