#pragma once
// Apple's pass web service (PassKit Web Service Reference; apple-wallet.md §2) under the
// `webServiceURL` written in every pass (public URL + "/apple"): device registration,
// the list of updated serials, the latest pass and the device log. Registrations and
// unregistrations are recorded as events by the store.
//
// Owned by `app`; handlers are thread-safe (all state lives in the store and the pass
// service). Wallet's shared secrets: the pass's authenticationToken (ApplePass header,
// compared in constant time) and the deviceLibraryIdentifier.
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <set>
#include <string>

#include "apple/passkit/pass_service.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"
#include "storage/database.hpp"

namespace cardsmith::web_service {

inline constexpr std::string_view kPathPrefix = "/apple";

struct WebServiceContext {
    storage::Database& db;
    passkit::PassService& passes;
    http_server::Metrics& metrics;
    // Wakes the push dispatcher after a change queued pushes (may be empty).
    std::function<void()> on_pushes_queued;
};

void register_routes(http_server::Router& router, WebServiceContext& ctx);

// Throttle for the unauthenticated device log endpoint: at most `per_second` lines a
// second are written to our log; the rest are counted and dropped.
class LogThrottle {
public:
    explicit LogThrottle(double per_second) : rate_(per_second), tokens_(per_second) {}
    [[nodiscard]] bool allow();

private:
    std::mutex mutex_;
    double rate_;
    double tokens_;
    std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

}  // namespace cardsmith::web_service
