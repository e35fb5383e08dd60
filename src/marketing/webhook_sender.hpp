#pragma once
// Webhook calls to merchants' CRMs (issue 6), fed by the outbox ('webhook' rows, one per
// delivery): a JSON POST {"id","type","createdAt","data"} signed like the verification
// webhooks (Cardsmith-Signature: t=<unix>,v1=HMAC-SHA256(secret, "<t>.<body>")), with
// Cardsmith-Event and Cardsmith-Delivery headers. Any answer but 2xx, or none, is retried
// by the dispatcher with backoff; after `max_age` the delivery fails for good. Every
// attempt is written to the delivery log. At most `concurrency` calls at once.
#include <boost/asio/ssl/context.hpp>
#include <memory>

#include "common/net.hpp"
#include "crypto/secret_box.hpp"
#include "push/bounded_queue.hpp"
#include "push/dispatcher.hpp"
#include "storage/database.hpp"

namespace cardsmith::marketing {

// Associated data a merchant's webhook secrets are sealed with.
[[nodiscard]] std::string webhook_secret_context(MerchantId merchant);

// The JSON an event is delivered (and pulled) as.
[[nodiscard]] std::string event_json(const storage::EventRecord& event);

class WebhookSender : public push::Sender, public std::enable_shared_from_this<WebhookSender> {
public:
    WebhookSender(net::any_io_executor executor, storage::Database& db,
                  const crypto::SecretBox& secrets, net::ssl::context& tls,
                  std::chrono::milliseconds max_age = std::chrono::hours(24),
                  std::size_t concurrency = 16);

    void send(push::Delivery delivery, Completion done) override;

private:
    static net::awaitable<void> run(std::shared_ptr<WebhookSender> self, push::Delivery delivery,
                                    Completion done);
    net::awaitable<apns::PushResult> deliver(std::int64_t id);

    net::any_io_executor executor_;
    push::BoundedQueue queue_;
    storage::Database& db_;
    const crypto::SecretBox& secrets_;
    net::ssl::context& tls_;
    std::chrono::milliseconds max_age_;
};

}  // namespace cardsmith::marketing
