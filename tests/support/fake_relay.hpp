#pragma once
// A fake of the Android wallet apps' push relays for tests (android-wallets.md §1-5, §8.7):
// one real HTTP/1.1 server on 127.0.0.1 that serves every vendor's relay under its own
// path prefix, checks what each vendor documents (keys, headers, body shapes, batch
// limits), answers like the vendor, records every request, and can be scripted to fail.
//
//   route          endpoint (POST only)                                 base URL to configure
//   walletunion    /walletunion/send                                    {base_url}/walletunion
//   walletpasses   /walletpasses/api/v1/push                            {base_url}/walletpasses
//   pass2u         /pass2u/v2/registrations/{passTypeIdentifier}/push   {base_url}/pass2u
//   passwallet     /passwallet/v1/pushUpdate, /passwallet/v1/pushUpdates {base_url}/passwallet
//   passworks      /passworks/v1/pushUpdate                             {base_url}/passworks
//
// Checks, in this order, on every route: known path (else 404, route "" when the prefix is
// unknown), POST (else 405), `Content-Type: application/json` (else 415, see options),
// the route's key or one added with accept_key (else 401; Pass2U: `Accept:
// application/json` else 406), a JSON object
// body (else 400), the route's body shape (else 400), batch limits (else 413), Wallet
// Union's token family against `hms` (else 400). Only then does a rate-limit window answer
// 429 (rate_limit), or is a scripted failure consumed (fail_next), and otherwise the normal
// answer is given (with X-Rate-Limit-* headers where advertise_remaining asked for them):
//   walletunion   200 {"status":"OK","unknown_push_tokens":[],"expired_push_tokens":[]};
//                 with expired/unknown tokens in the request: `error_status` (200) with
//                 {"status":"ERROR", the lists} (a token may be in both lists).
//                 Error bodies: {"status":"ERROR","reason":"...", empty lists}; the 413
//                 reason ("Too many FCM pushTokens, max=50") is also the HTTP reason phrase.
//   walletpasses  200 {}                       errors: {"error":"..."}
//   pass2u        200 {}                       errors: {"error":"..."}
//   passwallet    200 {"status":"OK"}          errors: 400 {"status":"ERROR","message":"..."}
//   passworks     200 GCM reply: {"multicast_id","success","failure","canonical_ids":0,
//                 "results":[{"message_id":"0:..."} or {"error":"NotRegistered"} (expired
//                 tokens) or {"error":"InvalidRegistration"} (unknown tokens)]}
//
// Keep-alive and concurrent connections are served (Beast async, each connection on its
// own strand, `threads` io_context threads). Every public member function is thread-safe.
// The destructor closes the listener and every connection and joins the threads; it is
// safe while clients are connected.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace cardsmith::test {

struct RelayCall {
    std::string route;  // "walletunion", "walletpasses", "pass2u", "passwallet", "passworks", ""
    std::string path;   // request target as sent (with any query string)
    std::string method;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
    std::vector<std::string> tokens;  // pushTokens / registrationIds / pushToken, as parsed
    std::optional<bool> hms;          // Wallet Union `hms`, if present and boolean
    std::string pass_type_id;         // passTypeIdentifier / path segment / passTypeID
    int status = 0;                   // what we answered (0 = connection dropped, no answer)
    // Additions:
    std::string reply_body;                    // what we answered
    std::vector<std::string> delivered;        // see FakeRelay::wait_for_tokens
    std::uint64_t connection = 0;              // 1-based TCP connection number, accept order
    std::chrono::steady_clock::time_point at;  // when the answer was decided
    std::string key;  // the API key it carried: `x-api-key` on Pass2U, else `Authorization`
};

struct FakeRelayOptions {
    std::string walletunion_key = "walletunion-test-key";  // `Authorization: <key>`, required
    std::string walletpasses_key;                // `Authorization: <key>`; empty = none required
    std::string pass2u_key = "pass2u-test-key";  // `x-api-key`; empty = none required
    std::string passworks_key;                   // `Authorization: <key>`; empty = none required
    std::size_t fcm_max = 50;                    // Wallet Union, hms false or absent
    std::size_t hms_max = 1000;                  // Wallet Union, hms true
    std::size_t pass2u_max = 1000;               // Pass2U registrationIds
    int error_status = 200;  // HTTP status of a Wallet Union "ERROR" (expired/unknown) reply
    bool require_json_content_type = true;  // 415 unless Content-Type is application/json
    bool record = true;      // keep every call for calls(); counters and deliveries always kept
    std::uint16_t port = 0;  // 0 = ephemeral
    unsigned threads = 1;
    std::size_t max_body = 16 * 1024 * 1024;  // larger bodies: the connection is closed
};

class FakeRelay {
public:
    enum class FailMode {
        rate_limited,     // 429 + Retry-After + X-Rate-Limit-Limit / X-Rate-Limit-Remaining
        server_error,     // 500 (or Failure::status)
        fcm_failed,       // Wallet Union only: 200 {"status":"FCM_FAILED"} with the unknown
                          // tokens of the request listed and no expired ones
        bad_request,      // 400 (PassWallet: {"status":"ERROR","message":...})
        drop_connection,  // close the connection without answering (recorded with status 0)
    };
    struct Failure {
        FailMode mode = FailMode::server_error;
        int status = 0;                  // 0 = the mode's default: 429, 500, 200, 400
        std::string retry_after = "30";  // rate_limited: seconds or an HTTP-date; "" = none
        int rate_limit = 3000;           // rate_limited: X-Rate-Limit-Limit
        int rate_remaining = 0;          // rate_limited: X-Rate-Limit-Remaining
        std::string message;             // error text in the body ("" = a default)
    };

    // Starts listening on 127.0.0.1 and its threads. Throws on a bind failure.
    explicit FakeRelay(FakeRelayOptions options = {});
    ~FakeRelay();
    FakeRelay(const FakeRelay&) = delete;
    FakeRelay& operator=(const FakeRelay&) = delete;

    [[nodiscard]] std::uint16_t port() const;
    [[nodiscard]] std::string base_url() const;  // "http://127.0.0.1:<port>"
    // base_url() + "/" + route, e.g. url("walletunion") for a relay base URL.
    [[nodiscard]] std::string url(const std::string& route) const;
    [[nodiscard]] const FakeRelayOptions& options() const;

    // Scripting (takes effect for later requests; kept until reset_script()).
    void seed_hms_token(const std::string& token);  // every other token is an FCM token
    // Wallet Union: listed in expired_push_tokens (ERROR); Passworks: NotRegistered.
    void expire_token(const std::string& token);
    // Wallet Union: listed in unknown_push_tokens (ERROR, also with FCM_FAILED);
    // Passworks: InvalidRegistration. Call both expire_token and unknown_token to have a
    // token listed in both Wallet Union lists.
    void unknown_token(const std::string& token);
    // The next `n` requests on `route` ("" = any route) that pass the checks get this
    // failure instead of the normal answer. Rules queue up and apply in order; a request
    // takes the first rule that matches its route (fcm_failed matches walletunion only).
    void fail_next(unsigned n, FailMode mode, const std::string& route = {});
    void fail_next(unsigned n, Failure failure, const std::string& route = {});
    void set_delay(std::chrono::milliseconds delay);  // answer every request after `delay`
    // Also accept `key` on `route` (an issuer's own key beside the options' one).
    void accept_key(const std::string& route, const std::string& key);
    // A rate limiter: for `window` from now, every request on `route` (carrying `key`, when
    // not empty) that passes the checks is answered 429 with `Retry-After: <retry_after>`
    // ("" = the window's seconds left, rounded up), X-Rate-Limit-Limit and
    // X-Rate-Limit-Remaining: 0. Takes precedence over fail_next, which it leaves alone.
    void rate_limit(const std::string& route, std::chrono::milliseconds window,
                    const std::string& retry_after = {}, const std::string& key = {});
    // Normal 2xx answers on `route` carry X-Rate-Limit-Limit: `limit` and
    // X-Rate-Limit-Remaining: `remaining` from now on (a negative `remaining`: no longer).
    void advertise_remaining(const std::string& route, int remaining, int limit = 3000);
    // Forget seeds, expired/unknown tokens, pending failures, delay, accepted keys, rate
    // limits and advertised remainders.
    void reset_script();
    void drop_connections();  // close every open connection (clients see EOF / reset)

    // Observation.
    [[nodiscard]] std::vector<RelayCall> calls() const;  // every request, in answer order
    [[nodiscard]] std::vector<RelayCall> calls(const std::string& route) const;
    [[nodiscard]] std::size_t count() const;  // requests answered or dropped since clear()
    [[nodiscard]] bool wait_for_calls(std::size_t n, std::chrono::milliseconds timeout) const;
    // Waits until every token has been delivered: it was in a call answered 2xx that did
    // not report it (expired/unknown/NotRegistered/InvalidRegistration) and was not an
    // FCM_FAILED reply. Returns false on timeout.
    [[nodiscard]] bool wait_for_tokens(const std::set<std::string>& tokens,
                                       std::chrono::milliseconds timeout) const;
    [[nodiscard]] std::size_t deliveries(const std::string& token) const;  // since clear()
    [[nodiscard]] std::size_t connections_accepted() const;
    [[nodiscard]] std::size_t connections_open() const;
    void clear();  // forget recorded calls, count and deliveries (not the script)

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace cardsmith::test
