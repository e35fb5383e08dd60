#include "http/security_headers.hpp"

#include <string>

namespace cardsmith::http_server {
namespace {

// A response a browser may render as a document of its own (and so run script in).
bool is_document(std::string_view content_type) {
    const std::string_view media = content_type.substr(0, content_type.find(';'));
    return beast::iequals(media, "text/html") || beast::iequals(media, "image/svg+xml");
}

}  // namespace

void add_security_headers(Response& res, bool https) {
    res.set("X-Content-Type-Options", "nosniff");
    if (res.find("Referrer-Policy") == res.end()) {
        res.set("Referrer-Policy", "no-referrer");
    }
    if (is_document(res[http::field::content_type]) &&
        res.find("Content-Security-Policy") == res.end()) {
        res.set("Content-Security-Policy", kFallbackContentSecurityPolicy);
    }
    if (https) {
        res.set(http::field::strict_transport_security, kStrictTransportSecurity);
    }
}

}  // namespace cardsmith::http_server
