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
    } else if (o.status == 0 || o.status == 429 || o.status >= 500) {
        r.status = static_cast<unsigned>(o.status);
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
    net::post(strand_, [self = shared_from_this(),
                        job = Job{std::move(delivery), std::move(done)}]() mutable {
        if (self->active_ >= self->concurrency_) {
            self->queued_.push_back(std::move(job));
            return;
        }
        self->start(std::move(job));
    });
}

void GoogleSender::start(Job job) {
    ++active_;
    // When the call is answered, the next queued one starts (on the strand).
    auto finished = [self = shared_from_this(),
                     done = std::move(job.done)](apns::PushResult result) mutable {
        done(std::move(result));
        net::post(self->strand_, [self] {
            --self->active_;
            if (!self->queued_.empty()) {
                auto next = std::move(self->queued_.front());
                self->queued_.pop_front();
                self->start(std::move(next));
            }
        });
    };
    net::co_spawn(executor_, run(shared_from_this(), std::move(job.delivery), std::move(finished)),
                  net::detached);
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

}  // namespace cardsmith::google
