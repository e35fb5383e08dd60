#pragma once
// The TLS client context for APNs connections (apple-wallet.md §3.1): TLS 1.2+, ALPN "h2",
// server verified against the CA file (or the system store), our client certificate.
// Built once per Client at start-up; shared read-only by its connections.
#include <boost/asio/ssl.hpp>

#include "apns/client_options.hpp"

namespace cardsmith::apns::detail {

// Throws crypto::CryptoError naming what failed (never key material).
[[nodiscard]] boost::asio::ssl::context make_tls_context(const ClientOptions& options,
                                                         const Credentials& credentials);

// Per-connection settings on a fresh SSL object: SNI (for names) and the peer name check
// (names and IP literals). Returns false if OpenSSL refused them.
[[nodiscard]] bool configure_peer_check(SSL* ssl, const std::string& host);

// True when the handshake selected ALPN "h2".
[[nodiscard]] bool negotiated_h2(const SSL* ssl);

}  // namespace cardsmith::apns::detail
