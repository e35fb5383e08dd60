// The server with ServerOptions::tls over loopback: real TLS handshakes against the dev
// PKI's localhost certificate (crypto::make_dev_certs, as `cardsmith dev-certs` makes it),
// clients pinned to one protocol version or cipher to check what is accepted and refused.
#include <openssl/ssl.h>

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "crypto/dev_certs.hpp"
#include "crypto/pem.hpp"
#include "http/response.hpp"
#include "http/server.hpp"
#include "http/server_tls.hpp"
#include "temp_dir.hpp"
#include "test_client.hpp"
#include "test_server_harness.hpp"

namespace cardsmith::http_server {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::make_request;
using test::Reply;
using test::use_tuple;

// One dev PKI for the whole binary (RSA key generation is slow).
struct Pki {
    cardsmith::test::TempDir dir;
    Pki() { crypto::make_dev_certs(dir.path(), crypto::DevCertsOptions{}); }
    [[nodiscard]] std::string file(const char* name) const { return (dir.path() / name).string(); }
    static Pki& shared() {
        static Pki pki;
        return pki;
    }
};

// The server's context from PEM files, as app builds it.
std::shared_ptr<net::ssl::context> tls_from_files(const std::string& cert_file,
                                                  const std::string& key_file) {
    auto cert = crypto::load_certificate_file(cert_file);
    auto key = crypto::load_private_key_file(key_file);
    return make_server_tls(cert.get(), {}, key.get());
}

ServerOptions tls_options() {
    ServerOptions options;
    options.read_timeout = 1s;  // the silent-client test waits for it
    options.idle_timeout = 2s;
    options.write_timeout = 5s;
    options.tls =
        tls_from_files(Pki::shared().file("server.pem"), Pki::shared().file("server.key"));
    return options;
}

// Handlers are plain functions: lambda coroutines miscompile with GCC 12.
net::awaitable<Response> hello(RequestContext&) {
    co_return bytes_response(http::status::ok, "text/plain", "hello");
}

net::awaitable<Response> echo(RequestContext& ctx) {
    co_return json_response(http::status::ok, boost::json::parse(ctx.request.body()));
}

// The shared harness with /hello and /echo, over TLS.
class TlsServerFixture : public test::ServerHarness {
public:
    TlsServerFixture() : ServerHarness(std::chrono::seconds(3)) {
        router().add(http::verb::get, "/hello", hello);
        router().add(http::verb::post, "/echo", echo);
        start(tls_options());
    }
};

// What a test client offers: one protocol version range, a TLS 1.2 cipher list, ALPN.
struct Offer {
    int min_version = TLS1_2_VERSION;
    int max_version = TLS1_3_VERSION;
    std::string ciphers;  // TLS 1.2 and older; empty: OpenSSL's default
    std::string alpn = std::string("\x08http/1.1", 9);
    std::string extra_root;  // a CA file trusted besides the shared PKI's root
};

Offer offer(int min_version, int max_version, std::string ciphers = {}) {
    Offer o;
    o.min_version = min_version;
    o.max_version = max_version;
    o.ciphers = std::move(ciphers);
    return o;
}

Offer alpn_offer(std::string alpn) {
    Offer o;
    o.alpn = std::move(alpn);
    return o;
}

// A TLS client on its own io_context, trusting the dev root; every operation is bounded
// by test::kClientDeadline. Coroutines are member functions (no lambda coroutines: GCC 12).
class TlsClient {
public:
    explicit TlsClient(tcp::endpoint server, const Offer& offer = {})
        : server_(server), tls_(net::ssl::context::tls_client) {
        SSL_CTX* ctx = tls_.native_handle();
        if (offer.min_version < TLS1_2_VERSION) {
            // OpenSSL 3 refuses TLS 1.0/1.1 below security level 0; the test client must
            // be able to offer them for the server to be the one refusing.
            SSL_CTX_set_security_level(ctx, 0);
        }
        BOOST_REQUIRE(SSL_CTX_set_min_proto_version(ctx, offer.min_version) == 1);
        BOOST_REQUIRE(SSL_CTX_set_max_proto_version(ctx, offer.max_version) == 1);
        if (!offer.ciphers.empty()) {
            BOOST_REQUIRE(SSL_CTX_set_cipher_list(ctx, offer.ciphers.c_str()) == 1);
        }
        const auto* alpn = reinterpret_cast<const unsigned char*>(offer.alpn.data());
        BOOST_REQUIRE(
            SSL_CTX_set_alpn_protos(ctx, alpn, static_cast<unsigned>(offer.alpn.size())) == 0);
        tls_.load_verify_file(Pki::shared().file("root-ca.pem"));
        if (!offer.extra_root.empty()) {
            tls_.load_verify_file(offer.extra_root);
        }
        tls_.set_verify_mode(net::ssl::verify_peer);
        stream_.emplace(ioc_, tls_);
        BOOST_REQUIRE(X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(stream_->native_handle()),
                                                    "127.0.0.1") == 1);
    }

    // TCP connect, then the TLS handshake.
    [[nodiscard]] error_code connect() { return run(async_connect()); }
    // TCP connect only (a client that never starts TLS).
    [[nodiscard]] error_code connect_tcp() { return run(async_connect_tcp()); }
    [[nodiscard]] std::pair<error_code, Reply> exchange(test::ClientRequest req) {
        return run(async_exchange(std::move(req)));
    }
    // Writes bytes on the TCP socket itself, under TLS.
    [[nodiscard]] error_code send_plain(std::string data) { return run(async_send_plain(data)); }
    // Reads the TCP socket until the server closes it; the error that ended the reads.
    [[nodiscard]] error_code read_plain_until_closed() { return run(async_read_plain()); }

    [[nodiscard]] SSL* ssl() { return stream_->native_handle(); }
    [[nodiscard]] std::string alpn() {
        const unsigned char* data = nullptr;
        unsigned len = 0;
        SSL_get0_alpn_selected(ssl(), &data, &len);
        return {reinterpret_cast<const char*>(data), len};
    }
    // True when the server presented the certificate in `pem_file`.
    [[nodiscard]] bool presented(const std::string& pem_file) {
        X509* cert = SSL_get0_peer_certificate(ssl());
        auto expected = crypto::load_certificate_file(pem_file);
        return cert != nullptr && X509_cmp(cert, expected.get()) == 0;
    }

private:
    net::awaitable<error_code> async_connect_tcp() {
        auto [ec] = co_await beast::get_lowest_layer(*stream_).async_connect(server_, use_tuple);
        co_return ec;
    }
    net::awaitable<error_code> async_connect() {
        auto [ec] = co_await beast::get_lowest_layer(*stream_).async_connect(server_, use_tuple);
        if (ec) {
            co_return ec;
        }
        auto [hs] = co_await stream_->async_handshake(net::ssl::stream_base::client, use_tuple);
        co_return hs;
    }
    net::awaitable<std::pair<error_code, Reply>> async_exchange(test::ClientRequest req) {
        auto [wec, written] = co_await http::async_write(*stream_, req, use_tuple);
        if (wec) {
            co_return std::pair<error_code, Reply>{wec, Reply{}};
        }
        http::response_parser<http::string_body> parser;
        auto [rec, read] = co_await http::async_read(*stream_, buffer_, parser, use_tuple);
        co_return std::pair<error_code, Reply>{rec, parser.release()};
    }
    net::awaitable<error_code> async_send_plain(const std::string& data) {
        auto& socket = beast::get_lowest_layer(*stream_);
        auto [ec, n] = co_await net::async_write(socket, net::buffer(data), use_tuple);
        co_return ec;
    }
    net::awaitable<error_code> async_read_plain() {
        auto& socket = beast::get_lowest_layer(*stream_);
        for (;;) {
            auto [ec, n] = co_await socket.async_read_some(buffer_.prepare(4096), use_tuple);
            if (ec) {
                co_return ec;
            }
            buffer_.commit(n);
        }
    }

    template <typename T>
    T run(net::awaitable<T> op) {
        ioc_.restart();
        beast::get_lowest_layer(*stream_).expires_after(test::kClientDeadline);
        auto result = net::co_spawn(ioc_, std::move(op), net::use_future);
        ioc_.run_for(test::kClientDeadline + 1s);
        BOOST_REQUIRE(result.wait_for(0s) == std::future_status::ready);
        return result.get();
    }

    tcp::endpoint server_;
    net::io_context ioc_;
    net::ssl::context tls_;
    std::optional<beast::ssl_stream<beast::tcp_stream>> stream_;
    beast::flat_buffer buffer_;
};

bool counted(Metrics& metrics, const std::string& reason) {
    return metrics.render().find("cardsmith_http_tls_handshake_failures_total{reason=\"" + reason +
                                 "\"} 1") != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(server_tls)

BOOST_AUTO_TEST_CASE(tls13_keep_alive_and_a_post_with_a_body) {
    TlsServerFixture fx;
    TlsClient client(fx.endpoint(), offer(TLS1_3_VERSION, TLS1_3_VERSION));
    BOOST_REQUIRE(!client.connect());
    BOOST_TEST(std::string(SSL_get_version(client.ssl())) == "TLSv1.3");
    BOOST_TEST(client.alpn() == "http/1.1");
    for (int i = 0; i < 2; ++i) {
        auto [ec, reply] = client.exchange(make_request(http::verb::get, "/hello"));
        BOOST_REQUIRE(!ec);
        BOOST_TEST(reply.result_int() == 200u);
        BOOST_TEST(reply.body() == "hello");
        BOOST_TEST(reply.keep_alive());
        BOOST_TEST(reply[http::field::strict_transport_security] == "max-age=31536000");
        BOOST_TEST(reply["X-Content-Type-Options"] == "nosniff");
    }
    auto [ec, reply] =
        client.exchange(make_request(http::verb::post, "/echo", R"({"points":12,"note":"latte"})"));
    BOOST_REQUIRE(!ec);
    BOOST_TEST(reply.result_int() == 200u);
    BOOST_TEST(boost::json::parse(reply.body()).at("points").as_int64() == 12);
    BOOST_TEST(fx.server().active_connections() == 1u);  // all three on one connection
}

BOOST_AUTO_TEST_CASE(tls12_with_ecdhe_and_aead_suites) {
    TlsServerFixture fx;
    for (const char* suite : {"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384",
                              "ECDHE-RSA-CHACHA20-POLY1305"}) {
        BOOST_TEST_CONTEXT(suite) {
            TlsClient client(fx.endpoint(), offer(TLS1_2_VERSION, TLS1_2_VERSION, suite));
            BOOST_REQUIRE(!client.connect());
            BOOST_TEST(std::string(SSL_get_version(client.ssl())) == "TLSv1.2");
            BOOST_TEST(std::string(SSL_get_cipher_name(client.ssl())) == suite);
            BOOST_TEST(client.alpn() == "http/1.1");
            for (int i = 0; i < 2; ++i) {
                auto [ec, reply] =
                    client.exchange(make_request(http::verb::post, "/echo", R"({"n":1})"));
                BOOST_REQUIRE(!ec);
                BOOST_TEST(reply.result_int() == 200u);
                BOOST_TEST(reply.body() == R"({"n":1})");
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(tls11_and_tls10_are_refused) {
    TlsServerFixture fx;
    for (int version : {TLS1_1_VERSION, TLS1_VERSION}) {
        BOOST_TEST_CONTEXT("version " << version) {
            TlsClient client(fx.endpoint(), offer(version, version, "DEFAULT:@SECLEVEL=0"));
            BOOST_TEST(client.connect());
        }
    }
    BOOST_TEST(eventually([&] {
        return fx.metrics().render().find(
                   "cardsmith_http_tls_handshake_failures_total{reason=\"protocol\"} 2") !=
               std::string::npos;
    }));
}

BOOST_AUTO_TEST_CASE(weak_tls12_suites_are_refused) {
    TlsServerFixture fx;
    // RSA key exchange (no forward secrecy), CBC modes, finite-field DH.
    for (const char* suite : {"AES128-GCM-SHA256", "AES256-SHA256", "ECDHE-RSA-AES128-SHA256",
                              "ECDHE-RSA-AES128-SHA", "DHE-RSA-AES128-GCM-SHA256"}) {
        BOOST_TEST_CONTEXT(suite) {
            TlsClient client(fx.endpoint(), offer(TLS1_2_VERSION, TLS1_2_VERSION, suite));
            BOOST_TEST(client.connect());
        }
    }
}

BOOST_AUTO_TEST_CASE(alpn_without_http11_is_refused_and_no_alpn_is_fine) {
    TlsServerFixture fx;
    TlsClient h2_only(fx.endpoint(), alpn_offer("\x02h2"));
    BOOST_TEST(h2_only.connect());
    TlsClient both(fx.endpoint(), alpn_offer(std::string("\x02h2\x08http/1.1", 12)));
    BOOST_REQUIRE(!both.connect());
    BOOST_TEST(both.alpn() == "http/1.1");
    TlsClient none(fx.endpoint(), alpn_offer(""));
    BOOST_REQUIRE(!none.connect());
    auto [ec, reply] = none.exchange(make_request(http::verb::get, "/hello"));
    BOOST_REQUIRE(!ec);
    BOOST_TEST(reply.body() == "hello");
}

BOOST_AUTO_TEST_CASE(plain_http_on_the_tls_port_is_closed_and_the_server_goes_on) {
    TlsServerFixture fx;
    TlsClient plain(fx.endpoint());
    BOOST_REQUIRE(!plain.connect_tcp());
    BOOST_REQUIRE(!plain.send_plain("GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    const auto start = std::chrono::steady_clock::now();
    const error_code closed = plain.read_plain_until_closed();
    // Closed by the server at once (an alert at most, never an HTTP answer), not by the
    // client's own deadline.
    BOOST_TEST((closed == net::error::eof || closed == net::error::connection_reset));
    BOOST_TEST(test::ms_since(start) < 900.0);
    BOOST_TEST(eventually([&] { return counted(fx.metrics(), "protocol"); }));

    TlsClient next(fx.endpoint());
    BOOST_REQUIRE(!next.connect());
    auto [ec, reply] = next.exchange(make_request(http::verb::get, "/hello"));
    BOOST_REQUIRE(!ec);
    BOOST_TEST(reply.body() == "hello");
}

BOOST_AUTO_TEST_CASE(a_silent_client_is_dropped_after_the_read_timeout) {
    TlsServerFixture fx;
    TlsClient silent(fx.endpoint());
    BOOST_REQUIRE(!silent.connect_tcp());
    const auto start = std::chrono::steady_clock::now();
    const error_code closed = silent.read_plain_until_closed();
    const double waited = test::ms_since(start);
    BOOST_TEST((closed == net::error::eof || closed == net::error::connection_reset));
    BOOST_TEST(waited > 800.0);   // read_timeout is 1 s
    BOOST_TEST(waited < 3000.0);  // and it did not wait for the client's deadline
    BOOST_TEST(eventually([&] { return counted(fx.metrics(), "timeout"); }));
    BOOST_TEST(eventually([&] { return fx.server().active_connections() == 0u; }));
}

BOOST_AUTO_TEST_CASE(set_tls_serves_new_connections_with_the_new_certificate) {
    TlsServerFixture fx;
    Pki renewed;  // another localhost certificate, from another root the clients also trust
    Offer both_roots;
    both_roots.extra_root = renewed.file("root-ca.pem");
    TlsClient before(fx.endpoint(), both_roots);
    BOOST_REQUIRE(!before.connect());
    BOOST_TEST(before.presented(Pki::shared().file("server.pem")));
    fx.server().set_tls(tls_from_files(renewed.file("server.pem"), renewed.file("server.key")));
    TlsClient after(fx.endpoint(), both_roots);
    BOOST_REQUIRE(!after.connect());
    BOOST_TEST(after.presented(renewed.file("server.pem")));
    // The connection opened before the swap goes on with its own.
    auto [ec, reply] = before.exchange(make_request(http::verb::get, "/hello"));
    BOOST_REQUIRE(!ec);
    BOOST_TEST(reply.body() == "hello");
}

BOOST_AUTO_TEST_CASE(the_context_refuses_a_key_of_another_certificate) {
    auto cert = crypto::load_certificate_file(Pki::shared().file("server.pem"));
    auto other = crypto::load_private_key_file(Pki::shared().file("client.key"));
    BOOST_CHECK_THROW((void)make_server_tls(cert.get(), {}, other.get()), TlsSetupError);
    auto key = crypto::load_private_key_file(Pki::shared().file("server.key"));
    auto ctx = make_server_tls(cert.get(), {}, key.get());
    SSL_CTX* native = ctx->native_handle();
    BOOST_TEST(SSL_CTX_get_min_proto_version(native) == TLS1_2_VERSION);
    const auto options = SSL_CTX_get_options(native);
    BOOST_TEST((options & SSL_OP_NO_COMPRESSION) != 0u);
    BOOST_TEST((options & SSL_OP_NO_RENEGOTIATION) != 0u);
    BOOST_TEST((options & SSL_OP_NO_TICKET) != 0u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace cardsmith::http_server
