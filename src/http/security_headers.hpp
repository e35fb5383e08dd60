#pragma once
// The security headers every response leaves with, set in one place (the session, just
// before writing) rather than by each handler:
//   X-Content-Type-Options: nosniff           every response (JSON, images, passes too)
//   Referrer-Policy: no-referrer              every response, unless the handler chose one:
//                                             page URLs carry card serials and referral codes
//   Content-Security-Policy (a fallback)      documents (text/html, image/svg+xml) whose
//                                             handler set none: nothing may load or run,
//                                             never framed. Pages set their own, stricter
//                                             where they can (a style nonce, the console's
//                                             script); this only catches a forgotten one.
//   Strict-Transport-Security                 when this server itself speaks TLS. Over plain
//                                             HTTP browsers ignore it (RFC 6797 §8.1), and
//                                             behind a TLS proxy the proxy sets it
//                                             (docs/deploy.md "TLS").
// Pure functions; thread-safe.
#include <string_view>

#include "http/types.hpp"

namespace cardsmith::http_server {

inline constexpr std::string_view kFallbackContentSecurityPolicy =
    "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
// One year, this host only: includeSubDomains and preload would bind names this server
// does not control.
inline constexpr std::string_view kStrictTransportSecurity = "max-age=31536000";

// Adds the headers above to `res`; `https`: the connection is TLS.
void add_security_headers(Response& res, bool https);

}  // namespace cardsmith::http_server
