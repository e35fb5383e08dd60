// storage::Database's pool counters (/metrics: cardsmith_db_pool_*): calls waiting for a
// thread, running, finished, and their times.
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <future>
#include <thread>

#include "common/net.hpp"
#include "storage/database.hpp"
#include "temp_dir.hpp"

using namespace cardsmith;

namespace {

// Spins (no fixed sleep) until pred holds or a generous deadline passes.
template <typename Pred>
bool within_deadline(Pred pred) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!pred()) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        std::this_thread::yield();
    }
    return true;
}

// A call that waits at `gate` on the pool thread (a free function: no lambda coroutines,
// GCC 12).
net::awaitable<void> gated_call(storage::Database& db, std::shared_future<void> gate, int& done) {
    auto work = [&gate](storage::Store& s) {
        gate.wait();
        return s.ping();
    };
    (void)co_await db.run(std::move(work));
    ++done;
}

net::awaitable<void> throwing_call(storage::Database& db, bool& threw) {
    auto work = [](storage::Store&) -> bool { throw std::runtime_error("boom"); };
    try {
        (void)co_await db.run(std::move(work));
    } catch (const std::runtime_error&) {
        threw = true;
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(database_pool)

BOOST_AUTO_TEST_CASE(counts_queued_running_and_finished_calls) {
    test::TempDir dir;
    storage::Database db(storage::open_store("sqlite:" + (dir.path() / "p.db").string(), 1, 5000),
                         1);
    BOOST_TEST(db.stats().threads == 1u);
    BOOST_TEST(db.stats().calls == 0u);

    std::promise<void> gate;
    std::shared_future<void> open = gate.get_future().share();
    net::io_context ioc;
    int done = 0;
    for (int i = 0; i < 4; ++i) {
        net::co_spawn(ioc, gated_call(db, open, done), net::detached);
    }
    std::thread runner([&] { ioc.run(); });
    // One thread: the first call runs (blocked on the gate), three wait for it.
    BOOST_TEST(within_deadline([&] { return db.stats().busy == 1 && db.stats().queued == 3; }));
    gate.set_value();
    runner.join();
    BOOST_TEST(done == 4);
    const auto s = db.stats();
    BOOST_TEST(s.calls == 4u);
    BOOST_TEST(s.busy == 0u);
    BOOST_TEST(s.queued == 0u);
    BOOST_TEST(s.wait_seconds > 0.0);  // three calls waited behind the first
    BOOST_TEST(s.busy_seconds > 0.0);
}

BOOST_AUTO_TEST_CASE(a_call_never_awaited_leaves_the_queue) {
    test::TempDir dir;
    storage::Database db(storage::open_store("sqlite:" + (dir.path() / "p.db").string(), 1, 5000),
                         1);
    {
        auto dropped = db.run([](storage::Store& s) { return s.ping(); });
        BOOST_TEST(db.stats().queued == 1u);
    }
    BOOST_TEST(db.stats().queued == 0u);
    BOOST_TEST(db.stats().calls == 0u);
}

BOOST_AUTO_TEST_CASE(a_call_that_throws_is_counted_and_frees_its_thread) {
    test::TempDir dir;
    storage::Database db(storage::open_store("sqlite:" + (dir.path() / "p.db").string(), 1, 5000),
                         1);
    net::io_context ioc;
    bool threw = false;
    net::co_spawn(ioc, throwing_call(db, threw), net::detached);
    ioc.run();
    BOOST_TEST(threw);
    BOOST_TEST(db.stats().calls == 1u);
    BOOST_TEST(db.stats().busy == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
