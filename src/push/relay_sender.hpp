#pragma once
// The dispatcher's Sender for an Android wallet app's push relay (android-wallets.md §1-4,
// §8.4-8.5): Wallet Union (FCM and HMS builds), Wallet Passes, Pass2U and PassWallet.
// Pushes for one relay, pass type id and route are gathered for a few milliseconds into
// requests of at most `batch` tokens; the relay's answer is mapped back per token onto
// APNs' vocabulary (apns::classify): delivered 200; expired or unknown tokens 410 (the
// registration is dropped); throttled 429 and failures 5xx/transport (retried with
// backoff); a refused API key 403 (the route pauses); anything else 400 (dead, logged).
// A 413 splits the request in half and lowers the batch size for the route.
//
// Thread-safe: send() may be called from any thread; state lives on a strand.
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/net.hpp"
#include "push/dispatcher.hpp"

namespace cardsmith::push {

struct RelayOptions {
    std::string kind;  // walletunion_fcm, walletunion_hms, walletpasses, pass2u, passwallet
    // Wallet Union and Wallet Passes: the endpoint; Pass2U: the base before
    // "/{passTypeIdentifier}/push"; PassWallet: unused (each registration names its own).
    std::string url;
    std::string api_key;  // never logged
    std::size_t batch = 100;
    std::chrono::milliseconds linger{5};  // how long a lone push waits for company
    std::chrono::milliseconds timeout{10'000};
};

// The relays' default batch sizes (android-wallets.md §8.4).
[[nodiscard]] std::size_t default_relay_batch(std::string_view kind);

class RelaySender final : public Sender, public std::enable_shared_from_this<RelaySender> {
public:
    // `tls` (for https relays) must outlive the sender.
    RelaySender(net::any_io_executor executor, net::ssl::context& tls, RelayOptions options,
                std::string topic);

    void send(Delivery delivery, Completion done) override;

    struct Stats {
        std::uint64_t requests = 0, tokens = 0, splits = 0;
    };
    [[nodiscard]] Stats stats() const;

private:
    struct Waiting {
        std::string token;
        Completion done;
    };
    struct Batch {
        std::string route;
        std::vector<Waiting> items;
    };
    void add(Delivery delivery, Completion done);
    void flush(const std::string& route);
    void arm_timer();
    // Static: the coroutine frame keeps the sender alive through `self`.
    static net::awaitable<void> post(std::shared_ptr<RelaySender> self,
                                     std::shared_ptr<Batch> batch);
    [[nodiscard]] std::string request_url(const std::string& route) const;
    [[nodiscard]] std::string request_body(const std::vector<Waiting>& items) const;

    net::strand<net::any_io_executor> strand_;
    net::ssl::context& tls_;
    RelayOptions options_;
    std::string topic_;
    net::steady_timer timer_;
    bool timer_armed_ = false;
    std::map<std::string, std::vector<Waiting>> pending_;  // by route
    std::size_t batch_;                                    // lowered after a 413
    Stats stats_;
    mutable std::mutex stats_mutex_;
};

}  // namespace cardsmith::push
