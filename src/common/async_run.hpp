#pragma once
// Runs blocking work (SQLite, RSA signing, zipping) on a pool owned by `app` and resumes
// the awaiting coroutine on its own executor, so no I/O thread ever blocks
// (STYLE.md "Threads and lifetimes"). Exceptions thrown by the work are rethrown
// at the co_await.
//
// GCC 12 caveat (checked by tests/unit/common): inside a coroutine, a closure or aggregate
// temporary with non-trivial members written directly in a co_await expression is
// destroyed twice. Capture by reference (`co_await db.run([&](Store& s) {...})`; the
// awaiting frame outlives the work) or name the lambda first and std::move it.
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "common/net.hpp"

namespace cardsmith {

template <typename Executor, typename F, typename R = std::invoke_result_t<F&>>
net::awaitable<R> async_run(Executor pool, F fn) {
    static_assert(!std::is_void_v<R>, "return a value (e.g. bool or a result<>)");
    auto initiation = [pool](auto handler, F work) mutable {
        auto guard = net::make_work_guard(net::get_associated_executor(handler));
        net::post(pool, [handler = std::move(handler), work = std::move(work),
                         guard = std::move(guard)]() mutable {
            std::exception_ptr error;
            std::optional<R> value;
            try {
                value.emplace(work());
            } catch (...) {
                error = std::current_exception();
            }
            auto ex = guard.get_executor();
            net::post(ex,
                      [handler = std::move(handler), error, value = std::move(value)]() mutable {
                          handler(error, std::move(value));
                      });
        });
    };
    std::optional<R> out = co_await net::async_initiate<const net::use_awaitable_t<>&,
                                                        void(std::exception_ptr, std::optional<R>)>(
        std::move(initiation), net::use_awaitable, std::move(fn));
    co_return std::move(*out);
}

}  // namespace cardsmith
