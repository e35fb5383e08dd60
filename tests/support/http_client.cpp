#include "http_client.hpp"

#include <boost/asio.hpp>

namespace cardsmith::test {

namespace net = boost::asio;
using tcp = net::ip::tcp;

struct Client::Impl {
    net::io_context ioc;
    boost::beast::tcp_stream stream{ioc};
    boost::beast::flat_buffer buffer;
    unsigned short port;
    bool connected = false;
};

Client::Client(unsigned short port) : impl_(new Impl) { impl_->port = port; }

Client::~Client() {
    boost::system::error_code ec;
    impl_->stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    delete impl_;
}

void Client::connect() {
    impl_->stream.expires_after(std::chrono::seconds(10));
    impl_->stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), impl_->port));
    impl_->buffer.clear();
    impl_->connected = true;
}

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
            impl_->stream.expires_after(std::chrono::seconds(30));
            bhttp::write(impl_->stream, req);
            bhttp::response_parser<bhttp::string_body> parser;
            parser.body_limit(64 * 1024 * 1024);
            if (method == bhttp::verb::head) {
                parser.skip(true);
            }
            bhttp::read(impl_->stream, impl_->buffer, parser);
            Response res = parser.release();
            if (!res.keep_alive()) {
                boost::system::error_code ec;
                impl_->stream.socket().close(ec);
                impl_->connected = false;
            }
            return res;
        } catch (const boost::system::system_error&) {
            boost::system::error_code ec;
            impl_->stream.socket().close(ec);
            impl_->connected = false;
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
