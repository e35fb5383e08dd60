#include "push/relay_sender.hpp"

#include <boost/json.hpp>
#include <functional>
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
    if (status == 429) return result(429, "TooManyRequests");  // not reached: post() holds
    if (status == 401 || status == 403) return result(403, "RelayRefusedKey");
    if (status >= 500) return result(static_cast<unsigned>(status), "RelayUnavailable");
    return result(400, std::string(kind) + " answered " + std::to_string(status));
}

// Wallet Union's JSON answer decides, whatever the HTTP status (android-wallets.md §1),
// except that an ERROR naming no tokens is the relay's own error (a refused key, an outage:
// the fake and, presumably, the relay send {"status":"ERROR"} with empty lists on
// 401/5xx), which the HTTP status classifies: pause, retry or give up. Fills `dead` with
// the tokens it reports expired or unknown.
void read_wallet_union_verdict(int status, const std::string& body, apns::PushResult& common,
                               std::set<std::string, std::less<>>& dead) {
    const bool ok_status = status >= 200 && status < 300;
    error_code ec;
    auto parsed = json::parse(body, ec);
    const auto* o = !ec ? parsed.if_object() : nullptr;
    const auto* verdict = o != nullptr ? o->if_contains("status") : nullptr;
    if (verdict == nullptr || !verdict->is_string()) {
        return;
    }
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

std::string seconds_text(std::chrono::milliseconds d) {
    return std::to_string((d.count() + 999) / 1000);
}

}  // namespace

std::string_view relay_of(std::string_view kind) {
    if (kind == "walletunion_fcm" || kind == "walletunion_hms") return "walletunion";
    if (kind == "walletpasses" || kind == "pass2u") return kind;
    return {};
}

void RelayKeys::set_default(std::string_view relay, std::string key) {
    std::unique_lock lock(mutex_);
    defaults_[std::string(relay)] = std::move(key);
    ++generation_;
}

void RelayKeys::set(const std::string& topic, Keys keys) {
    std::unique_lock lock(mutex_);
    if (keys.empty()) {
        by_topic_.erase(topic);
    } else {
        by_topic_[topic] = std::move(keys);
    }
    ++generation_;
}

std::string RelayKeys::key(std::string_view relay, std::string_view topic) const {
    std::shared_lock lock(mutex_);
    if (auto t = by_topic_.find(topic); t != by_topic_.end()) {
        if (auto k = t->second.find(relay); k != t->second.end() && !k->second.empty()) {
            return k->second;
        }
    }
    auto d = defaults_.find(relay);
    return d != defaults_.end() ? d->second : std::string();
}

std::optional<RelayKeys::Keys> RelayKeys::parse(std::string_view text) {
    error_code ec;
    auto v = json::parse(json::string_view(text.data(), text.size()), ec);
    if (ec || !v.is_object()) {
        return std::nullopt;
    }
    Keys out;
    for (const auto& [name, key] : v.as_object()) {
        if (!key.is_string()) {
            return std::nullopt;
        }
        out.emplace(std::string(name), std::string(key.as_string()));
    }
    return out;
}

RelayThrottle::Clock::time_point RelayThrottle::paused_until(const std::string& lane) const {
    std::lock_guard lock(mutex_);
    auto it = lanes_.find(lane);
    return it != lanes_.end() ? it->second.until : Clock::time_point{};
}

void RelayThrottle::pause(const std::string& lane, Clock::time_point until) {
    std::lock_guard lock(mutex_);
    auto& l = lanes_[lane];
    l.until = std::max(l.until, until);
}

int RelayThrottle::strike(const std::string& lane) {
    std::lock_guard lock(mutex_);
    return ++lanes_[lane].strikes;
}

void RelayThrottle::clear_strikes(const std::string& lane) {
    std::lock_guard lock(mutex_);
    if (auto it = lanes_.find(lane); it != lanes_.end()) {
        it->second.strikes = 0;
    }
}

std::size_t RelayThrottle::reserve(std::size_t n) {
    std::lock_guard lock(mutex_);
    const std::size_t granted = std::min(n, max_held_ - std::min(max_held_, held_));
    held_ += granted;
    return granted;
}

void RelayThrottle::release(std::size_t n) {
    std::lock_guard lock(mutex_);
    held_ -= std::min(held_, n);
}

std::size_t default_relay_batch(std::string_view kind) {
    if (kind == "walletunion_fcm") return 50;
    if (kind == "walletunion_hms" || kind == "pass2u") return 1000;
    return 100;  // walletpasses, passwallet: undocumented, a guess (configurable)
}

// What post() read from the relay's answer.
struct RelaySender::Answer {
    int status = 0;  // 0: no answer (transport failure)
    std::string body;
    std::optional<std::string> retry_after;
    std::optional<std::string> remaining;  // X-Rate-Limit-Remaining
    std::string failure;
};

RelaySender::RelaySender(net::any_io_executor executor, net::ssl::context& tls,
                         RelayOptions options, std::string topic)
    : strand_(net::make_strand(executor)),
      tls_(tls),
      options_(std::move(options)),
      topic_(std::move(topic)),
      timer_(strand_),
      resume_timer_(strand_),
      batch_(std::max<std::size_t>(1, options_.batch)) {
    // Paths are appended to the configured base (Pass2U): no doubled slash.
    while (!options_.url.empty() && options_.url.back() == '/') options_.url.pop_back();
    if (!options_.throttle) {
        options_.throttle = std::make_shared<RelayThrottle>();
    }
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

void RelaySender::count(std::uint64_t Stats::*field, std::uint64_t n) {
    std::lock_guard lock(stats_mutex_);
    stats_.*field += n;
}

const std::string& RelaySender::current_key() {
    if (!options_.keys) {
        return options_.api_key;
    }
    // Read the generation first: a change racing with the lookup is seen next time.
    const auto generation = options_.keys->generation();
    if (generation != key_generation_) {
        key_ = options_.keys->key(relay_of(options_.kind), topic_);
        key_generation_ = generation;
    }
    return key_;
}

bool RelaySender::key_required() const {
    return options_.kind == "walletunion_fcm" || options_.kind == "walletunion_hms" ||
           options_.kind == "pass2u";
}

std::string RelaySender::lane(const std::string& route, const std::string& key) const {
    // The endpoint the requests go to (both Wallet Union builds share one) and the key,
    // as a fingerprint: lanes are map keys, and a key must not end up where a lane is shown.
    std::string endpoint = options_.kind == "passwallet" ? route : options_.url;
    return endpoint + " #" + std::to_string(std::hash<std::string>{}(key));
}

void RelaySender::add(Delivery delivery, Completion done) {
    GroupKey group{std::move(delivery.route), current_key()};
    auto& waiting = pending_[group].items;
    waiting.push_back({std::move(delivery.push.device_token), std::move(done), Clock::now()});
    if (waiting.size() >= batch_) {
        flush(group);
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
        self->flush_all();
    });
}

void RelaySender::arm_resume(Clock::time_point at) {
    if (resume_armed_ && resume_at_ <= at) {
        return;
    }
    resume_armed_ = true;
    resume_at_ = at;
    resume_timer_.expires_at(at);  // cancels an earlier wait: its handler sees aborted
    resume_timer_.async_wait([self = shared_from_this()](error_code ec) {
        if (ec == net::error::operation_aborted) {
            return;
        }
        self->resume_armed_ = false;
        self->flush_all();  // a lane paused again (another sender's 429) re-arms
    });
}

void RelaySender::flush_all() {
    std::vector<GroupKey> groups;
    for (const auto& [group, waiting] : pending_) {
        groups.push_back(group);
    }
    for (const auto& group : groups) {
        flush(group);
    }
}

void RelaySender::not_sent(std::vector<Waiting>& items, const std::string& why) {
    if (items.empty()) {
        return;
    }
    count(&Stats::not_sent, items.size());
    // Status 0: never reached the relay, so the dispatcher retries without spending the
    // row's attempts.
    for (auto& w : items) {
        w.done(result(0, why));
    }
    items.clear();
}

void RelaySender::flush(const GroupKey& group) {
    auto it = pending_.find(group);
    if (it == pending_.end()) {
        return;
    }
    auto& g = it->second;
    const auto now = Clock::now();
    const auto until = options_.throttle->paused_until(lane(group.first, group.second));
    if (until > now && !g.items.empty()) {
        // Rate-limited: the pushes wait for the lane while their claim lasts (max_hold
        // from their arrival) and the budget allows; the others go back unsent.
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - now);
        const std::string why = "relay rate limit: paused for " + seconds_text(left) + " s";
        std::vector<Waiting> keep, drop;
        for (auto& w : g.items) {
            (until - w.received > options_.max_hold ? drop : keep).push_back(std::move(w));
        }
        if (keep.size() < g.held) {
            options_.throttle->release(g.held - keep.size());
            g.held = keep.size();
        } else {
            g.held += options_.throttle->reserve(keep.size() - g.held);
        }
        while (keep.size() > g.held) {  // the newest beyond the budget
            drop.push_back(std::move(keep.back()));
            keep.pop_back();
        }
        g.items = std::move(keep);
        not_sent(drop, why);
        if (g.items.empty()) {
            pending_.erase(it);
            return;
        }
        arm_resume(until);
        return;
    }
    auto items = std::move(g.items);
    options_.throttle->release(g.held);
    pending_.erase(it);
    if (group.second.empty() && key_required()) {
        // The identity's key was removed and there is no default: as the relay would.
        for (auto& w : items) {
            w.done(result(403, "RelayKeyMissing"));
        }
        return;
    }
    // Requests of at most batch_ tokens.
    for (std::size_t at = 0; at < items.size(); at += batch_) {
        auto batch = std::make_shared<Batch>();
        batch->route = group.first;
        batch->key = group.second;
        const auto end = std::min(items.size(), at + batch_);
        for (std::size_t i = at; i < end; ++i) {
            batch->items.push_back(std::move(items[i]));
        }
        net::co_spawn(strand_, post(shared_from_this(), std::move(batch)), net::detached);
    }
}

void RelaySender::requeue(Batch& batch) {
    const GroupKey group{batch.route, batch.key};
    auto& waiting = pending_[group].items;
    // Ahead of anything that arrived since: they were claimed first.
    waiting.insert(waiting.begin(), std::make_move_iterator(batch.items.begin()),
                   std::make_move_iterator(batch.items.end()));
    batch.items.clear();
    flush(group);
}

// Rate limiting: a 429 pauses the lane (and its pushes wait), X-Rate-Limit-Remaining: 0
// pauses it briefly after a delivery.
void RelaySender::after_answer(const Batch& batch, const Answer& answer) {
    const std::string l = lane(batch.route, batch.key);
    std::optional<std::chrono::milliseconds> asked;
    if (answer.retry_after) {
        if (auto d = http_server::retry_after_delay(*answer.retry_after,
                                                    std::chrono::system_clock::now())) {
            asked = std::min<std::chrono::milliseconds>(*d, options_.max_pause);
        }
    }
    std::chrono::milliseconds wait{0};
    if (answer.status == 429) {
        const int strikes = options_.throttle->strike(l);
        if (asked) {
            // "Retry-After: 0" must not become a loop of requests.
            wait = std::max<std::chrono::milliseconds>(*asked, std::chrono::seconds(1));
        } else {
            wait = options_.rate_limit_backoff;
            for (int i = 1; i < strikes && wait < options_.max_pause; ++i) wait *= 2;
        }
        wait = std::min(wait, options_.max_pause);
    } else {
        options_.throttle->clear_strikes(l);
        if (answer.remaining && *answer.remaining == "0") {
            wait = asked ? *asked : options_.slow_down;
        }
    }
    if (wait.count() <= 0) {
        return;
    }
    count(&Stats::rate_limited, 1);
    options_.throttle->pause(l, Clock::now() + wait);
    log::warn(answer.status == 429 ? "push relay: rate limited, pausing"
                                   : "push relay: rate limit reached, slowing down",
              {{"relay", options_.kind},
               {"status", std::to_string(answer.status)},
               {"seconds", seconds_text(wait)}});
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
    // Paused since the batch was formed (another request's 429, the second half of a
    // split): it waits with the others.
    if (self->options_.throttle->paused_until(self->lane(batch->route, batch->key)) >
        Clock::now()) {
        self->requeue(*batch);
        co_return;
    }
    http_server::OutgoingRequest request;
    request.url = self->request_url(batch->route);
    request.body = self->request_body(batch->items);
    request.timeout = self->options_.timeout;
    request.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
    if (!batch->key.empty()) {
        request.headers.emplace_back(
            self->options_.kind == "pass2u" ? "x-api-key" : "Authorization", batch->key);
    }
    self->count(&Stats::requests, 1);
    self->count(&Stats::tokens, batch->items.size());
    Answer answer;
    try {
        auto res = co_await http_server::async_fetch(request, self->tls_);
        answer.status = res.status;
        if (auto v = res.header("Retry-After")) answer.retry_after = std::string(*v);
        if (auto v = res.header("X-Rate-Limit-Remaining")) answer.remaining = std::string(*v);
        answer.body = std::move(res.body);
    } catch (const boost::system::system_error& e) {
        answer.failure = e.code().message();
    } catch (const std::exception& e) {
        // Anything else must still complete every waiting push (a detached coroutine's
        // exception would be swallowed and leave them claimed until their lease ends).
        answer.failure = e.what();
    }
    const int status = answer.status;
    if (status != 0) {
        self->after_answer(*batch, answer);
    }
    if (status == 429) {
        // Not an attempt: the pushes wait here for the lane (or go back as not sent).
        self->requeue(*batch);
        co_return;
    }
    // Too many tokens for the relay: halve the request (and the route's batch size).
    if (status == 413 && batch->items.size() > 1) {
        self->count(&Stats::splits, 1);
        const std::size_t half = batch->items.size() / 2;
        self->batch_ = std::max<std::size_t>(1, std::min(self->batch_, half));
        log::warn("push relay: request too large, splitting",
                  {{"relay", self->options_.kind}, {"tokens", std::to_string(half)}});
        auto first = std::make_shared<Batch>();
        auto second = std::make_shared<Batch>();
        first->route = second->route = batch->route;
        first->key = second->key = batch->key;
        for (std::size_t i = 0; i < batch->items.size(); ++i) {
            (i < half ? first : second)->items.push_back(std::move(batch->items[i]));
        }
        co_await post(self, first);
        co_await post(self, second);
        co_return;
    }
    apns::PushResult common =
        status == 0 ? result(0, answer.failure) : from_status(status, self->options_.kind);
    std::set<std::string, std::less<>> dead;  // tokens the relay says will never deliver
    const bool wallet_union =
        self->options_.kind == "walletunion_fcm" || self->options_.kind == "walletunion_hms";
    if (wallet_union && status != 0 && status != 413) {
        read_wallet_union_verdict(status, answer.body, common, dead);
    }
    if (common.status == 400 || common.status == 403) {
        log::warn("push relay refused a request", {{"relay", self->options_.kind},
                                                   {"status", std::to_string(status)},
                                                   {"body", answer.body.substr(0, 200)}});
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
