#pragma once
// The HTTP/1.1 server on Beast (STYLE.md "One request"): a listener coroutine accepts,
// each connection runs a session coroutine on its own strand with keep-alive, read and
// idle deadlines, header and body limits (the body limit is chosen per route after the
// header is read; an oversized body gets a 413 JSON answer, then the connection closes),
// one access-log line per request (no Authorization header, no query string values),
// request metrics, and the security headers of http/security_headers.hpp on every response.
// Handlers returning or throwing are caught per request: an exception gives a 500 JSON
// error and a log line. With ServerOptions::tls the same sessions run over TLS (the
// listener then speaks HTTPS only).
//
// Owned by `app`; runs on the io_context it is given (one io_context, many threads).
// start()/stop() from any thread.
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "common/net.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"

namespace cardsmith::http_server {

struct ServerOptions {
    std::size_t header_limit = 16 * 1024;
    std::size_t body_limit = 1024 * 1024;   // default for routes without their own
    std::chrono::seconds read_timeout{30};  // whole request (header + body)
    std::chrono::seconds idle_timeout{60};  // keep-alive wait for the next request
    std::chrono::seconds write_timeout{30};
    std::size_t max_connections = 10000;
    // Set: the listener speaks HTTPS only (http/server_tls.hpp makes it), handshake under
    // read_timeout, and responses carry Strict-Transport-Security. Null: plain HTTP.
    std::shared_ptr<net::ssl::context> tls;
};

class Server {
public:
    Server(net::io_context& ioc, ServerOptions options, const Router& router, Metrics& metrics);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds and starts accepting. Throws boost::system::system_error if it cannot bind.
    void start(const tcp::endpoint& endpoint);
    [[nodiscard]] tcp::endpoint local_endpoint() const;

    // Graceful stop: close the acceptor, let in-flight requests finish (their responses
    // carry Connection: close), close idle keep-alive connections. `on_drained` runs once
    // every session has ended, or after `grace`, whichever comes first.
    void stop(std::chrono::milliseconds grace, std::function<void()> on_drained);

    [[nodiscard]] std::size_t active_connections() const;

    // A new TLS context (a renewed certificate) for connections accepted from now on;
    // those already open keep theirs. Only for a server started with options.tls. Any thread.
    void set_tls(std::shared_ptr<net::ssl::context> tls);

private:
    struct State;
    std::shared_ptr<State> state_;
};

}  // namespace cardsmith::http_server
