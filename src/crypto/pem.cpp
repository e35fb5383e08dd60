#include "crypto/pem.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <climits>
#include <ctime>
#include <fstream>
#include <sstream>

#include "crypto/crypto_error.hpp"
#include "crypto/key_file.hpp"

namespace cardsmith::crypto {
namespace {

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw CryptoError(path.string() + ": cannot open file");
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) {
        throw CryptoError(path.string() + ": read error");
    }
    return std::move(ss).str();
}

BioPtr memory_bio(std::string_view data, std::string_view what) {
    if (data.size() > static_cast<std::size_t>(INT_MAX)) {
        throw CryptoError(std::string(what) + ": too large");
    }
    BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
    if (!bio) {
        throw CryptoError(std::string(what) + ": BIO_new_mem_buf failed: " + openssl_errors());
    }
    return bio;
}

std::string bio_contents(BIO* bio) {
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    if (len < 0 || (len > 0 && data == nullptr)) {
        throw CryptoError("BIO_get_mem_data failed");
    }
    return {data, static_cast<std::size_t>(len)};
}

// Refuses to prompt on the terminal for a passphrase: encrypted keys are an error.
int no_passphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*user*/) { return -1; }

// Hands OpenSSL the passphrase `user` points to (a std::string_view), never a prompt.
int given_passphrase(char* buf, int size, int /*rwflag*/, void* user) {
    const auto* pass = static_cast<const std::string_view*>(user);
    if (pass == nullptr || pass->empty() || size < 0 ||
        pass->size() > static_cast<std::size_t>(size)) {
        return -1;
    }
    std::copy(pass->begin(), pass->end(), buf);
    return static_cast<int>(pass->size());
}

// Private key files are small; anything far larger is not one.
constexpr std::size_t kMaxKeyFile = 1024 * 1024;

std::string name_to_string(const X509_NAME* name) {
    const BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio) {
        throw CryptoError("BIO_new failed: " + openssl_errors());
    }
    if (X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) {
        throw CryptoError("X509_NAME_print_ex failed: " + openssl_errors());
    }
    return bio_contents(bio.get());
}

// The first entry of `nid` in `name` as UTF-8, or "" when absent.
std::string name_entry(const X509_NAME* name, int nid) {
    const int index = X509_NAME_get_index_by_NID(name, nid, -1);
    if (index < 0) {
        return {};
    }
    const X509_NAME_ENTRY* entry = X509_NAME_get_entry(name, index);
    const ASN1_STRING* value = entry != nullptr ? X509_NAME_ENTRY_get_data(entry) : nullptr;
    if (value == nullptr) {
        return {};
    }
    unsigned char* utf8 = nullptr;
    const int len = ASN1_STRING_to_UTF8(&utf8, value);
    if (len < 0) {
        throw CryptoError("ASN1_STRING_to_UTF8 failed: " + openssl_errors());
    }
    std::string out(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(len));
    OPENSSL_free(utf8);
    return out;
}

std::chrono::system_clock::time_point to_time_point(const ASN1_TIME* time) {
    std::tm tm{};
    if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) {
        throw CryptoError("invalid certificate time: " + openssl_errors());
    }
    using namespace std::chrono;
    const year_month_day date{year{tm.tm_year + 1900}, month{static_cast<unsigned>(tm.tm_mon + 1)},
                              day{static_cast<unsigned>(tm.tm_mday)}};
    const sys_seconds at =
        sys_days{date} + hours{tm.tm_hour} + minutes{tm.tm_min} + seconds{tm.tm_sec};
    // system_clock counts nanoseconds: its range ends in 2262 (and starts in 1677), while a
    // certificate without a well-defined end says 9999 (RFC 5280 §4.1.2.5). Beyond the range
    // is the range's end, not an overflow.
    using Clock = system_clock;
    if (at >= time_point_cast<seconds>(Clock::time_point::max())) {
        return Clock::time_point::max();
    }
    if (at <= time_point_cast<seconds>(Clock::time_point::min())) {
        return Clock::time_point::min();
    }
    return at;
}

}  // namespace

X509Ptr load_certificate_file(const std::filesystem::path& path) {
    return parse_certificate_pem(read_file(path), path.string());
}

EvpPkeyPtr load_private_key_file(const std::filesystem::path& path, std::string_view passphrase) {
    std::string pem = *read_secret_file(path, kMaxKeyFile);
    try {
        auto key = parse_private_key_pem(pem, path.string(), passphrase);
        OPENSSL_cleanse(pem.data(), pem.size());
        return key;
    } catch (...) {
        OPENSSL_cleanse(pem.data(), pem.size());
        throw;
    }
}

bool is_encrypted_private_key_pem(std::string_view pem) {
    return pem.find("-----BEGIN ENCRYPTED PRIVATE KEY-----") != std::string_view::npos ||
           pem.find("Proc-Type: 4,ENCRYPTED") != std::string_view::npos;
}

X509Ptr parse_certificate_pem(std::string_view pem, std::string_view what) {
    const BioPtr bio = memory_bio(pem, what);
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr));
    if (!cert) {
        throw CryptoError(std::string(what) + ": not a PEM certificate (" + openssl_errors() + ")");
    }
    return cert;
}

EvpPkeyPtr parse_private_key_pem(std::string_view pem, std::string_view what,
                                 std::string_view passphrase) {
    const BioPtr bio = memory_bio(pem, what);
    const bool encrypted = is_encrypted_private_key_pem(pem);
    EvpPkeyPtr key(
        passphrase.empty()
            ? PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr)
            : PEM_read_bio_PrivateKey(bio.get(), nullptr, given_passphrase, &passphrase));
    if (!key) {
        // The OpenSSL queue may quote parts of the input; keep it out of the message.
        ERR_clear_error();
        if (encrypted) {
            throw CryptoError(std::string(what) +
                              (passphrase.empty()
                                   ? ": the private key is encrypted and no passphrase is set"
                                   : ": the passphrase does not decrypt the private key"));
        }
        throw CryptoError(std::string(what) + ": not a PEM private key");
    }
    return key;
}

std::string certificate_to_pem(X509* cert) {
    const BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || cert == nullptr || PEM_write_bio_X509(bio.get(), cert) != 1) {
        throw CryptoError("PEM_write_bio_X509 failed: " + openssl_errors());
    }
    return bio_contents(bio.get());
}

std::string private_key_to_pem(EVP_PKEY* key) {
    const BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || key == nullptr ||
        PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        throw CryptoError("PEM_write_bio_PrivateKey failed: " + openssl_errors());
    }
    return bio_contents(bio.get());
}

CertificateInfo inspect_certificate(X509* cert) {
    if (cert == nullptr) {
        throw CryptoError("inspect_certificate: null certificate");
    }
    const X509_NAME* subject = X509_get_subject_name(cert);
    const X509_NAME* issuer = X509_get_issuer_name(cert);
    if (subject == nullptr || issuer == nullptr) {
        throw CryptoError("certificate without subject or issuer");
    }
    CertificateInfo info;
    info.subject = name_to_string(subject);
    info.issuer = name_to_string(issuer);
    info.uid = name_entry(subject, NID_userId);
    info.common_name = name_entry(subject, NID_commonName);
    info.org_unit = name_entry(subject, NID_organizationalUnitName);
    info.not_before = to_time_point(X509_get0_notBefore(cert));
    info.not_after = to_time_point(X509_get0_notAfter(cert));
    return info;
}

bool key_matches_certificate(X509* cert, EVP_PKEY* key) {
    if (cert == nullptr || key == nullptr) {
        return false;
    }
    const bool ok = X509_check_private_key(cert, key) == 1;
    ERR_clear_error();
    return ok;
}

std::string check_issued_by(X509* cert, X509* intermediate) {
    if (cert == nullptr || intermediate == nullptr) {
        return "missing certificate";
    }
    const int rc = X509_check_issued(intermediate, cert);
    if (rc != X509_V_OK) {
        ERR_clear_error();
        return X509_verify_cert_error_string(rc);
    }
    EVP_PKEY* issuer_key = X509_get0_pubkey(intermediate);
    if (issuer_key == nullptr) {
        ERR_clear_error();
        return "intermediate has no usable public key";
    }
    if (X509_verify(cert, issuer_key) != 1) {
        ERR_clear_error();
        return "signature does not verify with the intermediate's key";
    }
    return {};
}

std::vector<X509Ptr> load_certificate_chain_file(const std::filesystem::path& path) {
    const std::string pem = read_file(path);
    static constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
    std::vector<X509Ptr> chain;
    for (auto at = pem.find(kBegin); at != std::string::npos;) {
        const auto next = pem.find(kBegin, at + kBegin.size());
        const auto block = std::string_view(pem).substr(at, next - at);
        chain.push_back(parse_certificate_pem(block, path.string()));
        at = next;
    }
    if (chain.empty()) {
        throw CryptoError(path.string() + ": no PEM certificate");
    }
    return chain;
}

}  // namespace cardsmith::crypto
