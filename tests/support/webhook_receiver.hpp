#pragma once
// A merchant's gateway for integration tests: a real HTTP/1.1 server on 127.0.0.1 (Beast,
// one thread) that records every request it receives, checks the Cardsmith-Signature
// header with OpenSSL's HMAC-SHA256 under the shared secret, and answers with a status
// the test chooses.
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cardsmith::test {

struct ReceivedCall {
    std::string method, target, body;
    std::map<std::string, std::string> headers;  // lower-case names
    bool signature_ok = false;                   // HMAC matches and the timestamp is recent
};

class WebhookReceiver {
public:
    explicit WebhookReceiver(std::string secret);
    ~WebhookReceiver();
    WebhookReceiver(const WebhookReceiver&) = delete;
    WebhookReceiver& operator=(const WebhookReceiver&) = delete;

    [[nodiscard]] unsigned short port() const { return port_; }
    [[nodiscard]] std::string url(const std::string& path) const;
    void set_status(int status) { status_ = status; }
    [[nodiscard]] std::vector<ReceivedCall> calls() const;
    // Waits until at least `n` calls arrived (or the timeout passed); returns the calls.
    std::vector<ReceivedCall> wait_for(
        std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

private:
    void serve();
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::string secret_;
    std::atomic<int> status_{200};
    unsigned short port_ = 0;
    mutable std::mutex mutex_;
    std::vector<ReceivedCall> calls_;
    std::thread thread_;
};

// Checks "t=<unix>,v1=<hex>" against HMAC-SHA256(secret, "<t>.<body>") with OpenSSL,
// and that t is within five minutes of now.
[[nodiscard]] bool check_signature(const std::string& secret, const std::string& header,
                                   const std::string& body);

}  // namespace cardsmith::test
