#include "push/bounded_queue.hpp"

#include <algorithm>
#include <deque>

namespace cardsmith::push {

struct BoundedQueue::State {
    State(const net::any_io_executor& executor, std::size_t max)
        : strand(net::make_strand(executor)), limit(std::max<std::size_t>(1, max)) {}

    net::strand<net::any_io_executor> strand;
    const std::size_t limit;
    std::size_t active = 0;   // on the strand
    std::deque<Job> waiting;  // on the strand
};

BoundedQueue::BoundedQueue(const net::any_io_executor& executor, std::size_t limit)
    : state_(std::make_shared<State>(executor, limit)) {}

void BoundedQueue::post(Job job) {
    net::post(state_->strand, [state = state_, job = std::move(job)]() mutable {
        if (state->active >= state->limit) {
            state->waiting.push_back(std::move(job));
            return;
        }
        start(state, std::move(job));
    });
}

void BoundedQueue::start(const std::shared_ptr<State>& state, Job job) {
    ++state->active;
    // When the job is done, the next waiting one starts (on the strand).
    job([state] {
        net::post(state->strand, [state] {
            --state->active;
            if (!state->waiting.empty()) {
                auto next = std::move(state->waiting.front());
                state->waiting.pop_front();
                start(state, std::move(next));
            }
        });
    });
}

}  // namespace cardsmith::push
