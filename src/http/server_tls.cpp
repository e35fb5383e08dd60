#include "http/server_tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <array>
#include <string>

namespace cardsmith::http_server {
namespace {

std::string openssl_error_text() {
    std::string out;
    while (const unsigned long e = ERR_get_error()) {
        std::array<char, 256> buf{};
        ERR_error_string_n(e, buf.data(), buf.size());
        if (!out.empty()) {
            out += "; ";
        }
        out += buf.data();
    }
    return out.empty() ? "no OpenSSL detail" : out;
}

void require(bool ok, const std::string& what) {
    if (!ok) {
        throw TlsSetupError("server TLS: " + what + ": " + openssl_error_text());
    }
}

// ALPN (RFC 7301): this server speaks HTTP/1.1 only. A client that offers ALPN without
// http/1.1 (an HTTP/2-only client) gets the no_application_protocol alert rather than a
// connection on which it would speak a protocol we do not; a client without ALPN goes on.
int select_alpn(SSL* /*ssl*/, const unsigned char** out, unsigned char* outlen,
                const unsigned char* in, unsigned int inlen, void* /*arg*/) {
    static constexpr unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    unsigned char* selected = nullptr;
    if (SSL_select_next_proto(&selected, outlen, kHttp11, sizeof kHttp11, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED) {
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
}

}  // namespace

std::shared_ptr<boost::asio::ssl::context> make_server_tls(X509* cert,
                                                           const std::vector<X509*>& chain,
                                                           EVP_PKEY* key) {
    if (cert == nullptr || key == nullptr) {
        throw TlsSetupError("server TLS: a certificate and a key are required");
    }
    auto context =
        std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
    SSL_CTX* ctx = context->native_handle();
    require(SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) == 1, "TLS 1.2 minimum");
    require(SSL_CTX_set_max_proto_version(ctx, 0) == 1, "TLS 1.3 maximum");
    // TLS 1.3's suites are all AEAD with forward secrecy; OpenSSL's defaults stay.
    require(SSL_CTX_set_cipher_list(ctx, kServerTls12Ciphers) == 1, "TLS 1.2 ciphers");
    require(SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384") == 1, "key exchange groups");
    // Compression: CRIME. Renegotiation: a client-driven CPU sink with no use for us.
    // Tickets: OpenSSL's ticket key lives as long as the process, so a stolen key would
    // open every recorded session; resumption uses the server-side cache instead. The
    // client picks among equally strong suites (ChaCha20 on phones without AES hardware).
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET);
    SSL_CTX_clear_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, nullptr);
    require(SSL_CTX_use_certificate(ctx, cert) == 1, "certificate");
    for (X509* extra : chain) {
        require(SSL_CTX_add1_chain_cert(ctx, extra) == 1, "chain certificate");
    }
    require(SSL_CTX_use_PrivateKey(ctx, key) == 1, "private key");
    require(SSL_CTX_check_private_key(ctx) == 1, "the key does not match the certificate");
    return context;
}

}  // namespace cardsmith::http_server
