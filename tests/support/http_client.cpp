#include "http_client.hpp"

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#include <memory>
#include <optional>

namespace cardsmith::test {

namespace net = boost::asio;
using tcp = net::ip::tcp;

struct Client::Impl {
    net::io_context ioc;
    std::optional<net::ssl::context> tls;  // set: HTTPS
    std::unique_ptr<boost::beast::ssl_stream<boost::beast::tcp_stream>> tls_stream;
    boost::beast::tcp_stream stream{ioc};
    boost::beast::flat_buffer buffer;
    unsigned short port;
    bool connected = false;
    int connects = 0;

    boost::beast::tcp_stream& lowest() {
        return tls_stream ? boost::beast::get_lowest_layer(*tls_stream) : stream;
    }
    void close() {
        boost::system::error_code ec;
        lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
        lowest().socket().close(ec);
        connected = false;
    }
};

Client::Client(unsigned short port) : impl_(new Impl) { impl_->port = port; }

Client::Client(unsigned short port, const std::string& ca_file) : impl_(new Impl) {
    impl_->port = port;
    impl_->tls.emplace(net::ssl::context::tls_client);
    impl_->tls->load_verify_file(ca_file);
    impl_->tls->set_verify_mode(net::ssl::verify_peer);
}

Client::~Client() {
    impl_->close();
    delete impl_;
}

void Client::connect() {
    const tcp::endpoint server(net::ip::make_address("127.0.0.1"), impl_->port);
    if (impl_->tls) {
        // A fresh SSL object per connection: one that was shut down cannot be reused.
        impl_->tls_stream = std::make_unique<boost::beast::ssl_stream<boost::beast::tcp_stream>>(
            impl_->ioc, *impl_->tls);
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(impl_->tls_stream->native_handle()),
                                      "127.0.0.1");
        impl_->lowest().expires_after(std::chrono::seconds(10));
        impl_->lowest().connect(server);
        impl_->tls_stream->handshake(net::ssl::stream_base::client);
    } else {
        impl_->stream.expires_after(std::chrono::seconds(10));
        impl_->stream.connect(server);
    }
    impl_->buffer.clear();
    impl_->connected = true;
    ++impl_->connects;
}

int Client::connects() const { return impl_->connects; }

std::string Client::peer_certificate_pem() const {
    if (!impl_->tls_stream) {
        return {};
    }
    X509* cert = SSL_get0_peer_certificate(impl_->tls_stream->native_handle());
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    if (cert == nullptr || !bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
        return {};
    }
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return len > 0 ? std::string(data, static_cast<std::size_t>(len)) : std::string();
}

namespace {

// One request and its response on either stream.
template <typename Stream>
Response exchange(Stream& stream, boost::beast::flat_buffer& buffer,
                  const bhttp::request<bhttp::string_body>& req, bool head) {
    bhttp::write(stream, req);
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    if (head) {
        parser.skip(true);
    }
    bhttp::read(stream, buffer, parser);
    return parser.release();
}

}  // namespace

Response Client::request(bhttp::verb method, const std::string& target, const std::string& body,
                         const std::map<std::string, std::string>& headers) {
    bhttp::request<bhttp::string_body> req{method, target, 11};
    req.set(bhttp::field::host, "127.0.0.1");
    for (const auto& [k, v] : headers) {
        req.set(k, v);
    }
    req.body() = body;
    if (!body.empty() || method == bhttp::verb::post || method == bhttp::verb::put) {
        req.prepare_payload();
    }
    // A kept-alive connection the server closed meanwhile gets one fresh retry.
    for (int attempt = 0; attempt < 2; ++attempt) {
        if (!impl_->connected) {
            connect();
        }
        try {
            impl_->lowest().expires_after(std::chrono::seconds(30));
            const bool head = method == bhttp::verb::head;
            Response res = impl_->tls_stream
                               ? exchange(*impl_->tls_stream, impl_->buffer, req, head)
                               : exchange(impl_->stream, impl_->buffer, req, head);
            if (!res.keep_alive()) {
                impl_->close();
            }
            return res;
        } catch (const boost::system::system_error&) {
            impl_->close();
            if (attempt == 1) {
                throw;
            }
        }
    }
    throw std::logic_error("unreachable");
}

Response Client::get(const std::string& target, const std::string& key) {
    std::map<std::string, std::string> h;
    if (!key.empty()) {
        h["Authorization"] = "Bearer " + key;
    }
    return request(bhttp::verb::get, target, "", h);
}

Response Client::post_json(const std::string& target, const boost::json::value& body,
                           const std::string& key) {
    std::map<std::string, std::string> h{{"Content-Type", "application/json"}};
    if (!key.empty()) {
        h["Authorization"] = "Bearer " + key;
    }
    return request(bhttp::verb::post, target, boost::json::serialize(body), h);
}

boost::json::value json_of(const Response& r) { return boost::json::parse(r.body()); }

}  // namespace cardsmith::test
