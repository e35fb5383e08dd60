#pragma once
// The daily birthday job (issue 4, item 7): cards whose holder has a birthday today get
// the program's birthday bonus through the ledger and its birthday offer text, once a
// year per card. Days are UTC days. The job looks back two days as well, so a server
// that was down on the day still grants it; 29 February birthdays are celebrated on
// 28 February in other years.
#include <chrono>

#include "common/net.hpp"
#include "storage/database.hpp"
#include "storage/store.hpp"

namespace cardsmith::enroll {

struct BirthdayRun {
    int programs = 0;  // programs with a birthday bonus or offer
    int cards = 0;     // cards credited now
};

// Synchronous: runs on a database thread (Database::run).
[[nodiscard]] BirthdayRun grant_birthdays(storage::Store& store,
                                          std::chrono::system_clock::time_point now);

// Runs grant_birthdays at once and then every `every` until the io_context stops.
[[nodiscard]] net::awaitable<void> async_birthday_loop(storage::Database& db,
                                                       std::chrono::seconds every);

}  // namespace cardsmith::enroll
