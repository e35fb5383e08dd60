#pragma once
// Configuration, credentials and counters of one APNs client (apple-wallet.md §3.1, §3.4).
// Options and credentials are read once by the Client's constructor; stats are a snapshot.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "crypto/openssl_ptr.hpp"

namespace cardsmith::apns {

struct ClientOptions {
    std::string host;  // api.push.apple.com, or a fake's host
    std::uint16_t port = 443;
    std::string ca_file;       // PEM trust anchors for the server; empty: system trust store
    unsigned connections = 2;  // persistent HTTP/2 connections
    std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};  // resolve..SETTINGS
    std::chrono::milliseconds request_timeout{std::chrono::seconds(30)};  // async_push..reply
    std::chrono::milliseconds ping_interval{std::chrono::hours(1)};       // PING after idle
    std::chrono::milliseconds ping_timeout{std::chrono::seconds(10)};     // PING ack, else dead
    // Reconnect delay after a failed attempt (or a connection that died within a second of
    // coming up): min * 2^(failures-1), capped at max, times a random factor in [0.5, 1].
    std::chrono::milliseconds reconnect_delay_min{std::chrono::milliseconds(500)};
    std::chrono::milliseconds reconnect_delay_max{std::chrono::seconds(60)};
    std::size_t max_queued = 10'000;  // pushes waiting for a stream; callers beyond it wait
    // Callers parked beyond max_queued; beyond both, async_push completes at once with
    // status 0 "queue full".
    std::size_t max_waiting = 100'000;
    unsigned max_resends = 3;    // resends after the connection (or stream) was lost
    unsigned max_refusals = 10;  // resends after REFUSED_STREAM or GOAWAY
};

// The TLS client identity (for passes: the Pass Type ID certificate and key). An empty
// `cert` means no client certificate.
struct Credentials {
    crypto::X509Ptr cert;
    crypto::EvpPkeyPtr key;
    std::vector<crypto::X509Ptr> chain;  // intermediates sent with cert, e.g. WWDR

    // Loads PEM files; `chain_file` may be empty. Throws crypto::CryptoError.
    [[nodiscard]] static Credentials from_files(const std::filesystem::path& cert_file,
                                                const std::filesystem::path& key_file,
                                                const std::filesystem::path& chain_file = {});
};

struct ClientStats {
    unsigned connections_up = 0;                  // connections with a live HTTP/2 session
    std::uint64_t connects = 0;                   // sessions established since start
    std::uint64_t connect_failures = 0;           // attempts that failed before SETTINGS
    std::size_t queued = 0;                       // pushes waiting for a stream
    std::size_t waiting = 0;                      // callers parked because the queue is full
    std::size_t in_flight = 0;                    // streams open
    std::uint64_t sent = 0;                       // requests submitted, retries included
    std::uint64_t retried = 0;                    // pushes re-queued after a lost or refused stream
    std::uint64_t refused = 0;                    // streams refused (REFUSED_STREAM, GOAWAY)
    std::uint64_t timed_out = 0;                  // pushes past request_timeout
    std::map<unsigned, std::uint64_t> by_status;  // results reported, by status (0 = failed)
    std::string last_connect_error;  // why the last attempt failed; cleared by a connection up
};

}  // namespace cardsmith::apns
