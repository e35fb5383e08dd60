#pragma once
// An HTTPS/1.1 client for one origin that keeps connections alive between requests
// (Google's token endpoint and Wallet REST API). Idle connections are pooled; a request
// on a reused connection that the server closed meanwhile is retried once on a new one.
// Thread-safe; every request has a deadline. Certificates and host names are checked.
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/net.hpp"
#include "http/client.hpp"

namespace cardsmith::google {

class RestClient {
public:
    // `origin_url`: "https://host[:port]" (a path is ignored). `tls` must outlive the client.
    RestClient(std::string origin_url, net::ssl::context& tls,
               std::chrono::milliseconds timeout = std::chrono::seconds(15),
               std::size_t max_idle = 8);
    ~RestClient();
    RestClient(const RestClient&) = delete;
    RestClient& operator=(const RestClient&) = delete;

    // `target` is the path (and query). Throws boost::system::system_error on transport
    // failures (after the one retry for a stale pooled connection).
    [[nodiscard]] net::awaitable<http_server::IncomingResponse> async_request(
        http::verb method, const std::string& target, const std::string& body,
        const std::vector<std::pair<std::string, std::string>>& headers);

    [[nodiscard]] std::size_t connections_opened() const;
    void close_idle();

private:
    struct Connection;
    net::awaitable<std::unique_ptr<Connection>> async_connect();
    std::unique_ptr<Connection> take_idle();
    void give_back(std::unique_ptr<Connection> c);

    std::string host_, port_;
    net::ssl::context& tls_;
    std::chrono::milliseconds timeout_;
    std::size_t max_idle_;
    mutable std::mutex mutex_;
    std::vector<std::unique_ptr<Connection>> idle_;
    std::size_t opened_ = 0;
};

}  // namespace cardsmith::google
