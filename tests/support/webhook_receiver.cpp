#include "webhook_receiver.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <cstdio>

namespace cardsmith::test {
namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;

struct WebhookReceiver::Impl {
    net::io_context ioc;
    tcp::acceptor acceptor{ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)};
};

WebhookReceiver::WebhookReceiver(std::string secret)
    : impl_(std::make_unique<Impl>()), secret_(std::move(secret)) {
    port_ = impl_->acceptor.local_endpoint().port();
    thread_ = std::thread([this] { serve(); });
}

WebhookReceiver::~WebhookReceiver() {
    boost::system::error_code ec;
    impl_->acceptor.close(ec);
    net::post(impl_->ioc, [this] { impl_->ioc.stop(); });
    // Wake a blocking accept() by connecting once.
    {
        tcp::socket s(impl_->ioc);
        s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_), ec);
    }
    thread_.join();
}

std::string WebhookReceiver::url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
}

std::vector<ReceivedCall> WebhookReceiver::calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
}

std::vector<ReceivedCall> WebhookReceiver::wait_for(std::size_t n,
                                                    std::chrono::milliseconds timeout) const {
    const auto end = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto c = calls();
        if (c.size() >= n || std::chrono::steady_clock::now() > end) {
            return c;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

void WebhookReceiver::serve() {
    for (;;) {
        boost::system::error_code ec;
        tcp::socket socket(impl_->ioc);
        impl_->acceptor.accept(socket, ec);
        if (ec || !impl_->acceptor.is_open()) {
            return;
        }
        boost::beast::flat_buffer buffer;
        http::request<http::string_body> req;
        http::read(socket, buffer, req, ec);
        if (ec) {
            continue;
        }
        ReceivedCall call;
        call.method = std::string(req.method_string());
        call.target = std::string(req.target());
        call.body = req.body();
        for (const auto& field : req) {
            std::string name(field.name_string());
            for (auto& ch : name)
                ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            call.headers[name] = std::string(field.value());
        }
        call.signature_ok =
            check_signature(secret_, call.headers["cardsmith-signature"], call.body);
        {
            std::lock_guard lock(mutex_);
            calls_.push_back(call);
        }
        http::response<http::string_body> res{static_cast<http::status>(status_.load()),
                                              req.version()};
        res.set(http::field::content_type, "application/json");
        res.body() = R"({"ok":true})";
        res.keep_alive(false);
        res.prepare_payload();
        http::write(socket, res, ec);
        socket.shutdown(tcp::socket::shutdown_both, ec);
    }
}

bool check_signature(const std::string& secret, const std::string& header,
                     const std::string& body) {
    const auto comma = header.find(",v1=");
    if (header.rfind("t=", 0) != 0 || comma == std::string::npos) {
        return false;
    }
    const std::string t = header.substr(2, comma - 2);
    const std::string given = header.substr(comma + 4);
    long long stamp = 0;
    try {
        stamp = std::stoll(t);
    } catch (...) {
        return false;
    }
    const long long now = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
    if (std::llabs(now - stamp) > 300) {
        return false;
    }
    const std::string data = t + "." + body;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
    std::string hex;
    for (unsigned int i = 0; i < len; ++i) {
        char b[3];
        std::snprintf(b, sizeof b, "%02x", mac[i]);
        hex += b;
    }
    return hex == given;
}

}  // namespace cardsmith::test
