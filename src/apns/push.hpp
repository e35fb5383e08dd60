#pragma once
// One APNs push, its outcome, and the one table that maps an outcome to what the caller
// does next (apple-wallet.md §3.2, §3.3). Plain values, safe to copy between threads.
// Knows nothing of passes: the topic is whatever the caller's certificate allows.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cardsmith::apns {

struct Push {
    std::string device_token;                // hex push token; never logged whole
    std::string topic;                       // apns-topic (the pass type id for passes)
    std::string payload = "{}";              // JSON body; never empty (PayloadEmpty)
    std::optional<std::int64_t> expiration;  // apns-expiration, UNIX seconds; 0 = try once
    std::string apns_id;                     // optional lowercase UUID, sent as apns-id
};

struct PushResult {
    unsigned status = 0;                       // HTTP status; 0 = transport failure, not sent
    std::string reason;                        // APNs reason, or why the transport failed
    std::optional<std::int64_t> timestamp_ms;  // with 410: when the token became invalid
    std::string apns_id;                       // apns-id of the response
    [[nodiscard]] bool ok() const { return status == 200; }
};

// What the caller does with a PushResult (apple-wallet.md §3.3).
enum class Action {
    done,           // delivered to APNs
    drop_token,     // token is dead (410: unless re-registered after timestamp_ms)
    retry_later,    // 429, 5xx, IdleTimeout, transport failure: back off, then resend
    stop_identity,  // certificate or topic problem: stop this identity, alert, keep tokens
    our_bug,        // malformed request: don't retry unchanged
};

[[nodiscard]] Action classify(const PushResult& result);
[[nodiscard]] std::string_view to_string(Action action);

// The first characters of a device token, for logs (tokens are never logged whole).
[[nodiscard]] std::string token_prefix(std::string_view token);

// Reads APNs' error body `{"reason":"...","timestamp":...}` into `out`; a body that is
// not such JSON leaves `out` unchanged and returns false.
bool parse_error_body(std::string_view body, PushResult& out);

}  // namespace cardsmith::apns
