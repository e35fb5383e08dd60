#pragma once
// OAuth 2.0 access tokens for the service account (JWT-bearer grant, google-wallet.md §4):
// one token per process, reused until five minutes before it expires, refreshed once for
// every request that waits meanwhile (single flight). A failed refresh is not retried for
// a few seconds: the requests that wait fail with it, and the outbox retries them.
// Never logs the key, the assertion or the token. Thread-safe.
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/net.hpp"
#include "google/jwt.hpp"
#include "google/rest_client.hpp"

namespace cardsmith::google {

class TokenError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// What the token endpoint answered: the access token and how long it lives, or why there
// is none (Google's error_description when it gave one; it holds no secret).
struct TokenAnswer {
    std::string token;  // empty: see failure
    std::chrono::seconds lifetime{3600};
    std::string failure;
};
[[nodiscard]] TokenAnswer read_token_answer(int status, std::string_view body);

// When a token of `lifetime` got at `now` is refreshed: five minutes before it expires, or
// halfway through a shorter life.
[[nodiscard]] std::chrono::steady_clock::time_point refresh_time(
    std::chrono::steady_clock::time_point now, std::chrono::seconds lifetime);

class TokenSource {
public:
    // `account` and `client` must outlive the source.
    TokenSource(net::any_io_executor executor, const ServiceAccount& account, RestClient& client,
                std::string token_url);

    // A valid access token; throws TokenError (or system_error) when none can be had.
    [[nodiscard]] net::awaitable<std::string> async_token();
    // The API said 401 with this token: the next call fetches a new one.
    void invalidate(const std::string& token);
    [[nodiscard]] std::size_t refreshes() const;
    // Whether the last refresh got a token: "unchecked" (none tried yet), "ok", or
    // "failing" with the reason (no secret in it). Thread-safe.
    struct Health {
        std::string state = "unchecked";
        std::string error;
    };
    [[nodiscard]] Health health() const;

private:
    net::awaitable<std::string> on_strand();
    net::awaitable<void> refresh();

    net::strand<net::any_io_executor> strand_;
    const ServiceAccount& account_;
    RestClient& client_;
    std::string token_url_, token_path_;
    // On the strand:
    std::string token_;
    std::chrono::steady_clock::time_point refresh_at_{};
    bool refreshing_ = false;
    std::chrono::steady_clock::time_point failed_at_{};
    std::string failure_;
    std::vector<net::steady_timer*> waiters_;
    std::atomic<std::size_t> refreshes_{0};  // read from any thread
    mutable std::mutex health_mutex_;
    Health health_;  // a copy of the last refresh's verdict for other threads
};

}  // namespace cardsmith::google
