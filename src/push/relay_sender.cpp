#include "push/relay_sender.hpp"

#include <boost/json.hpp>
#include <set>

#include "common/log.hpp"
#include "http/client.hpp"

namespace cardsmith::push {
namespace json = boost::json;

namespace {

apns::PushResult result(unsigned status, std::string reason) {
    apns::PushResult r;
    r.status = status;
    r.reason = std::move(reason);
    return r;
}

// A relay's HTTP status in APNs' terms (the per-token answers of Wallet Union aside).
apns::PushResult from_status(int status, std::string_view kind) {
    if (status >= 200 && status < 300) return result(200, {});
    if (status == 429) return result(429, "TooManyRequests");
    if (status == 401 || status == 403) return result(403, "RelayRefusedKey");
    if (status >= 500) return result(static_cast<unsigned>(status), "RelayUnavailable");
    return result(400, std::string(kind) + " answered " + std::to_string(status));
}

}  // namespace

std::size_t default_relay_batch(std::string_view kind) {
    if (kind == "walletunion_fcm") return 50;
    if (kind == "walletunion_hms" || kind == "pass2u") return 1000;
    return 100;  // walletpasses, passwallet: undocumented, a guess (configurable)
}

RelaySender::RelaySender(net::any_io_executor executor, net::ssl::context& tls,
                         RelayOptions options, std::string topic)
    : strand_(net::make_strand(executor)),
      tls_(tls),
      options_(std::move(options)),
      topic_(std::move(topic)),
      timer_(strand_),
      batch_(std::max<std::size_t>(1, options_.batch)) {
    // Paths are appended to the configured base (Pass2U): no doubled slash.
    while (!options_.url.empty() && options_.url.back() == '/') options_.url.pop_back();
}

void RelaySender::send(Delivery delivery, Completion done) {
    net::post(strand_, [self = shared_from_this(), delivery = std::move(delivery),
                        done = std::move(done)]() mutable {
        self->add(std::move(delivery), std::move(done));
    });
}

RelaySender::Stats RelaySender::stats() const {
    std::lock_guard lock(stats_mutex_);
    return stats_;
}

void RelaySender::add(Delivery delivery, Completion done) {
    auto& waiting = pending_[delivery.route];
    waiting.push_back({std::move(delivery.push.device_token), std::move(done)});
    if (waiting.size() >= batch_) {
        flush(delivery.route);
        return;
    }
    arm_timer();
}

void RelaySender::arm_timer() {
    if (timer_armed_) {
        return;
    }
    timer_armed_ = true;
    timer_.expires_after(options_.linger);
    timer_.async_wait([self = shared_from_this()](error_code) {
        self->timer_armed_ = false;
        std::vector<std::string> routes;
        for (const auto& [route, items] : self->pending_) {
            routes.push_back(route);
        }
        for (const auto& route : routes) {
            self->flush(route);
        }
    });
}

void RelaySender::flush(const std::string& route) {
    auto it = pending_.find(route);
    if (it == pending_.end()) {
        return;
    }
    auto items = std::move(it->second);
    pending_.erase(it);
    // Requests of at most batch_ tokens.
    for (std::size_t at = 0; at < items.size(); at += batch_) {
        auto batch = std::make_shared<Batch>();
        batch->route = route;
        const auto end = std::min(items.size(), at + batch_);
        for (std::size_t i = at; i < end; ++i) {
            batch->items.push_back(std::move(items[i]));
        }
        net::co_spawn(strand_, post(shared_from_this(), std::move(batch)), net::detached);
    }
}

std::string RelaySender::request_url(const std::string& route) const {
    if (options_.kind == "pass2u") {
        return options_.url + "/" + topic_ + "/push";
    }
    if (options_.kind == "passwallet") {
        return route + "/v1/pushUpdates";
    }
    return options_.url;
}

std::string RelaySender::request_body(const std::vector<Waiting>& items) const {
    json::array tokens;
    for (const auto& w : items) {
        tokens.emplace_back(w.token);
    }
    if (options_.kind == "pass2u") {
        return json::serialize(json::object{{"registrationIds", std::move(tokens)}});
    }
    if (options_.kind == "passwallet") {
        return json::serialize(
            json::object{{"passTypeID", topic_}, {"pushTokens", std::move(tokens)}});
    }
    json::object body{{"passTypeIdentifier", topic_}, {"pushTokens", std::move(tokens)}};
    if (options_.kind == "walletunion_fcm" || options_.kind == "walletunion_hms") {
        // HMS tokens must say so; the two families never share a request.
        body["hms"] = options_.kind == "walletunion_hms";
    }
    return json::serialize(body);
}

net::awaitable<void> RelaySender::post(std::shared_ptr<RelaySender> self,
                                       std::shared_ptr<Batch> batch) {
    http_server::OutgoingRequest request;
    request.url = self->request_url(batch->route);
    request.body = self->request_body(batch->items);
    request.timeout = self->options_.timeout;
    request.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
    if (!self->options_.api_key.empty()) {
        request.headers.emplace_back(
            self->options_.kind == "pass2u" ? "x-api-key" : "Authorization",
            self->options_.api_key);
    }
    {
        std::lock_guard lock(self->stats_mutex_);
        ++self->stats_.requests;
        self->stats_.tokens += batch->items.size();
    }
    int status = 0;
    std::string body;
    std::string failure;
    try {
        auto res = co_await http_server::async_fetch(request, self->tls_);
        status = res.status;
        body = std::move(res.body);
    } catch (const boost::system::system_error& e) {
        failure = e.code().message();
    } catch (const std::exception& e) {
        // Anything else must still complete every waiting push (a detached coroutine's
        // exception would be swallowed and leave them claimed until their lease ends).
        failure = e.what();
    }
    // Too many tokens for the relay: halve the request (and the route's batch size).
    if (status == 413 && batch->items.size() > 1) {
        {
            std::lock_guard lock(self->stats_mutex_);
            ++self->stats_.splits;
        }
        const std::size_t half = batch->items.size() / 2;
        self->batch_ = std::max<std::size_t>(1, std::min(self->batch_, half));
        log::warn("push relay: request too large, splitting",
                  {{"relay", self->options_.kind}, {"tokens", std::to_string(half)}});
        auto first = std::make_shared<Batch>();
        auto second = std::make_shared<Batch>();
        first->route = second->route = batch->route;
        for (std::size_t i = 0; i < batch->items.size(); ++i) {
            (i < half ? first : second)->items.push_back(std::move(batch->items[i]));
        }
        co_await post(self, first);
        co_await post(self, second);
        co_return;
    }
    apns::PushResult common =
        status == 0 ? result(0, failure) : from_status(status, self->options_.kind);
    std::set<std::string, std::less<>> dead;  // tokens the relay says will never deliver
    const bool wallet_union =
        self->options_.kind == "walletunion_fcm" || self->options_.kind == "walletunion_hms";
    if (wallet_union && status != 0 && status != 413 && status != 429) {
        // Its JSON answer decides, whatever the HTTP status (android-wallets.md §1), except
        // that an ERROR naming no tokens is the relay's own error (a refused key, an outage:
        // the fake and, presumably, the relay send {"status":"ERROR"} with empty lists on
        // 401/5xx), which the HTTP status classifies: pause, retry or give up.
        const bool ok_status = status >= 200 && status < 300;
        error_code ec;
        auto parsed = json::parse(body, ec);
        const auto* o = !ec ? parsed.if_object() : nullptr;
        const auto* verdict = o != nullptr ? o->if_contains("status") : nullptr;
        if (verdict != nullptr && verdict->is_string()) {
            const auto& v = verdict->as_string();
            if (v == "OK") {
                if (ok_status) common = result(200, {});
            } else if (v == "FCM_FAILED") {
                common = result(503, "FCM_FAILED");  // the push provider failed: retry
            } else if (v == "ERROR") {
                for (const char* list : {"expired_push_tokens", "unknown_push_tokens"}) {
                    const auto* tokens = o->if_contains(list);
                    if (tokens == nullptr || !tokens->is_array()) continue;
                    for (const auto& t : tokens->as_array()) {
                        if (t.is_string()) dead.emplace(t.as_string());
                    }
                }
                if (!dead.empty()) {
                    // The tokens not listed went out (unless the relay itself failed).
                    if (status < 500) common = result(200, {});
                } else if (ok_status) {
                    common = result(400, "walletunion ERROR without tokens");
                }
            }
        }
    }
    if (common.status == 400 || common.status == 403) {
        log::warn("push relay refused a request", {{"relay", self->options_.kind},
                                                   {"status", std::to_string(status)},
                                                   {"body", body.substr(0, 200)}});
    }
    for (auto& w : batch->items) {
        if (dead.contains(w.token)) {
            w.done(result(410, "Unregistered"));
        } else {
            w.done(common);
        }
    }
}

}  // namespace cardsmith::push
