#include "marketing/rollout_runner.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "common/time_format.hpp"

namespace cardsmith::marketing {

RolloutRunner::RolloutRunner(net::any_io_executor executor, storage::Database& db,
                             std::function<void()> on_pushes, RolloutRunnerOptions options)
    : strand_(net::make_strand(std::move(executor))),
      db_(db),
      on_pushes_(std::move(on_pushes)),
      options_(options),
      timer_(strand_),
      pace_(strand_) {}

void RolloutRunner::start() { net::co_spawn(strand_, run(shared_from_this()), net::detached); }

void RolloutRunner::wake() {
    net::post(strand_, [self = shared_from_this()] {
        self->woken_ = true;
        self->timer_.cancel();
    });
}

void RolloutRunner::stop() {
    net::post(strand_, [self = shared_from_this()] {
        self->stopping_ = true;
        self->timer_.cancel();
        self->pace_.cancel();
    });
}

net::awaitable<void> RolloutRunner::run(std::shared_ptr<RolloutRunner> self) {
    while (!self->stopping_) {
        self->woken_ = false;
        bool busy = false;
        try {
            busy = co_await self->advance_all();
        } catch (const std::exception& e) {
            log::error("rollout: step failed", {{"error", e.what()}});
        }
        if (busy || self->woken_ || self->stopping_) {
            continue;
        }
        self->timer_.expires_after(self->options_.poll);
        error_code ec;
        co_await self->timer_.async_wait(net::redirect_error(net::use_awaitable, ec));
    }
}

net::awaitable<bool> RolloutRunner::advance_all() {
    auto ids = co_await db_.run([](storage::Store& s) { return s.running_rollouts(); });
    bool busy = false;
    // With a rate limit, a chunk is what the limit allows in 100 ms (at least one card).
    int chunk = options_.chunk;
    std::chrono::milliseconds pause{0};
    if (options_.cards_per_second > 0) {
        chunk = std::clamp(options_.cards_per_second / 10, 1, options_.chunk);
        pause = std::chrono::milliseconds(1000LL * chunk / options_.cards_per_second);
    }
    if (!ids.empty() && options_.max_pending > 0) {
        const std::int64_t cap = options_.max_pending;
        const std::int64_t now = now_unix_millis();
        const auto pending =
            co_await db_.run([cap, now](storage::Store& s) { return s.due_outbox(now, cap); });
        if (pending >= cap) {
            // Let the dispatcher drain first (it is sending: no need to wake it).
            pace_.expires_after(std::chrono::milliseconds(20));
            error_code ec;
            co_await pace_.async_wait(net::redirect_error(net::use_awaitable, ec));
            co_return true;
        }
    }
    for (const std::int64_t id : ids) {
        if (stopping_) {
            co_return false;
        }
        const std::int64_t now = now_unix_millis();
        auto before_after = co_await db_.run([id, chunk, now](storage::Store& s) {
            auto before = s.find_rollout(id);
            auto after = s.rollout_step(id, chunk, now);
            return std::pair{std::move(before), std::move(after)};
        });
        const auto& before = before_after.first;
        const auto& after = before_after.second;
        if (!before || !after) {
            continue;
        }
        // New pushes, or the end: the last step queues the Google class update (a program
        // with only Google cards queues nothing else), so the dispatcher sends it now
        // rather than at its next poll.
        const bool ended = after->state == "done" && before->state != "done";
        if ((after->pushes_queued != before->pushes_queued || ended) && on_pushes_) {
            on_pushes_();
        }
        if (after->state == "running") {
            busy = true;
            if (pause.count() > 0) {
                pace_.expires_after(pause);
                error_code ec;
                co_await pace_.async_wait(net::redirect_error(net::use_awaitable, ec));
            }
        } else if (after->state != before->state) {
            log::info("rollout " + after->state,
                      {{"rollout", std::to_string(id)},
                       {"program", std::to_string(after->program.value())},
                       {"version", std::to_string(after->version)},
                       {"cards", std::to_string(after->cards_done)},
                       {"pushes", std::to_string(after->pushes_queued)}});
        }
    }
    co_return busy;
}

}  // namespace cardsmith::marketing
