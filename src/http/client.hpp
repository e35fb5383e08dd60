#pragma once
// A small asynchronous HTTP/1.1 client on Beast for the server's own outgoing calls (the
// verification webhook now; webhooks and Google's REST API later). One request per
// connection, http:// or https:// (certificate and host name checked), one deadline for
// the whole exchange. Beast has no client of its own; this is the plain composition of
// its stream, request and response types that its examples show.
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <string>
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
};

// Throws boost::system::system_error on a bad URL, DNS, connect, TLS or timeout failure;
// any HTTP status is an answer. `request` and `tls` (for https:// URLs) must outlive the
// call.
[[nodiscard]] net::awaitable<IncomingResponse> async_fetch(const OutgoingRequest& request,
                                                           net::ssl::context& tls);

// A client TLS context that checks peers against `ca_file`, or the system's trust store
// when empty. TLS 1.2 or later.
[[nodiscard]] net::ssl::context make_client_tls(const std::string& ca_file);

}  // namespace cardsmith::http_server
