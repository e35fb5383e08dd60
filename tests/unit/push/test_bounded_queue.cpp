#include <boost/test/unit_test.hpp>
#include <vector>

#include "push/bounded_queue.hpp"

using namespace cardsmith;

namespace {

// Runs every ready handler (poll() leaves the io_context stopped once it runs out of work).
void drain(net::io_context& ioc) {
    ioc.restart();
    ioc.poll();
}

// Posts `n` jobs numbered from 0 that record their start and keep their Finished.
struct Recorder {
    std::vector<int> started;
    std::vector<push::BoundedQueue::Finished> running;

    void post(push::BoundedQueue& queue, int n) {
        for (int i = 0; i < n; ++i) {
            queue.post([this, i](push::BoundedQueue::Finished finished) {
                started.push_back(i);
                running.push_back(std::move(finished));
            });
        }
    }
    // Finishes the oldest running job.
    void finish_one() {
        auto finished = std::move(running.front());
        running.erase(running.begin());
        finished();
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(bounded_queue_suite)

BOOST_AUTO_TEST_CASE(runs_at_most_the_limit_and_starts_the_waiting_in_order) {
    net::io_context ioc;
    push::BoundedQueue queue(ioc.get_executor(), 2);
    Recorder r;
    r.post(queue, 5);
    drain(ioc);
    BOOST_TEST(r.started == (std::vector<int>{0, 1}));
    r.finish_one();
    drain(ioc);
    BOOST_TEST(r.started == (std::vector<int>{0, 1, 2}));
    r.finish_one();
    r.finish_one();
    drain(ioc);
    BOOST_TEST(r.started == (std::vector<int>{0, 1, 2, 3, 4}));
    BOOST_TEST(r.running.size() == 2U);
    r.finish_one();
    r.finish_one();
    drain(ioc);
    // Nothing is waiting: new jobs start at once again.
    r.post(queue, 2);
    drain(ioc);
    BOOST_TEST(r.started.size() == 7U);
}

BOOST_AUTO_TEST_CASE(a_limit_of_zero_runs_one_at_a_time) {
    net::io_context ioc;
    push::BoundedQueue queue(ioc.get_executor(), 0);
    Recorder r;
    r.post(queue, 3);
    drain(ioc);
    BOOST_TEST(r.started == (std::vector<int>{0}));
    r.finish_one();
    drain(ioc);
    BOOST_TEST(r.started == (std::vector<int>{0, 1}));
}

BOOST_AUTO_TEST_CASE(finishing_after_the_owner_is_gone_is_safe) {
    net::io_context ioc;
    Recorder r;
    {
        push::BoundedQueue queue(ioc.get_executor(), 1);
        r.post(queue, 2);
        drain(ioc);
    }
    r.finish_one();
    drain(ioc);
    BOOST_TEST(r.started == (std::vector<int>{0, 1}));
}

BOOST_AUTO_TEST_SUITE_END()
