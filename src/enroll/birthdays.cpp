#include "enroll/birthdays.hpp"

#include <cstdio>

#include "common/log.hpp"

namespace cardsmith::enroll {
namespace {

constexpr int kLookBackDays = 2;

std::string month_day(unsigned month, unsigned day) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%02u-%02u", month, day);
    return buf;
}

}  // namespace

BirthdayRun grant_birthdays(storage::Store& store, std::chrono::system_clock::time_point now) {
    using namespace std::chrono;
    BirthdayRun run;
    const auto today = floor<days>(now);
    const auto now_ms = duration_cast<milliseconds>(now.time_since_epoch()).count();
    for (const auto& program : store.list_programs()) {
        const auto& e = program.enrollment;
        if (!e.birthday_on()) {
            continue;
        }
        ++run.programs;
        for (int back = kLookBackDays; back >= 0; --back) {
            const year_month_day date{today - days(back)};
            storage::BirthdayGrant g;
            g.program = program.id;
            g.merchant = program.merchant;
            g.year = static_cast<int>(date.year());
            g.month_days = {
                month_day(static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()))};
            if (date.month() == February && date.day() == day(28) && !date.year().is_leap()) {
                g.month_days.push_back("02-29");
            }
            g.bonus = e.birthday_bonus;
            g.offer = e.birthday_offer;
            g.note = "Birthday bonus";
            g.now_ms = now_ms;
            // Batches of 1,000 cards per transaction: short write locks.
            for (int n = g.limit; n == g.limit;) {
                n = store.grant_birthdays(g);
                run.cards += n;
            }
        }
    }
    if (run.programs > 0) {
        log::info("birthday job", {{"programs", std::to_string(run.programs)},
                                   {"cards", std::to_string(run.cards)}});
    }
    return run;
}

net::awaitable<void> async_birthday_loop(storage::Database& db, std::chrono::seconds every) {
    net::steady_timer timer(co_await net::this_coro::executor);
    for (;;) {
        try {
            const auto now = std::chrono::system_clock::now();
            (void)co_await db.run([&](storage::Store& s) { return grant_birthdays(s, now); });
        } catch (const std::exception& e) {
            log::error("birthday job failed", {{"error", e.what()}});
        }
        timer.expires_after(every);
        error_code ec;
        co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
        if (ec) {
            co_return;
        }
    }
}

}  // namespace cardsmith::enroll
