#pragma once
// The listener's TLS context (server.tls_cert / server.tls_key, docs/deploy.md "TLS"): TLS
// 1.2 and 1.3 only; on TLS 1.2 only ECDHE key exchange with AES-GCM or ChaCha20-Poly1305
// (Mozilla's "intermediate" profile, the same as docker/nginx/nginx.conf), no compression,
// no renegotiation, no session tickets, ALPN "http/1.1". The certificate and key come in
// already loaded (app loads them through crypto, which owns the key-file rules), so this
// module only decides the protocol policy. Built at start-up (and again on SIGHUP); shared
// read-only by every TLS session, which holds the shared_ptr while it runs.
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <stdexcept>
#include <vector>

namespace cardsmith::http_server {

// OpenSSL refused a setting, or the key does not belong to the certificate. what() is one
// line without key material.
class TlsSetupError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// `cert` is the server certificate, `chain` the intermediates sent after it (in order),
// `key` the certificate's private key. The context takes its own references.
[[nodiscard]] std::shared_ptr<boost::asio::ssl::context> make_server_tls(
    X509* cert, const std::vector<X509*>& chain, EVP_PKEY* key);

// The TLS 1.2 cipher list make_server_tls() allows (tests and docs quote it).
inline constexpr const char* kServerTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

}  // namespace cardsmith::http_server
