#pragma once
// Small helpers the integration tests share: the path of an absolute URL, waiting for a
// condition, and reading or writing the server's database directly (test_db.hpp).
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "test_db.hpp"

namespace cardsmith::test {

// "http://host:port/a/b?c" → "/a/b?c".
inline std::string path_of(const std::string& url) {
    const auto scheme = url.find("://");
    return url.substr(url.find('/', scheme + 3));
}

// Polls until `pred` holds or `timeout` passes; the last answer.
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return pred();
}

}  // namespace cardsmith::test
