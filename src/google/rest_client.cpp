#include "google/rest_client.hpp"

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

namespace cardsmith::google {

struct RestClient::Connection {
    explicit Connection(net::any_io_executor ex, net::ssl::context& tls) : stream(ex, tls) {}
    beast::ssl_stream<beast::tcp_stream> stream;
    beast::flat_buffer buffer;
};

RestClient::RestClient(std::string origin_url, net::ssl::context& tls,
                       std::chrono::milliseconds timeout, std::size_t max_idle)
    : tls_(tls), timeout_(timeout), max_idle_(max_idle) {
    auto parsed = boost::urls::parse_absolute_uri(origin_url);
    if (!parsed || parsed->scheme() != "https" || parsed->host().empty()) {
        throw std::invalid_argument("not an https URL: " + origin_url);
    }
    host_ = parsed->host_address();
    port_ = parsed->has_port() ? std::string(parsed->port()) : "443";
}

RestClient::~RestClient() = default;

std::size_t RestClient::connections_opened() const {
    std::lock_guard lock(mutex_);
    return opened_;
}

void RestClient::close_idle() {
    std::lock_guard lock(mutex_);
    idle_.clear();
}

std::unique_ptr<RestClient::Connection> RestClient::take_idle() {
    std::lock_guard lock(mutex_);
    if (idle_.empty()) {
        return nullptr;
    }
    auto c = std::move(idle_.back());
    idle_.pop_back();
    return c;
}

void RestClient::give_back(std::unique_ptr<Connection> c) {
    std::lock_guard lock(mutex_);
    if (idle_.size() < max_idle_) {
        idle_.push_back(std::move(c));
    }
}

net::awaitable<std::unique_ptr<RestClient::Connection>> RestClient::async_connect() {
    auto ex = co_await net::this_coro::executor;
    tcp::resolver resolver(ex);
    auto endpoints = co_await resolver.async_resolve(host_, port_, net::use_awaitable);
    auto c = std::make_unique<Connection>(ex, tls_);
    if (!SSL_set_tlsext_host_name(c->stream.native_handle(), host_.c_str())) {
        throw boost::system::system_error(
            error_code(static_cast<int>(::ERR_get_error()), net::error::get_ssl_category()), "SNI");
    }
    c->stream.set_verify_callback(net::ssl::host_name_verification(host_));
    beast::get_lowest_layer(c->stream).expires_after(timeout_);
    co_await beast::get_lowest_layer(c->stream).async_connect(endpoints, net::use_awaitable);
    beast::get_lowest_layer(c->stream).socket().set_option(tcp::no_delay(true));
    co_await c->stream.async_handshake(net::ssl::stream_base::client, net::use_awaitable);
    {
        std::lock_guard lock(mutex_);
        ++opened_;
    }
    co_return c;
}

net::awaitable<http_server::IncomingResponse> RestClient::async_request(
    http::verb method, const std::string& target, const std::string& body,
    const std::vector<std::pair<std::string, std::string>>& headers) {
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, port_ == "443" ? host_ : host_ + ":" + port_);
    req.set(http::field::user_agent, "Cardsmith");
    for (const auto& [name, value] : headers) {
        req.set(name, value);
    }
    req.body() = body;
    req.prepare_payload();
    for (int attempt = 0;; ++attempt) {
        auto c = take_idle();
        const bool reused = c != nullptr;
        if (!c) {
            c = co_await async_connect();
        }
        error_code ec;
        beast::get_lowest_layer(c->stream).expires_after(timeout_);
        co_await http::async_write(c->stream, req, net::redirect_error(net::use_awaitable, ec));
        http::response_parser<http::string_body> parser;
        parser.body_limit(4 * 1024 * 1024);
        if (!ec) {
            co_await http::async_read(c->stream, c->buffer, parser,
                                      net::redirect_error(net::use_awaitable, ec));
        }
        if (ec) {
            // A pooled connection the server closed while idle: it fails the write, or
            // ends before a byte of the answer. Only then is the request sent once more
            // on a new connection (it was not processed: no double PATCH, no double
            // notification).
            const bool closed_idle = ec == net::error::eof || ec == http::error::end_of_stream ||
                                     ec == net::error::connection_reset ||
                                     ec == net::error::broken_pipe;
            if (reused && attempt == 0 && closed_idle && c->buffer.size() == 0 &&
                !parser.got_some()) {
                continue;
            }
            throw boost::system::system_error(ec);
        }
        auto res = parser.release();
        http_server::IncomingResponse out{static_cast<int>(res.result_int()),
                                          std::move(res.body())};
        if (res.keep_alive()) {
            give_back(std::move(c));
        }
        co_return out;
    }
}

}  // namespace cardsmith::google
