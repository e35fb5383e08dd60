#pragma once
// The push channels' state as operators see it, in /readyz ("channels", "push") and in
// /metrics: each APNs client (one per Apple identity), the dispatcher's routes (refused
// identities, relays, Google row kinds) and Google Wallet (start-up probe, OAuth token).
//
// Readiness policy (docs/deploy.md "Health"): none of this makes the server unready.
// Every instance shares the same credentials and the same Apple and Google; a 503 would
// take them all out of the load balancer together, stopping card issuance, the till's
// transactions and pass downloads while the outbox keeps every push until the channel
// works again. So /readyz reports the channels in its body and the 503 stays for what an
// instance cannot serve without: its database and its signing certificate (CONTRACT §3).
//
// Pure functions over snapshots; the caller (app) gathers the snapshots.
#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <vector>

#include "apns/client_options.hpp"
#include "http/metrics.hpp"
#include "push/dispatcher.hpp"

namespace cardsmith::app {

struct ApnsChannel {
    std::string pass_type_id;
    // "idle" (connections open on the first push), "connected", "unreachable" (no
    // connection and the last attempt failed) or "refused" (APNs refused the identity's
    // certificate: pushes paused, push::Dispatcher).
    std::string state;
    std::string reason;  // the refusal or the last connection failure
    unsigned connections = 0;
    std::uint64_t connect_failures = 0;
    std::size_t queued = 0;  // pushes waiting for a stream
};

struct GoogleChannel {
    std::string probe;  // the start-up probe's verdict (app.cpp probe_google)
    std::string token;  // google::TokenSource::Health state
    std::string token_error;
    std::size_t token_refreshes = 0;
};

[[nodiscard]] ApnsChannel apns_channel(const std::string& pass_type_id,
                                       const apns::ClientStats& stats,
                                       const std::vector<push::IdentityHealth>& health);

// "ok", "down" (the server's own identity is refused) or "degraded" (another channel is
// refused or unreachable, or Google is not usable).
[[nodiscard]] std::string push_summary(const std::string& own_pass_type_id,
                                       const std::vector<ApnsChannel>& apns,
                                       const std::vector<push::IdentityHealth>& routes,
                                       const std::optional<GoogleChannel>& google);

// /readyz's "channels" member.
[[nodiscard]] boost::json::object channels_json(const std::vector<ApnsChannel>& apns,
                                                const std::optional<GoogleChannel>& google);

// cardsmith_apns_*, cardsmith_push_channel_up{channel}, cardsmith_google_*.
void export_channel_metrics(http_server::Metrics& metrics, const std::vector<ApnsChannel>& apns,
                            const std::vector<push::IdentityHealth>& routes,
                            const std::optional<GoogleChannel>& google);

}  // namespace cardsmith::app
