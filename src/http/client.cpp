#include "http/client.hpp"

#include <algorithm>
#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <cctype>
#include <limits>
#include <optional>

#include "common/time_format.hpp"

namespace cardsmith::http_server {
namespace {

struct Target {
    bool https = false;
    std::string host, port, path;
};

Target parse_target(const std::string& url) {
    auto parsed = boost::urls::parse_absolute_uri(url);
    if (!parsed || (parsed->scheme() != "http" && parsed->scheme() != "https") ||
        parsed->host().empty()) {
        throw boost::system::system_error(make_error_code(boost::system::errc::invalid_argument),
                                          "not an http(s) URL");
    }
    Target t;
    t.https = parsed->scheme() == "https";
    t.host = parsed->host_address();  // IPv6 literals without brackets
    t.port = parsed->has_port() ? std::string(parsed->port()) : (t.https ? "443" : "80");
    t.path = std::string(parsed->encoded_path());
    if (t.path.empty()) {
        t.path = "/";
    }
    if (parsed->has_query()) {
        t.path += "?" + std::string(parsed->encoded_query());
    }
    return t;
}

template <typename Stream>
net::awaitable<IncomingResponse> exchange(Stream& stream, const OutgoingRequest& r,
                                          const Target& t) {
    http::request<http::string_body> req{r.method, t.path, 11};
    const bool default_port = t.port == (t.https ? "443" : "80");
    req.set(http::field::host, default_port ? t.host : t.host + ":" + t.port);
    req.set(http::field::user_agent, "Cardsmith");
    req.set(http::field::connection, "close");
    for (const auto& [name, value] : r.headers) {
        req.set(name, value);
    }
    req.body() = r.body;
    req.prepare_payload();
    co_await http::async_write(stream, req, net::use_awaitable);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(r.response_limit);
    co_await http::async_read(stream, buffer, parser, net::use_awaitable);
    IncomingResponse out;
    out.status = static_cast<int>(parser.get().result_int());
    for (const auto& field : parser.get()) {
        out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    out.body = std::move(parser.get().body());
    co_return out;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

}  // namespace

net::awaitable<IncomingResponse> async_fetch(const OutgoingRequest& request,
                                             net::ssl::context& tls) {
    const Target target = parse_target(request.url);
    auto ex = co_await net::this_coro::executor;
    // One deadline for lookup, connect, handshake and exchange.
    const auto until = std::chrono::steady_clock::now() + request.timeout;
    tcp::resolver resolver(ex);
    // A timer cancels the resolver (which has no deadline of its own).
    net::steady_timer deadline(ex, until);
    deadline.async_wait([&resolver](error_code ec) {
        if (!ec) resolver.cancel();
    });
    auto endpoints = co_await resolver.async_resolve(target.host, target.port, net::use_awaitable);
    deadline.cancel();
    if (!target.https) {
        beast::tcp_stream stream(ex);
        stream.expires_at(until);
        co_await stream.async_connect(endpoints, net::use_awaitable);
        auto res = co_await exchange(stream, request, target);
        error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        co_return res;
    }
    beast::ssl_stream<beast::tcp_stream> stream(ex, tls);
    if (!SSL_set_tlsext_host_name(stream.native_handle(), target.host.c_str())) {
        throw boost::system::system_error(
            error_code(static_cast<int>(::ERR_get_error()), net::error::get_ssl_category()), "SNI");
    }
    stream.set_verify_callback(net::ssl::host_name_verification(target.host));
    beast::get_lowest_layer(stream).expires_at(until);
    co_await beast::get_lowest_layer(stream).async_connect(endpoints, net::use_awaitable);
    co_await stream.async_handshake(net::ssl::stream_base::client, net::use_awaitable);
    auto res = co_await exchange(stream, request, target);
    // Connection: close was asked; a peer that drops TCP without close_notify is normal.
    co_return res;
}

std::optional<std::string_view> IncomingResponse::header(std::string_view name) const {
    for (const auto& [n, value] : headers) {
        if (iequals(n, name)) {
            return std::string_view(value);
        }
    }
    return std::nullopt;
}

std::optional<std::chrono::seconds> retry_after_delay(std::string_view value,
                                                      std::chrono::system_clock::time_point now) {
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
        value.remove_prefix(1);
    }
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) {
        value.remove_suffix(1);
    }
    if (value.empty()) {
        return std::nullopt;
    }
    if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        constexpr std::int64_t kMax = std::numeric_limits<std::int32_t>::max();
        std::int64_t seconds = 0;
        for (char c : value) {
            seconds = std::min(kMax, seconds * 10 + (c - '0'));
        }
        return std::chrono::seconds(seconds);
    }
    const auto at = parse_http_date(value);
    if (!at) {
        return std::nullopt;
    }
    return std::chrono::seconds(std::max<std::int64_t>(0, *at - unix_seconds(now)));
}

net::ssl::context make_client_tls(const std::string& ca_file) {
    net::ssl::context ctx(net::ssl::context::tls_client);
    ctx.set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                    net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                    net::ssl::context::no_tlsv1_1);
    ctx.set_verify_mode(net::ssl::verify_peer);
    if (ca_file.empty()) {
        ctx.set_default_verify_paths();
    } else {
        ctx.load_verify_file(ca_file);
    }
    return ctx;
}

}  // namespace cardsmith::http_server
