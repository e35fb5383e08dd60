#pragma once
// A bound on concurrent work: at most `limit` jobs running at once, the others waiting in
// the order they were posted, the oldest starting whenever a running one finishes. The
// Google Wallet and webhook senders put every delivery through one, so that thousands of
// rows handed over by the dispatcher wait here instead of each opening a connection
// (STYLE.md "every queue has a bound").
//
// Owned by its user (a member); the counters and the waiting jobs live on the queue's own
// strand, in state shared with the handlers it posts, so finishing a job never touches a
// queue's owner. Thread-safe: post() and the finish callbacks may be called from any thread.
#include <cstddef>
#include <functional>
#include <memory>

#include "common/net.hpp"

namespace cardsmith::push {

class BoundedQueue {
public:
    // Called exactly once, from any thread, when a started job is done.
    using Finished = std::function<void()>;
    // Starts one job on the queue's strand; it must not block (spawn or post the work).
    using Job = std::function<void(Finished)>;

    // `limit` below 1 counts as 1.
    BoundedQueue(const net::any_io_executor& executor, std::size_t limit);

    // Starts `job` now if fewer than `limit` are running, else when its turn comes.
    void post(Job job);

    // One asynchronous call as a job: when its turn comes, `make(answered)` returns the
    // coroutine to spawn on `executor`; the job ends when the coroutine calls `answered`,
    // which passes the result on to `done`.
    template <typename Result, typename Make>
    void post_call(net::any_io_executor executor, std::function<void(Result)> done, Make make) {
        post([executor = std::move(executor), done = std::move(done),
              make = std::move(make)](Finished finished) mutable {
            std::function<void(Result)> answered =
                [done = std::move(done), finished = std::move(finished)](Result result) mutable {
                    done(std::move(result));
                    finished();
                };
            net::co_spawn(executor, make(std::move(answered)), net::detached);
        });
    }

private:
    struct State;
    static void start(const std::shared_ptr<State>& state, Job job);  // on the strand

    std::shared_ptr<State> state_;
};

}  // namespace cardsmith::push
