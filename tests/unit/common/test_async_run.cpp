#include <boost/test/unit_test.hpp>
#include <string>
#include <thread>

#include "common/async_run.hpp"

using namespace cardsmith;

BOOST_AUTO_TEST_SUITE(async_run_suite)

BOOST_AUTO_TEST_CASE(runs_on_the_pool_and_resumes_on_the_strand) {
    net::io_context ioc;
    net::thread_pool pool(2);
    auto strand = net::make_strand(ioc);
    int done = 0;
    for (int i = 0; i < 50; ++i) {
        net::co_spawn(
            strand,
            [&, i]() -> net::awaitable<void> {
                const auto caller = std::this_thread::get_id();
                // Named lambda with a non-trivial capture: the pattern GCC 12 handles.
                std::string text = "value-" + std::to_string(i) + std::string(40, 'x');
                auto job = [text] {
                    return std::make_pair(std::this_thread::get_id(), text.size());
                };
                auto [worker, size] = co_await async_run(pool.get_executor(), std::move(job));
                BOOST_TEST((worker != caller));
                BOOST_TEST(size == text.size());
                BOOST_TEST(strand.running_in_this_thread());
                // Reference captures straight in the co_await: also fine.
                auto n = co_await async_run(pool.get_executor(), [&text] { return text.size(); });
                BOOST_TEST(n == text.size());
                ++done;
            },
            net::detached);
    }
    ioc.run();
    pool.join();
    BOOST_TEST(done == 50);
}

BOOST_AUTO_TEST_CASE(exceptions_reach_the_awaiter) {
    net::io_context ioc;
    net::thread_pool pool(1);
    bool caught = false;
    net::co_spawn(
        ioc,
        [&]() -> net::awaitable<void> {
            try {
                (void)co_await async_run(pool.get_executor(),
                                         []() -> int { throw std::runtime_error("boom"); });
            } catch (const std::runtime_error& e) {
                caught = std::string(e.what()) == "boom";
            }
        },
        net::detached);
    ioc.run();
    pool.join();
    BOOST_TEST(caught);
}

BOOST_AUTO_TEST_SUITE_END()
