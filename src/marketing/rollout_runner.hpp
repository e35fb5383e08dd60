#pragma once
// Drives design rollouts (issue 6): every running rollout advances a chunk of cards per
// database transaction (storage::Store::rollout_step), round-robin between rollouts, so
// till transactions and the push dispatcher's writes interleave with a million-card
// rollout. Progress lives in the database: after a crash the next start resumes from the
// last committed chunk. Runs on its own strand; wake() after starting or resuming one.
#include <functional>
#include <memory>

#include "common/net.hpp"
#include "storage/database.hpp"

namespace cardsmith::marketing {

struct RolloutRunnerOptions {
    int chunk = 2000;                      // cards per transaction
    int cards_per_second = 0;              // 0: no limit (rollouts.cards_per_second)
    std::chrono::milliseconds poll{2000};  // look for rollouts started elsewhere (CLI)
    // Backpressure: no new chunk while the outbox holds this many pending rows (the
    // dispatcher sends ~8,000 at once); a backlog only makes each push dearer.
    std::int64_t max_pending = 8000;
};

class RolloutRunner : public std::enable_shared_from_this<RolloutRunner> {
public:
    // `on_pushes` is called after each chunk that queued pushes (wakes the dispatcher).
    RolloutRunner(net::any_io_executor executor, storage::Database& db,
                  std::function<void()> on_pushes, RolloutRunnerOptions options = {});

    void start();
    void wake();
    void stop();

private:
    static net::awaitable<void> run(std::shared_ptr<RolloutRunner> self);
    net::awaitable<bool> advance_all();  // true while some rollout is still running

    net::strand<net::any_io_executor> strand_;
    storage::Database& db_;
    std::function<void()> on_pushes_;
    RolloutRunnerOptions options_;
    net::steady_timer timer_;
    net::steady_timer pace_;
    bool woken_ = false;
    bool stopping_ = false;
};

}  // namespace cardsmith::marketing
