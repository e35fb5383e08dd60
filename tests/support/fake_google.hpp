#pragma once
// A fake of Google's OAuth token endpoint and of the Google Wallet REST API for loyalty
// classes and objects (google-wallet.md §4-§6, §10), for integration tests of our Google
// Wallet client: a real HTTPS (HTTP/1.1, keep-alive) server on 127.0.0.1 with a TLS
// certificate from the dev PKI (`server.pem` / `server.key` of `cardsmith dev-certs`).
//
//   POST /token                       RFC 7523 JWT-bearer grant: form body, RS256 assertion
//                                     verified against the service account's public key
//   /walletobjects/v1/loyaltyClass    insert (POST), list (GET ?issuerId=)
//   /walletobjects/v1/loyaltyClass/{id}             get, replace (PUT), patch (PATCH)
//   /walletobjects/v1/loyaltyClass/{id}/addMessage  POST {"message":{...}}
//   /walletobjects/v1/loyaltyObject...              the same for objects (list ?classId=)
//
// Rules the fake enforces (⚠ where google-wallet.md is silent the choice is ours, noted):
// bearer token issued by this fake, not revoked, not expired, else 401 UNAUTHENTICATED;
// ids `^[0-9]+\.[A-Za-z0-9._-]+$` with the configured issuer id as prefix, else 400
// invalidResource; insert of an existing id 409 ALREADY_EXISTS (AlreadyExistsException);
// get/replace/patch/addMessage of a missing id 404; object writes need an existing classId
// (else 404 IssuerClassNotFoundException) and an upper-case state; class writes need
// "reviewStatus":"UNDER_REVIEW" (stored as "APPROVED"); PATCH replaces top-level fields
// (arrays and sub-objects wholesale, JSON null removes a field); PUT replaces everything;
// at most `max_messages` messages (addMessage beyond: 400); `notifyPreference` is never
// stored; TEXT_AND_NOTIFY messages and writes with notifyPreference NOTIFY_ON_UPDATE
// count against `notify_limit` per resource per `notify_window`; beyond it the request is
// refused (nothing changes) with `quota_status` and reason "QuotaExceededException"
// (⚠ real code undocumented; default 400). Also ours: addMessage appends a message whose id
// is already present (addMessage is not idempotent, §6) unless reject_duplicate_message_ids
// (then 409); API bodies need Content-Type application/json and the token body
// application/x-www-form-urlencoded (else 400); read-only fields a client should not send
// (classReference, hasUsers, hasLinkedDevice, kind, version, review) are dropped, not
// refused; lower-case object states are refused (deprecated); GET of an object adds
// classReference; list ignores paging and answers 403 for another issuerId; a wrong
// method on a known path is 405; token errors use Google's codes (invalid_grant for the
// assertion, unsupported_grant_type, invalid_scope, invalid_request).
// Error bodies use Google's envelope {"error":{"code","message","errors":[{"domain",
// "reason","message"}],"status"}}; token errors are {"error","error_description"}.
//
// Threads: one io thread of its own; every public member is thread-safe. The destructor
// closes all connections abruptly and joins the thread; it is safe with clients connected
// or requests in flight.
#include <boost/json/object.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cardsmith::test {

struct FakeGoogleOptions {
    std::string cert_file, key_file;  // TLS server identity (PEM)
    // The service account: either its JSON key file (client_email and private_key are
    // taken from it, the public key derived with OpenSSL) or `public_key_pem` (a PUBLIC
    // KEY, private key or certificate PEM) plus `client_email`. A non-empty `client_email`
    // overrides the file's.
    std::string service_account_file;
    std::string public_key_pem;
    std::string client_email;
    std::string token_audience;  // expected `aud` of assertions; empty = token_url()
    std::string issuer_id = "3388000000022123456";
    std::int64_t expires_in = 3599;  // seconds; also how long issued tokens stay valid
    unsigned notify_limit = 3;       // notifications per resource per window (§6)
    std::chrono::seconds notify_window{24 * 3600};
    unsigned quota_status = 400;                // HTTP status of a QuotaExceededException reply
    std::size_t max_messages = 10;              // per class / object
    unsigned retry_after_seconds = 1;           // Retry-After on scripted 429s; 0 = none
    bool reject_duplicate_message_ids = false;  // addMessage with a present id: 409
};

// One request as received, and what the fake answered.
struct GoogleCall {
    std::string method;                          // "POST", "GET", ...
    std::string target;                          // as sent, query included
    std::string path;                            // target without the query
    std::map<std::string, std::string> headers;  // lower-case names (last value wins)
    std::string body;
    unsigned status = 0;
    std::string response_body;
    std::uint64_t connection = 0;              // 1-based, in accept order
    std::chrono::steady_clock::time_point at;  // when it was answered
};

// A notification Google would have sent for a resource (accepted requests only).
struct GoogleNotification {
    enum class Kind { message, field_update };
    Kind kind = Kind::message;
    std::string message_id;  // Kind::message: the message's id (may be empty)
    std::chrono::system_clock::time_point at;
};

class FakeGoogle {
public:
    static constexpr std::string_view kGrantType = "urn:ietf:params:oauth:grant-type:jwt-bearer";
    static constexpr std::string_view kScope =
        "https://www.googleapis.com/auth/wallet_object.issuer";
    static constexpr std::string_view kApiPath = "/walletobjects/v1";
    static constexpr std::string_view kTokenPath = "/token";

    // Loads the TLS identity and the key, listens on 127.0.0.1:0 and starts its thread.
    // Throws std::runtime_error (unreadable files, no key, no client_email).
    explicit FakeGoogle(FakeGoogleOptions options);
    ~FakeGoogle();
    FakeGoogle(const FakeGoogle&) = delete;
    FakeGoogle& operator=(const FakeGoogle&) = delete;

    [[nodiscard]] std::uint16_t port() const;
    [[nodiscard]] std::string base_url() const;         // https://127.0.0.1:<port>/walletobjects/v1
    [[nodiscard]] std::string token_url() const;        // https://127.0.0.1:<port>/token
    [[nodiscard]] const std::string& audience() const;  // the `aud` assertions must carry
    [[nodiscard]] const std::string& client_email() const;
    [[nodiscard]] const std::string& issuer_id() const;

    // --- tokens ---------------------------------------------------------------------------
    [[nodiscard]] std::size_t token_requests() const;  // every request to /token
    [[nodiscard]] std::size_t tokens_issued() const;   // answered 200
    void revoke_tokens();                              // every token issued so far now gets 401
    void set_expires_in(std::int64_t seconds);         // for tokens issued from now on

    // --- scripting ------------------------------------------------------------------------
    // The next `count` requests whose path starts with `path_prefix` are answered with
    // `status` and nothing else happens (no auth check, no state change). An empty prefix
    // or "*" matches every API call (not /token); "/token" scripts the token endpoint.
    // Full paths, e.g. "/walletobjects/v1/loyaltyObject". Rules queue up; a request takes
    // the first matching one. 429 carries Retry-After (options.retry_after_seconds).
    void fail_next(std::string path_prefix, unsigned status, unsigned count = 1);
    void clear_failures();
    void set_delay(std::chrono::milliseconds delay);  // before every answer (timer, not sleep)
    void set_quota_status(unsigned status);           // reply to an over-budget notification
    // Moves every recorded notification `by` into the past (the 24 h budget window without
    // waiting 24 h).
    void age_notifications(std::chrono::seconds by);

    // --- state ----------------------------------------------------------------------------
    [[nodiscard]] std::optional<boost::json::object> object(const std::string& id) const;
    [[nodiscard]] std::optional<boost::json::object> klass(const std::string& id) const;
    [[nodiscard]] std::vector<std::string> object_ids() const;
    [[nodiscard]] std::vector<std::string> class_ids() const;
    // Stores a resource as if inserted earlier (no checks; a class becomes APPROVED).
    void seed_class(boost::json::object resource);
    void seed_object(boost::json::object resource);
    // Accepted notifications, oldest first (all time; the budget counts the last window).
    [[nodiscard]] std::vector<GoogleNotification> notifications(const std::string& object_id) const;
    [[nodiscard]] std::vector<GoogleNotification> class_notifications(
        const std::string& class_id) const;

    // --- recording ------------------------------------------------------------------------
    [[nodiscard]] std::vector<GoogleCall> calls() const;
    void clear_calls();
    // Re-evaluates `predicate` (called without any lock held; it may call this object)
    // after every answered request, at least every 50 ms, until it is true or `timeout`.
    [[nodiscard]] bool wait_for(const std::function<bool()>& predicate,
                                std::chrono::milliseconds timeout) const;
    [[nodiscard]] bool wait_for_calls(std::size_t n, std::chrono::milliseconds timeout) const;
    [[nodiscard]] std::size_t connections_accepted() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace cardsmith::test
