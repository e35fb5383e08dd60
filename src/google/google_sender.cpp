#include "google/google_sender.hpp"

#include "common/log.hpp"
#include "common/time_format.hpp"

namespace cardsmith::google {
namespace {

apns::PushResult result_of(const Outcome& o) {
    apns::PushResult r;
    r.reason = o.message;
    if (o.ok()) {
        r.status = 200;
    } else if (o.status == 0 || o.status >= 500) {
        r.status = static_cast<unsigned>(o.status);
    } else if (o.status == 429) {
        // The issuer's quota (about 20 requests a second), not this object: retried like
        // a 503, spending none of the push's attempts (apns 429 does: that one is a device).
        r.status = 503;
        r.reason = "Google 429: " + o.message;
    } else if (o.status == 401 || o.status == 403) {
        r.status = 403;  // configuration: pause and probe, keep the rows
    } else {
        r.status = 400;  // permanent: dead, with Google's message
        r.reason = "Google " + std::to_string(o.status) + ": " + o.message;
    }
    return r;
}

}  // namespace

void GoogleSender::send(push::Delivery delivery, Completion done) {
    // The queue's next call starts once Google has answered this one.
    queue_.post_call<apns::PushResult>(
        executor_, std::move(done),
        [self = shared_from_this(), delivery = std::move(delivery)](Completion answered) mutable {
            return run(self, std::move(delivery), std::move(answered));
        });
}

net::awaitable<void> GoogleSender::run(std::shared_ptr<GoogleSender> self, push::Delivery delivery,
                                       Completion done) {
    apns::PushResult result;
    try {
        const std::string target = delivery.push.device_token;
        Outcome outcome{200, {}};
        if (delivery.kind == "google_class") {
            auto program =
                co_await self->db_.run([&](storage::Store& s) { return s.find_program(target); });
            if (program) {
                outcome = co_await self->wallet_.async_update_class(*program);
            }
        } else if (delivery.kind == "google_message") {
            outcome = co_await self->send_message(delivery);
        } else {
            const SerialNumber serial(target);
            auto found =
                co_await self->db_.run([&](storage::Store& s) { return s.find_pass(serial); });
            if (found) {
                const CardId card = found->first.id;
                const std::int64_t now = now_unix_millis();
                const bool notify = co_await self->db_.run(
                    [&](storage::Store& s) { return s.take_google_notice(card, now); });
                outcome =
                    co_await self->wallet_.async_update_object(found->second, found->first, notify);
                self->metrics_.counter_add("cardsmith_google_updates_total",
                                           "Google Wallet object updates by notification",
                                           {{"notify", notify ? "yes" : "no"}});
            }
        }
        result = result_of(outcome);
    } catch (const std::exception& e) {
        result.status = 0;
        result.reason = e.what();
    }
    done(std::move(result));
}

net::awaitable<Outcome> GoogleSender::send_message(const push::Delivery& delivery) {
    // target: the card's serial; topic: "campaign:<id>".
    const SerialNumber serial(delivery.push.device_token);
    const std::string& topic = delivery.push.topic;
    std::int64_t campaign_id = 0;
    if (topic.starts_with("campaign:")) {
        campaign_id = std::strtoll(topic.c_str() + 9, nullptr, 10);
    }
    auto loaded = co_await db_.run([&](storage::Store& s) {
        std::optional<std::pair<storage::Campaign, std::pair<domain::Card, domain::Program>>> out;
        auto campaign = s.find_campaign(campaign_id);
        auto pass = s.find_pass(serial);
        if (campaign && pass) {
            out.emplace(std::move(*campaign), std::move(*pass));
        }
        return out;
    });
    if (!loaded || loaded->first.state == "cancelled") {
        co_return Outcome{200, {}};  // nothing to send any more
    }
    const auto& campaign = loaded->first;
    const auto& [card, program] = loaded->second;
    const CardId card_id = card.id;
    const std::int64_t now = now_unix_millis();
    bool notify =
        co_await db_.run([&](storage::Store& s) { return s.take_google_notice(card_id, now); });
    Wallet::Message m;
    m.id = "campaign-" + std::to_string(campaign.id);
    m.header = campaign.header;
    m.body = campaign.link.empty() ? campaign.message : campaign.message + "\n" + campaign.link;
    m.notify = notify;
    m.end_seconds = campaign.expires_at / 1000;
    auto outcome = co_await wallet_.async_add_message(program, card, m);
    if (notify && Wallet::over_budget(outcome)) {
        // Google counted more notifications than we did: the message still goes, silently.
        m.notify = notify = false;
        outcome = co_await wallet_.async_add_message(program, card, m);
    }
    const bool permanent = !outcome.ok() && outcome.status != 0 && outcome.status != 429 &&
                           outcome.status < 500 && outcome.status != 401 && outcome.status != 403;
    if (outcome.ok() || permanent) {
        const bool ok = outcome.ok();
        const std::int64_t id = campaign.id;
        co_await db_.run([&](storage::Store& s) {
            s.record_google_message(id, card_id, ok, notify, now_unix_millis());
            return 0;
        });
    }
    metrics_.counter_add("cardsmith_google_messages_total", "Google Wallet campaign messages",
                         {{"type", outcome.ok() ? (notify ? "notify" : "text") : "failed"}});
    co_return outcome;
}

}  // namespace cardsmith::google
