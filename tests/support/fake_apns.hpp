#pragma once
// A fake APNs provider endpoint for tests and benchmarks (apple-wallet.md §3): real HTTP/2
// over TLS (ALPN "h2" only) on loopback, demanding a client certificate verified against
// `ca_file`, answering `POST /3/device/<hex token>` like Apple (200 + apns-id; errors as
// JSON `{"reason":...}`, with "timestamp" for 410), recording every push, and scriptable
// to misbehave (per-token replies, delays, RST_STREAM, GOAWAY after N requests, lower
// stream limits, dropped connections, refused connections).
//
// Ownership and threads: FakeApns owns its io_context and its threads (`threads`, default
// 1); each connection runs on its own strand and drives one nghttp2 server session with
// the mem_recv / mem_send pump (one big read fed at once, all pending output in one
// write). Every public member function is thread-safe and may be called from any thread
// (not from inside the fake's own threads while it is being destroyed). The destructor
// closes all connections abruptly and joins the threads; it is safe while clients are
// connected.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cardsmith::testing {

struct FakeApnsOptions {
    std::string cert_file, key_file;  // server TLS identity
    std::string ca_file;              // verifies client certificates
    bool require_client_cert = true;  // false only for the h2load ceiling run (no client cert)
    std::string address = "127.0.0.1";
    std::uint16_t port = 0;  // 0 = ephemeral
    unsigned threads = 1;
    unsigned max_concurrent_streams = 1000;  // sent in SETTINGS
    bool record = true;  // keep every push in memory (bench may turn it off, counts stay)
};

struct RecordedPush {
    std::string device_token;    // from :path /3/device/<token>
    std::string topic;           // apns-topic
    std::string body;            // request body (up to 4096 bytes are kept)
    std::string apns_id;         // request apns-id if any
    std::string client_subject;  // client cert subject, RFC 2253 one-line ("UID=...,CN=...")
    unsigned status;             // what the fake answered (0 = RST_STREAM, see Reply)
    std::chrono::steady_clock::time_point at;  // when the answer was submitted
    // Additions beyond the first published interface:
    std::string priority;      // apns-priority, empty if absent
    std::string expiration;    // apns-expiration, empty if absent
    std::string push_type;     // apns-push-type, empty if absent
    std::string reply_id;      // apns-id header of the answer (echoed or generated)
    std::uint64_t connection;  // 1-based number of the TCP connection, in accept order
    std::int32_t stream_id;    // HTTP/2 stream id on that connection
};

struct Reply {
    unsigned status = 200;
    std::string reason;  // empty: a default for the status (410 -> "Unregistered", ...)
    std::optional<std::int64_t> timestamp_ms;  // 410 without one: now
    // Addition: nonzero = answer with RST_STREAM(this HTTP/2 error code, e.g. 7 =
    // REFUSED_STREAM) instead of a response; recorded with status 0.
    std::uint32_t rst_stream_error = 0;
};

class FakeApns {
public:
    // Starts listening and its threads. Throws std::runtime_error (bad files, bind failure).
    explicit FakeApns(FakeApnsOptions options);
    ~FakeApns();  // stops cleanly
    FakeApns(const FakeApns&) = delete;
    FakeApns& operator=(const FakeApns&) = delete;

    [[nodiscard]] std::uint16_t port() const;

    // Scripting (thread-safe, take effect for subsequent requests). Requests failing
    // Apple's checks (405, 404 BadPath, 400 BadDeviceToken/MissingTopic/BadMessageId/
    // PayloadEmpty, 413 PayloadTooLarge) get that answer and consume no scripted reply.
    // Rules for one token queue up and apply in order (a rule with times = -1 stays).
    void reply_for(std::string device_token, Reply reply, int times = -1);  // -1 = always
    void reply_all(Reply reply, int times = -1);  // every token without a per-token rule
    void reset_replies();                         // back to 200 for everyone
    void set_delay(std::chrono::milliseconds d);  // answer each request after d (timer)
    // One-shot: the first connection to receive `requests` more requests (counted from
    // this call, or from its start for later connections) answers them, then sends
    // GOAWAY(last_stream_id = the last of them, NO_ERROR, {"reason":"Shutdown"}) and closes
    // after flushing; requests with higher ids are neither answered nor recorded. The rule
    // is then disarmed (a reconnecting client is not hit again until the next call).
    // 0 = the next request on any connection is not processed and triggers the GOAWAY.
    void goaway_after(unsigned requests);
    void cancel_goaway();                         // addition: disarm a pending goaway_after
    void set_max_concurrent_streams(unsigned n);  // new SETTINGS to live connections + new ones
    void drop_connections();  // close every TCP connection abruptly (no GOAWAY, no TLS close)
    void set_accepting(bool accept);  // false: accept then immediately close new connections

    // Observation:
    [[nodiscard]] std::vector<RecordedPush> pushes() const;  // empty when record == false
    [[nodiscard]] std::size_t count() const;                 // pushes answered (any status)
    [[nodiscard]] std::size_t count_ok() const;              // answered 200
    [[nodiscard]] bool wait_for_count(std::size_t n, std::chrono::milliseconds timeout) const;
    [[nodiscard]] std::size_t connections_accepted() const;  // TCP accepts, refused ones too
    [[nodiscard]] std::size_t connections_open() const;      // accepted and not yet closed
    void clear();  // forget recorded pushes and counters (not connections_*)

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace cardsmith::testing
