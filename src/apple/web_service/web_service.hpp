#pragma once
// Apple's pass web service (PassKit Web Service Reference; apple-wallet.md §2) under the
// `webServiceURL` written in every pass (public URL + "/apple"): device registration,
// the list of updated serials, the latest pass and the device log. Registrations and
// unregistrations are recorded as events by the store.
//
// Android wallet apps speak the same protocol with their own Authorization schemes
// (WalletUnionPass, WalletUnionHMSPass, AndroidPass, AttidoPass...; android-wallets.md):
// any scheme is accepted, only the token decides, and the scheme records which app
// registered so its pushes go through its vendor's relay.
//
// Owned by `app`; handlers are thread-safe (all state lives in the store and the pass
// service). Wallet's shared secrets: the pass's authenticationToken (compared in constant
// time) and the deviceLibraryIdentifier.
#include <atomic>
#include <functional>
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
    // Hosts PassWallet's registrations may name as their push service (the server POSTs
    // there, so only these: android-wallets.md §8.6).
    std::set<std::string, std::less<>> passwallet_hosts;
    // limits.max_devices_per_pass: a further device registering a pass gets 403 (0: none).
    int max_devices_per_pass = 0;
};

// The wallet app behind a registration (android-wallets.md §8.1): by the path (PassWallet's
// registrations_attido), the X-Pass-Client header, the Authorization scheme, and for
// ApplePass the shape of the push token (64 hex characters for APNs).
[[nodiscard]] std::string wallet_kind(bool attido_path, std::string_view scheme,
                                      std::string_view pass_client, std::string_view push_token);

void register_routes(http_server::Router& router, WebServiceContext& ctx);

}  // namespace cardsmith::web_service
