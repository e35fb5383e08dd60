#include "crypto/dev_certs.hpp"

#include <fcntl.h>
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <boost/json.hpp>
#include <cerrno>
#include <system_error>
#include <utility>
#include <vector>

#include "common/random.hpp"
#include "crypto/crypto_error.hpp"
#include "crypto/pem.hpp"

namespace cardsmith::crypto {
namespace {

using BignumPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, Deleter<X509_NAME_free>>;
using X509ExtensionPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;
using Asn1ObjectPtr = std::unique_ptr<ASN1_OBJECT, Deleter<ASN1_OBJECT_free>>;
using Asn1OctetStringPtr = std::unique_ptr<ASN1_OCTET_STRING, Deleter<ASN1_OCTET_STRING_free>>;
using Asn1Utf8StringPtr = std::unique_ptr<ASN1_UTF8STRING, Deleter<ASN1_UTF8STRING_free>>;

constexpr const char* kOrganization = "Cardsmith Dev";
constexpr const char* kPassTypeIdExtension = "1.2.840.113635.100.6.1.16";
constexpr const char* kPassEku = "1.2.840.113635.100.4.14";

void check(bool ok, const char* what) {
    if (!ok) {
        throw CryptoError(std::string("dev-certs: ") + what + " failed: " + openssl_errors());
    }
}

EvpPkeyPtr generate_rsa_key() {
    const EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
    check(ctx != nullptr, "EVP_PKEY_CTX_new_from_name");
    check(EVP_PKEY_keygen_init(ctx.get()) == 1, "EVP_PKEY_keygen_init");
    check(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), 2048) > 0, "set_rsa_keygen_bits");
    EVP_PKEY* raw = nullptr;
    check(EVP_PKEY_generate(ctx.get(), &raw) == 1, "EVP_PKEY_generate");
    return EvpPkeyPtr(raw);
}

// Subject entries in DER order, e.g. {{NID_commonName, "x"}, {NID_countryName, "US"}}.
using NameEntries = std::vector<std::pair<int, std::string>>;

X509NamePtr make_name(const NameEntries& entries) {
    X509NamePtr name(X509_NAME_new());
    check(name != nullptr, "X509_NAME_new");
    for (const auto& [nid, value] : entries) {
        check(X509_NAME_add_entry_by_NID(name.get(), nid, MBSTRING_UTF8,
                                         reinterpret_cast<const unsigned char*>(value.c_str()), -1,
                                         -1, 0) == 1,
              "X509_NAME_add_entry_by_NID");
    }
    return name;
}

// A random positive 127-bit serial number (RFC 5280: at most 20 octets, positive).
void set_random_serial(X509* cert) {
    std::array<unsigned char, 16> bytes{};
    random::fill(bytes.data(), bytes.size());
    bytes[0] = static_cast<unsigned char>((bytes[0] & 0x7F) | 0x40);
    const BignumPtr bn(BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr));
    check(bn != nullptr, "BN_bin2bn");
    check(BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) != nullptr,
          "BN_to_ASN1_INTEGER");
}

void add_ext(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
    const X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value));
    check(ext != nullptr, OBJ_nid2sn(nid));
    check(X509_add_ext(cert, ext.get(), -1) == 1, "X509_add_ext");
}

// Apple's pass type ID extension: an OCTET STRING wrapping a DER UTF8String.
void add_pass_type_id_extension(X509* cert, const std::string& pass_type_id) {
    const Asn1ObjectPtr oid(OBJ_txt2obj(kPassTypeIdExtension, 1));
    check(oid != nullptr, "OBJ_txt2obj");
    const Asn1Utf8StringPtr utf8(ASN1_UTF8STRING_new());
    check(utf8 != nullptr, "ASN1_UTF8STRING_new");
    check(ASN1_STRING_set(utf8.get(), pass_type_id.data(), static_cast<int>(pass_type_id.size())) ==
              1,
          "ASN1_STRING_set");
    const int der_len = i2d_ASN1_UTF8STRING(utf8.get(), nullptr);
    check(der_len > 0, "i2d_ASN1_UTF8STRING");
    std::vector<unsigned char> der(static_cast<std::size_t>(der_len));
    unsigned char* p = der.data();
    check(i2d_ASN1_UTF8STRING(utf8.get(), &p) == der_len, "i2d_ASN1_UTF8STRING");
    const Asn1OctetStringPtr octets(ASN1_OCTET_STRING_new());
    check(octets != nullptr, "ASN1_OCTET_STRING_new");
    check(ASN1_OCTET_STRING_set(octets.get(), der.data(), der_len) == 1, "ASN1_OCTET_STRING_set");
    const X509ExtensionPtr ext(X509_EXTENSION_create_by_OBJ(nullptr, oid.get(), 0, octets.get()));
    check(ext != nullptr, "X509_EXTENSION_create_by_OBJ");
    check(X509_add_ext(cert, ext.get(), -1) == 1, "X509_add_ext");
}

// One X509v3 extension in `openssl x509 -extfile` syntax.
struct Extension {
    int nid;
    const char* value;
};

// A private key and its certificate.
struct KeyPair {
    EvpPkeyPtr key;
    X509Ptr cert;
};

// An unsigned v3 certificate for a fresh key; `issuer` == nullptr makes it self-issued.
KeyPair make_unsigned(const NameEntries& subject, const KeyPair* issuer, int days,
                      const std::vector<Extension>& extensions) {
    KeyPair made{generate_rsa_key(), X509Ptr(X509_new())};
    X509* cert = made.cert.get();
    check(cert != nullptr, "X509_new");
    check(X509_set_version(cert, X509_VERSION_3) == 1, "X509_set_version");
    set_random_serial(cert);
    const X509NamePtr name = make_name(subject);
    check(X509_set_subject_name(cert, name.get()) == 1, "X509_set_subject_name");
    X509* issuer_cert = issuer != nullptr ? issuer->cert.get() : cert;
    check(X509_set_issuer_name(cert, X509_get_subject_name(issuer_cert)) == 1,
          "X509_set_issuer_name");
    // Backdated an hour so that small clock differences between hosts do not matter.
    check(X509_gmtime_adj(X509_getm_notBefore(cert), -3600) != nullptr, "X509_gmtime_adj");
    check(X509_time_adj_ex(X509_getm_notAfter(cert), days, 0, nullptr) != nullptr,
          "X509_time_adj_ex");
    check(X509_set_pubkey(cert, made.key.get()) == 1, "X509_set_pubkey");

    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer_cert, cert, nullptr, nullptr, 0);
    // The subject key identifier first: a self-signed authorityKeyIdentifier reads it.
    add_ext(cert, &ctx, NID_subject_key_identifier, "hash");
    add_ext(cert, &ctx, NID_authority_key_identifier, "keyid:always");
    for (const Extension& ext : extensions) {
        add_ext(cert, &ctx, ext.nid, ext.value);
    }
    return made;
}

void sign_with(X509* cert, EVP_PKEY* issuer_key) {
    check(X509_sign(cert, issuer_key, EVP_sha256()) > 0, "X509_sign");
}

KeyPair make_root(int days) {
    KeyPair root = make_unsigned({{NID_commonName, "Cardsmith Dev Root CA"},
                                  {NID_organizationName, kOrganization},
                                  {NID_countryName, "US"}},
                                 nullptr, days,
                                 {{NID_basic_constraints, "critical,CA:TRUE"},
                                  {NID_key_usage, "critical,keyCertSign,cRLSign"}});
    sign_with(root.cert.get(), root.key.get());
    return root;
}

KeyPair make_wwdr(const KeyPair& root, int days) {
    KeyPair wwdr =
        make_unsigned({{NID_commonName, "Cardsmith Dev Worldwide Developer Relations CA"},
                       {NID_organizationalUnitName, "G4"},
                       {NID_organizationName, kOrganization},
                       {NID_countryName, "US"}},
                      &root, days,
                      {{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                       {NID_key_usage, "critical,keyCertSign,cRLSign"}});
    sign_with(wwdr.cert.get(), root.key.get());
    return wwdr;
}

KeyPair make_pass(const KeyPair& wwdr, const DevCertsOptions& options) {
    KeyPair pass = make_unsigned({{NID_userId, options.pass_type_id},
                                  {NID_commonName, "Pass Type ID: " + options.pass_type_id},
                                  {NID_organizationalUnitName, options.team_id},
                                  {NID_organizationName, kOrganization},
                                  {NID_countryName, "US"}},
                                 &wwdr, options.valid_days,
                                 {{NID_basic_constraints, "critical,CA:FALSE"},
                                  {NID_key_usage, "critical,digitalSignature"},
                                  {NID_ext_key_usage, kPassEku}});
    add_pass_type_id_extension(pass.cert.get(), options.pass_type_id);
    sign_with(pass.cert.get(), wwdr.key.get());
    return pass;
}

// A TLS leaf issued by the root: `server` (localhost SAN, serverAuth) or client.
KeyPair make_tls_leaf(const KeyPair& root, int days, bool server) {
    std::vector<Extension> extensions = {{NID_basic_constraints, "critical,CA:FALSE"}};
    if (server) {
        extensions.push_back({NID_key_usage, "critical,digitalSignature,keyEncipherment"});
        extensions.push_back({NID_ext_key_usage, "serverAuth"});
        extensions.push_back({NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1"});
    } else {
        extensions.push_back({NID_key_usage, "critical,digitalSignature"});
        extensions.push_back({NID_ext_key_usage, "clientAuth"});
    }
    KeyPair leaf = make_unsigned({{NID_commonName, server ? "localhost" : "Cardsmith Dev Client"},
                                  {NID_organizationName, kOrganization},
                                  {NID_countryName, "US"}},
                                 &root, days, extensions);
    sign_with(leaf.cert.get(), root.key.get());
    return leaf;
}

std::string random_digits(std::size_t count) {
    std::string out;
    out.reserve(count);
    out += static_cast<char>('1' + random::uniform(9));
    while (out.size() < count) {
        out += static_cast<char>('0' + random::uniform(10));
    }
    return out;
}

std::string service_account_json(EVP_PKEY* key) {
    const std::string email = "cardsmith-dev@cardsmith-dev.iam.gserviceaccount.com";
    boost::json::object json;
    json["type"] = "service_account";
    json["project_id"] = "cardsmith-dev";
    json["private_key_id"] = random::hex(20);
    json["private_key"] = private_key_to_pem(key);
    json["client_email"] = email;
    json["client_id"] = random_digits(21);
    json["auth_uri"] = "https://accounts.google.com/o/oauth2/auth";
    json["token_uri"] = "https://oauth2.googleapis.com/token";
    json["auth_provider_x509_cert_url"] = "https://www.googleapis.com/oauth2/v1/certs";
    json["client_x509_cert_url"] =
        "https://www.googleapis.com/robot/v1/metadata/x509/cardsmith-dev%40cardsmith-dev"
        ".iam.gserviceaccount.com";
    json["universe_domain"] = "googleapis.com";
    return boost::json::serialize(json) + "\n";
}

// Writes `contents` to `path` with `mode`, never exposing it with looser permissions.
void write_file(const std::filesystem::path& path, const std::string& contents, mode_t mode) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    int error = fd < 0 ? errno : 0;
    if (error == 0 && ::fchmod(fd, mode) != 0) {
        error = errno;
    }
    std::size_t written = 0;
    while (error == 0 && written < contents.size()) {
        const ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
        if (n > 0) {
            written += static_cast<std::size_t>(n);
        } else if (n == 0) {
            error = EIO;
        } else if (errno != EINTR) {
            error = errno;
        }
    }
    if (fd >= 0 && ::close(fd) != 0 && error == 0) {
        error = errno;
    }
    if (error != 0) {
        throw std::filesystem::filesystem_error("dev-certs: cannot write file", path,
                                                std::error_code(error, std::generic_category()));
    }
}

}  // namespace

bool make_dev_certs(const std::filesystem::path& out, const DevCertsOptions& options) {
    if (std::filesystem::exists(out / "pass.pem")) {
        return false;
    }
    if (options.valid_days <= 0 || options.pass_type_id.empty() || options.team_id.empty()) {
        throw CryptoError("dev-certs: need a pass type id, a team id and valid_days > 0");
    }
    const int ca_days = options.valid_days + 365;  // CAs outlive the certificates they issue
    const KeyPair root = make_root(ca_days);
    const KeyPair wwdr = make_wwdr(root, ca_days);
    const KeyPair pass = make_pass(wwdr, options);
    const KeyPair server = make_tls_leaf(root, options.valid_days, true);
    const KeyPair client = make_tls_leaf(root, options.valid_days, false);
    const EvpPkeyPtr google_key = generate_rsa_key();

    if (std::filesystem::create_directories(out)) {
        std::filesystem::permissions(out, std::filesystem::perms::owner_all,
                                     std::filesystem::perm_options::replace);
    }
    constexpr mode_t kPublic = 0644;
    constexpr mode_t kSecret = 0600;
    write_file(out / "google-service-account.json", service_account_json(google_key.get()),
               kSecret);
    // pass.pem last: it marks a complete set, so an interrupted run is redone.
    const std::array<std::pair<const char*, const KeyPair*>, 5> files = {{
        {"root-ca", &root},
        {"wwdr", &wwdr},
        {"server", &server},
        {"client", &client},
        {"pass", &pass},
    }};
    for (const auto& [stem, pair] : files) {
        const std::string name = stem;
        write_file(out / (name + ".key"), private_key_to_pem(pair->key.get()), kSecret);
        write_file(out / (name + ".pem"), certificate_to_pem(pair->cert.get()), kPublic);
    }
    return true;
}

}  // namespace cardsmith::crypto
