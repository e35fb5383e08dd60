#pragma once
// Google Wallet for Cardsmith (issue 5; google-wallet.md): the REST calls that keep a
// program's LoyaltyClass and each saved card's LoyaltyObject equal to ours, and the
// "Add to Google Wallet" save URL. Inserts are idempotent (409 → PATCH to our state) and
// updates heal missing resources (404 → insert, the class first), since nothing can be
// deleted at Google and saved cards outlive our rows (pitfall 12). A 401 drops the access
// token and retries once. Thread-safe.
#include <boost/asio/ssl/context.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/net.hpp"
#include "config/config.hpp"
#include "domain/models.hpp"
#include "google/jwt.hpp"
#include "google/rest_client.hpp"
#include "google/token_source.hpp"

namespace cardsmith::google {

struct Outcome {
    int status = 0;       // Google's HTTP status; 0: not reached (transport, no token)
    std::string message;  // Google's error message, or why it was not reached
    [[nodiscard]] bool ok() const { return status >= 200 && status < 300; }
};

// Google's error envelope {"error":{"code":..,"message":"..."}}: the message, else the
// body's first 200 bytes.
[[nodiscard]] std::string error_message(std::string_view body);

// Pruning before addMessage: from the object's JSON, the messages to keep (the newest five
// still shown at `now_iso`, oldest first), or nullopt when nothing is to change (no message
// list, or the message `id` is there already).
[[nodiscard]] std::optional<boost::json::array> messages_to_keep(std::string_view object_json,
                                                                 std::string_view id,
                                                                 std::string_view now_iso);

class Wallet {
public:
    // Reads the service account; throws std::runtime_error naming the config key.
    Wallet(net::any_io_executor executor, const config::GoogleConfig& config,
           std::string public_url);
    ~Wallet();

    [[nodiscard]] const std::string& issuer_id() const { return issuer_; }
    // The card number in one of our object ids, or empty.
    [[nodiscard]] std::string card_number_of(std::string_view object_id) const;
    [[nodiscard]] std::string class_id(const domain::Program& p) const;
    [[nodiscard]] std::string object_id(const domain::Card& c) const;

    // Insert, or bring the existing one to our state.
    [[nodiscard]] net::awaitable<Outcome> async_ensure_class(const domain::Program& p);
    [[nodiscard]] net::awaitable<Outcome> async_ensure_object(const domain::Program& p,
                                                              const domain::Card& c);
    // PATCH the object's changing fields (balance, tier, offer); `notify` asks Google for
    // a field-update notification. A missing object (or class) is inserted.
    [[nodiscard]] net::awaitable<Outcome> async_update_object(const domain::Program& p,
                                                              const domain::Card& c, bool notify);
    // A campaign's message on one card (addMessage, google-wallet.md §6). The id is
    // deterministic, so a retry that finds it present (409) counts as done; an object with
    // ten messages is pruned to its newest live ones first; a missing object is inserted.
    // With `notify` Google may refuse for the notification budget (QuotaExceeded): the
    // outcome says so and the caller sends it again silently.
    struct Message {
        std::string id;
        std::string header;
        std::string body;
        bool notify = false;
        std::int64_t end_seconds = 0;  // shown until then (0: no end)
    };
    [[nodiscard]] net::awaitable<Outcome> async_add_message(const domain::Program& p,
                                                            const domain::Card& c,
                                                            const Message& m);
    [[nodiscard]] static bool over_budget(const Outcome& o);
    // Start-up probe (google-wallet.md pitfall 2): lists one class of the issuer, so a
    // service account that is not a user of the issuer shows as a clear configuration
    // error at once instead of as failed updates later.
    [[nodiscard]] net::awaitable<Outcome> async_probe();
    // PATCH the class after a redesign; inserted when missing.
    [[nodiscard]] net::awaitable<Outcome> async_update_class(const domain::Program& p);
    // https://pay.google.com/gp/v/save/<skinny JWT naming the object>.
    [[nodiscard]] std::string save_url(const domain::Program& p, const domain::Card& c) const;

    [[nodiscard]] std::size_t token_refreshes() const { return tokens_.refreshes(); }
    [[nodiscard]] TokenSource::Health token_health() const { return tokens_.health(); }
    [[nodiscard]] std::size_t connections_opened() const { return api_.connections_opened(); }

private:
    net::awaitable<Outcome> call(http::verb method, const std::string& path,
                                 const boost::json::object* body,
                                 std::string* response_body = nullptr);
    net::awaitable<Outcome> prune_messages(const std::string& path, const std::string& id);

    std::string issuer_, public_url_, api_path_, callback_url_;
    std::vector<std::string> origins_;
    net::ssl::context tls_;
    ServiceAccount account_;
    RestClient api_;
    std::unique_ptr<RestClient> token_client_;  // the token URL's origin, when not the API's
    TokenSource tokens_;
};

}  // namespace cardsmith::google
