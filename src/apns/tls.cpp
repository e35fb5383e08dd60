#include "apns/tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cstring>

#include "common/net.hpp"
#include "crypto/crypto_error.hpp"
#include "crypto/pem.hpp"

namespace cardsmith::apns {

Credentials Credentials::from_files(const std::filesystem::path& cert_file,
                                    const std::filesystem::path& key_file,
                                    const std::filesystem::path& chain_file) {
    Credentials out;
    out.cert = crypto::load_certificate_file(cert_file);
    out.key = crypto::load_private_key_file(key_file);
    if (!chain_file.empty()) {
        out.chain = crypto::load_certificate_chain_file(chain_file);
    }
    return out;
}

namespace detail {
namespace {

void require(bool ok, const std::string& what) {
    if (!ok) {
        throw crypto::CryptoError("apns TLS: " + what + ": " + crypto::openssl_errors());
    }
}

void use_credentials(SSL_CTX* ctx, const Credentials& credentials) {
    if (!credentials.cert) {
        return;
    }
    require(credentials.key != nullptr, "client certificate without a key");
    require(SSL_CTX_use_certificate(ctx, credentials.cert.get()) == 1, "client certificate");
    require(SSL_CTX_use_PrivateKey(ctx, credentials.key.get()) == 1, "client key");
    require(SSL_CTX_check_private_key(ctx) == 1, "client key does not match the certificate");
    for (const auto& cert : credentials.chain) {
        require(SSL_CTX_add1_chain_cert(ctx, cert.get()) == 1, "chain certificate");
    }
}

}  // namespace

boost::asio::ssl::context make_tls_context(const ClientOptions& options,
                                           const Credentials& credentials) {
    boost::asio::ssl::context context(boost::asio::ssl::context::tls_client);
    SSL_CTX* ctx = context.native_handle();
    require(SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) == 1, "TLS 1.2 minimum");
    static constexpr unsigned char kAlpn[] = {2, 'h', '2'};
    // Unlike most of OpenSSL, 0 means success here.
    require(SSL_CTX_set_alpn_protos(ctx, kAlpn, sizeof kAlpn) == 0, "ALPN");
    if (options.ca_file.empty()) {
        require(SSL_CTX_set_default_verify_paths(ctx) == 1, "system trust store");
    } else {
        require(SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(), nullptr) == 1,
                "CA file " + options.ca_file);
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    use_credentials(ctx, credentials);
    return context;
}

bool configure_peer_check(SSL* ssl, const std::string& host) {
    error_code ec;
    (void)net::ip::make_address(host, ec);
    if (!ec) {
        // IP literal: no SNI (RFC 6066), check the iPAddress SAN.
        return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) == 1;
    }
    return SSL_set_tlsext_host_name(ssl, host.c_str()) == 1 &&
           SSL_set1_host(ssl, host.c_str()) == 1;
}

bool negotiated_h2(const SSL* ssl) {
    const unsigned char* data = nullptr;
    unsigned int len = 0;
    SSL_get0_alpn_selected(ssl, &data, &len);
    return len == 2 && data != nullptr && std::memcmp(data, "h2", 2) == 0;
}

}  // namespace detail
}  // namespace cardsmith::apns
