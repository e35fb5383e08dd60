#pragma once
// A small synchronous HTTP/1.1 client on Beast for integration tests, with a deadline
// on every operation. One connection per Client; keep-alive is used across requests.
// Given a CA file it speaks HTTPS instead, checking the server's certificate for
// 127.0.0.1 against that CA.
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <map>
#include <string>

namespace cardsmith::test {

namespace bhttp = boost::beast::http;
using Response = bhttp::response<bhttp::string_body>;

class Client {
public:
    explicit Client(unsigned short port);
    // HTTPS to 127.0.0.1:port, trusting the PEM roots in `ca_file`.
    Client(unsigned short port, const std::string& ca_file);
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    Response request(bhttp::verb method, const std::string& target, const std::string& body = "",
                     const std::map<std::string, std::string>& headers = {});
    Response get(const std::string& target, const std::string& key = "");
    Response post_json(const std::string& target, const boost::json::value& body,
                       const std::string& key = "");

    // Connections opened so far (1 while keep-alive holds).
    [[nodiscard]] int connects() const;
    // HTTPS: the certificate the server presented on the current connection, as PEM.
    [[nodiscard]] std::string peer_certificate_pem() const;

private:
    void connect();
    struct Impl;
    Impl* impl_;
};

// Body of a JSON response (throws if not JSON).
[[nodiscard]] boost::json::value json_of(const Response& r);

}  // namespace cardsmith::test
