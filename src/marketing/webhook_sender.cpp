#include "marketing/webhook_sender.hpp"

#include <boost/json.hpp>

#include "common/log.hpp"
#include "common/time_format.hpp"
#include "enroll/code_sender.hpp"
#include "http/client.hpp"

namespace cardsmith::marketing {
namespace json = boost::json;

std::string webhook_secret_context(MerchantId merchant) {
    return "merchant-webhook:" + std::to_string(merchant.value());
}

std::string event_json(const storage::EventRecord& e) {
    error_code ec;
    auto data = json::parse(e.payload, ec);
    return json::serialize(
        json::object{{"id", e.id},
                     {"type", e.kind},
                     {"createdAt", format_iso8601_unix(e.created_at)},
                     {"data", ec ? json::value(json::object{}) : std::move(data)}});
}

WebhookSender::WebhookSender(net::any_io_executor executor, storage::Database& db,
                             const crypto::SecretBox& secrets, net::ssl::context& tls,
                             std::chrono::milliseconds max_age, std::size_t concurrency)
    : executor_(executor),
      queue_(executor_, concurrency),
      db_(db),
      secrets_(secrets),
      tls_(tls),
      max_age_(max_age) {}

void WebhookSender::send(push::Delivery delivery, Completion done) {
    // The queue's next call starts once this one is answered.
    queue_.post_call<apns::PushResult>(
        executor_, std::move(done),
        [self = shared_from_this(), delivery = std::move(delivery)](Completion answered) mutable {
            return run(self, std::move(delivery), std::move(answered));
        });
}

net::awaitable<void> WebhookSender::run(std::shared_ptr<WebhookSender> self,
                                        push::Delivery delivery, Completion done) {
    apns::PushResult result;
    try {
        const std::int64_t id = std::stoll(delivery.push.device_token);
        result = co_await self->deliver(id);
    } catch (const std::exception& e) {
        result.status = 0;
        result.reason = e.what();
    }
    done(std::move(result));
}

net::awaitable<apns::PushResult> WebhookSender::deliver(std::int64_t id) {
    apns::PushResult result;
    auto found = co_await db_.run([id](storage::Store& s) { return s.find_delivery(id); });
    if (!found || found->delivery.state != "pending" || !found->webhook.active) {
        result.status = 200;  // deleted or settled meanwhile: nothing to send
        co_return result;
    }
    const auto secret = secrets_.open(found->webhook.secret_sealed,
                                      webhook_secret_context(found->webhook.merchant));
    if (!secret) {
        // Sealed under another server key: no retry will help.
        co_await db_.run([&](storage::Store& s) {
            s.record_delivery_attempt(id, 0, "the webhook secret cannot be opened", "failed",
                                      now_unix_millis());
            return 0;
        });
        result.status = 400;
        result.reason = "webhook secret unreadable";
        co_return result;
    }
    const std::int64_t now = now_unix_millis();
    http_server::OutgoingRequest request;
    request.method = http::verb::post;
    request.url = found->webhook.url;
    request.body = event_json(found->event);
    request.headers = {
        {"Content-Type", "application/json"},
        {"User-Agent", "Cardsmith-Webhooks/1"},
        {"Cardsmith-Event", found->event.kind},
        {"Cardsmith-Delivery", std::to_string(id)},
        {"Cardsmith-Signature", enroll::webhook_signature(*secret, now / 1000, request.body)}};
    request.timeout = std::chrono::seconds(10);
    int status = 0;
    std::string error;
    try {
        auto res = co_await http_server::async_fetch(request, tls_);
        status = res.status;
        if (status < 200 || status >= 300) {
            error = "HTTP " + std::to_string(status) + ": " + res.body.substr(0, 200);
        }
    } catch (const std::exception& e) {
        error = e.what();
    }
    const bool ok = status >= 200 && status < 300;
    const bool expired = !ok && now - found->delivery.created_at > max_age_.count();
    const std::string state = ok ? "delivered" : (expired ? "failed" : "pending");
    co_await db_.run([&](storage::Store& s) {
        s.record_delivery_attempt(id, status, error, state, now_unix_millis());
        return 0;
    });
    if (ok) {
        result.status = 200;
    } else if (expired) {
        result.status = 400;  // gave up after a day: the outbox row dies
        result.reason = "webhook failed for a day: " + error;
        log::warn("webhook delivery failed for good",
                  {{"delivery", std::to_string(id)}, {"error", error}});
    } else {
        result.status = 0;  // retried with backoff until max_age, whatever the answer
        result.reason = error;
    }
    co_return result;
}

}  // namespace cardsmith::marketing
