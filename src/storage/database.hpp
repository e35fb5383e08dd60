#pragma once
// The database executor: a Store plus the small thread pool its blocking calls run on
// (STYLE.md "Threads and lifetimes"). Owned by `app`; run() may be awaited from any
// coroutine and resumes on the caller's executor.
#include <memory>
#include <utility>

#include "common/async_run.hpp"
#include "storage/store.hpp"

namespace cardsmith::storage {

class Database {
public:
    Database(std::unique_ptr<Store> store, unsigned threads)
        : store_(std::move(store)), pool_(threads) {}
    ~Database() { pool_.join(); }
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    // Runs fn(Store&) on the database pool.
    template <typename F>
    auto run(F fn) {
        return async_run(pool_.get_executor(),
                         [this, fn = std::move(fn)]() mutable { return fn(*store_); });
    }

    [[nodiscard]] Store& store() { return *store_; }  // for start-up and CLI only
    void stop() { pool_.join(); }

private:
    std::unique_ptr<Store> store_;
    net::thread_pool pool_;
};

}  // namespace cardsmith::storage
