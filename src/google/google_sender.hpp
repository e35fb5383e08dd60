#pragma once
// The dispatcher's Sender for Google Wallet's outbox rows: 'google_object' (target: the
// card's serial) PATCHes the card's LoyaltyObject with its balance, tier and offer,
// asking for a notification while the card's budget allows (none in the 12 hours after
// the save, 3 a day); 'google_class' (target: the program's slug) PATCHes the class after
// a redesign. Google's answers in APNs' terms: 2xx delivered; 429, 5xx and unreachable
// retried with backoff; 401/403 (the service account is not a user of the issuer) pause
// the route; other 4xx dead, with Google's message kept as the row's last error.
#include <memory>

#include "google/wallet.hpp"
#include "http/metrics.hpp"
#include "push/bounded_queue.hpp"
#include "push/dispatcher.hpp"
#include "storage/database.hpp"

namespace cardsmith::google {

class GoogleSender final : public push::Sender, public std::enable_shared_from_this<GoogleSender> {
public:
    // At most `concurrency` calls to Google at once (the REST client keeps as many
    // connections alive); the dispatcher may hand over thousands of rows: they queue here
    // instead of each opening a TLS connection.
    GoogleSender(net::any_io_executor executor, storage::Database& db, Wallet& wallet,
                 http_server::Metrics& metrics, std::size_t concurrency = 8)
        : executor_(std::move(executor)),
          queue_(executor_, concurrency),
          db_(db),
          wallet_(wallet),
          metrics_(metrics) {}

    void send(push::Delivery delivery, Completion done) override;

private:
    static net::awaitable<void> run(std::shared_ptr<GoogleSender> self, push::Delivery delivery,
                                    Completion done);
    // A campaign's message on one card: TEXT_AND_NOTIFY within the card's notification
    // budget, TEXT beyond it; the answer is counted on the campaign.
    net::awaitable<Outcome> send_message(const push::Delivery& delivery);

    net::any_io_executor executor_;
    push::BoundedQueue queue_;
    storage::Database& db_;
    Wallet& wallet_;
    http_server::Metrics& metrics_;
};

}  // namespace cardsmith::google
