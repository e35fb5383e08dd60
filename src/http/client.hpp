#pragma once
// A small asynchronous HTTP/1.1 client on Beast for the server's own outgoing calls (the
// verification webhook, Google's signing keys, the Android wallets' push relays). One request per
// connection, http:// or https:// (certificate and host name checked), one deadline for
// the whole exchange. Beast has no client of its own; this is the plain composition of
// its stream, request and response types that its examples show.
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/net.hpp"

namespace cardsmith::http_server {

struct OutgoingRequest {
    http::verb method = http::verb::post;
    std::string url;  // http:// or https://
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::chrono::milliseconds timeout{10'000};
    std::size_t response_limit = 64 * 1024;
};

struct IncomingResponse {
    int status = 0;
    std::string body;
    // Every response header in arrival order, names as the peer spelled them (bounded by
    // the parser's header limit). Read them with header(). The `{}` keeps the older
    // two-member aggregate initializations free of -Wmissing-field-initializers.
    std::vector<std::pair<std::string, std::string>> headers{};

    // The first header named `name` (case-insensitive), or nullopt.
    [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const;
};

// Throws boost::system::system_error on a bad URL, DNS, connect, TLS or timeout failure;
// any HTTP status is an answer. `request` and `tls` (for https:// URLs) must outlive the
// call.
[[nodiscard]] net::awaitable<IncomingResponse> async_fetch(const OutgoingRequest& request,
                                                           net::ssl::context& tls);

// How long a `Retry-After` value (RFC 9110 §10.2.3: delta-seconds, or an HTTP-date) asks
// the client to wait from `now`: zero for a date in the past, nullopt for anything else
// (negative, fractional, malformed). Huge values saturate; callers cap them.
[[nodiscard]] std::optional<std::chrono::seconds> retry_after_delay(
    std::string_view value, std::chrono::system_clock::time_point now);

// A client TLS context that checks peers against `ca_file`, or the system's trust store
// when empty. TLS 1.2 or later.
[[nodiscard]] net::ssl::context make_client_tls(const std::string& ca_file);

}  // namespace cardsmith::http_server
