#include "push/dispatcher.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "common/random.hpp"
#include "common/time_format.hpp"

namespace cardsmith::push {
namespace {

// Routes (senders with their health) are per APNs topic, per relay and pass type id, or
// one per Google row kind (a campaign message's topic names its campaign).
std::string route_key(const storage::OutboxItem& item) {
    if (item.kind.starts_with("google_")) {
        return item.kind;
    }
    return item.kind == "apns" ? item.topic : item.kind + " " + item.topic;
}

// The wallet of the registrations an outbox row pushes (registrations.wallet).
std::string wallet_of(const storage::OutboxItem& item) {
    return item.kind == "apns" ? "apple" : item.kind;
}

std::string wallet_label(const storage::OutboxItem& item) { return wallet_of(item); }

// The wallet a push counts for in the per-day series; webhooks are not pushes.
std::string counted_wallet(const storage::OutboxItem& item) {
    if (item.kind == "webhook") {
        return {};
    }
    return item.kind.starts_with("google_") ? "google" : wallet_of(item);
}

using Kind = storage::OutboxSettlement::Kind;

// APNs reasons are short CamelCase words; anything else (a transport error's text) is
// not a label value we want in /metrics.
std::string reason_label(const apns::PushResult& r) {
    if (r.status == 0) {
        return "transport";
    }
    if (r.reason.empty() || r.reason.size() > 40 ||
        !std::all_of(r.reason.begin(), r.reason.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; })) {
        return std::to_string(r.status);
    }
    return r.reason;
}

std::string describe(const apns::PushResult& r) {
    std::string out = std::to_string(r.status);
    if (!r.reason.empty()) {
        out += ' ';
        out += r.reason.substr(0, 200);
    }
    return out;
}

}  // namespace

Dispatcher::Dispatcher(net::any_io_executor executor, storage::Database& db,
                       http_server::Metrics& metrics, SenderFor senders, DispatcherOptions options)
    : strand_(net::make_strand(executor)),
      db_(db),
      metrics_(metrics),
      senders_(std::move(senders)),
      options_(options),
      wake_timer_(strand_),
      settle_timer_(strand_),
      stop_timer_(strand_) {
    options_.batch = std::max(1, options_.batch);
    options_.max_in_flight = std::max<std::size_t>(2, options_.max_in_flight);
}

Dispatcher::~Dispatcher() = default;

std::chrono::milliseconds Dispatcher::backoff(const DispatcherOptions& o, int attempt) {
    auto delay = o.retry_base;
    for (int i = 1; i < attempt && delay < o.retry_max; ++i) {
        delay *= 2;
    }
    delay = std::min(delay, o.retry_max);
    // Jitter in [delay/2, delay]: retries of one burst spread out instead of arriving at
    // APNs together, and the wait never collapses to nothing.
    const auto half = delay.count() / 2;
    const auto jitter =
        half > 0 ? static_cast<std::int64_t>(random::uniform(static_cast<std::uint64_t>(half) + 1))
                 : 0;
    return std::chrono::milliseconds(delay.count() - half + jitter);
}

void Dispatcher::start() {
    const int released = db_.store().release_outbox_claims(now_unix_millis(), options_.instance);
    if (released > 0) {
        log::info("push: released claims of the previous run",
                  {{"rows", std::to_string(released)}, {"instance", options_.instance}});
    }
    running_ = true;
    net::co_spawn(strand_, run(), [](std::exception_ptr e) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                log::error("push dispatcher stopped", {{"error", ex.what()}});
            }
        }
    });
}

void Dispatcher::wake() {
    net::post(strand_, [self = shared_from_this()] {
        self->woken_ = true;
        self->wake_timer_.cancel();
    });
}

void Dispatcher::stop(std::chrono::milliseconds grace, std::function<void()> done) {
    net::post(strand_, [self = shared_from_this(), grace, done = std::move(done)]() mutable {
        self->stopping_ = true;
        self->on_stopped_ = std::move(done);
        self->wake_timer_.cancel();
        self->settle_timer_.cancel();
        self->flush();
        self->stop_timer_.expires_after(grace);
        self->stop_timer_.async_wait([self](const error_code& ec) {
            if (ec || !self->on_stopped_) {
                return;
            }
            log::warn("push: stopping with pushes still in flight",
                      {{"in_flight", std::to_string(self->in_flight_)}});
            std::exchange(self->on_stopped_, nullptr)();
        });
        self->maybe_finish_stop();
    });
}

void Dispatcher::maybe_finish_stop() {
    if (stopping_ && !running_ && in_flight_ == 0 && flushing_ == 0 && pending_.empty() &&
        on_stopped_) {
        stop_timer_.cancel();
        std::exchange(on_stopped_, nullptr)();
    }
}

net::awaitable<void> Dispatcher::run() {
    auto self = shared_from_this();
    const auto lease_ms = static_cast<std::int64_t>(options_.lease.count());
    while (!stopping_) {
        woken_ = false;
        const auto low_water = options_.max_in_flight / 2;
        if (in_flight_ < low_water) {
            const int limit = static_cast<int>(std::min<std::size_t>(
                static_cast<std::size_t>(options_.batch), options_.max_in_flight - in_flight_));
            const std::int64_t now = now_unix_millis();
            std::vector<storage::OutboxItem> items;
            try {
                items = co_await db_.run([&](storage::Store& s) {
                    return s.claim_outbox(limit, now, lease_ms, options_.instance);
                });
            } catch (const std::exception& e) {
                log::error("push: claiming from the outbox failed", {{"error", e.what()}});
            }
            const bool full = static_cast<int>(items.size()) == limit;
            for (auto& item : items) {
                dispatch(std::move(item), now);
            }
            if (full && !stopping_) {
                continue;  // more is due: claim again (in-flight permitting)
            }
        }
        if (const auto now = now_unix_millis(); now - last_counts_ms_ >= 5000) {
            last_counts_ms_ = now;
            try {
                auto counts = co_await db_.run([](storage::Store& s) { return s.outbox_counts(); });
                metrics_.gauge_set("cardsmith_outbox_rows", "Outbox rows by state",
                                   {{"state", "pending"}}, static_cast<double>(counts.pending));
                metrics_.gauge_set("cardsmith_outbox_rows", "Outbox rows by state",
                                   {{"state", "sending"}}, static_cast<double>(counts.sending));
                metrics_.gauge_set("cardsmith_outbox_rows", "Outbox rows by state",
                                   {{"state", "dead"}}, static_cast<double>(counts.dead));
                metrics_.gauge_set(
                    "cardsmith_outbox_oldest_pending_seconds",
                    "Age of the oldest pending outbox row", {},
                    counts.pending > 0
                        ? static_cast<double>(now_unix_millis() - counts.oldest_pending_ms) / 1000.0
                        : 0.0);
            } catch (const std::exception& e) {
                log::warn("push: reading outbox counts failed", {{"error", e.what()}});
            }
        }
        if (woken_ || stopping_) {
            continue;
        }
        wake_timer_.expires_after(options_.poll);
        error_code ec;
        co_await wake_timer_.async_wait(net::redirect_error(net::use_awaitable, ec));
    }
    running_ = false;
    flush();
    maybe_finish_stop();
}

Dispatcher::Route* Dispatcher::route(const storage::OutboxItem& item) {
    const std::string key = route_key(item);
    auto it = routes_.find(key);
    if (it == routes_.end()) {
        auto sender = senders_(item.kind, item.topic);
        if (!sender) {
            return nullptr;
        }
        it = routes_.emplace(key, Route{std::move(sender), true, {}, 0}).first;
        std::lock_guard lock(health_mutex_);
        health_.push_back({key, true, {}});
    }
    return &it->second;
}

void Dispatcher::dispatch(storage::OutboxItem item, std::int64_t now) {
    const auto defer = [&](std::int64_t until, std::string why) {
        settle(item, Kind::defer, until, std::move(why));
    };
    if (stopping_) {
        defer(now, "stopped before sending");
        return;
    }
    Route* r = nullptr;
    try {
        r = route(item);
    } catch (const std::exception& e) {
        log::error("push: cannot open a channel", {{"topic", item.topic}, {"error", e.what()}});
    }
    if (r == nullptr) {
        // No identity signs for the topic (yet: its upload may come back): wait, not die.
        metrics_.counter_add(
            "cardsmith_pushes_total", "Pushes by wallet, outcome and reason",
            {{"wallet", wallet_label(item)}, {"outcome", "deferred"}, {"reason", "NoRoute"}});
        defer(now + options_.identity_pause.count(), item.kind == "apns"
                                                         ? "no identity signs for " + item.topic
                                                         : "no relay configured for " + item.kind);
        return;
    }
    if (!r->healthy) {
        if (r->paused_until_ms > now || r->probing) {
            defer(std::max(r->paused_until_ms, now + 1000), "identity paused: " + r->reason);
            return;
        }
        r->probing = true;  // this push tests whether APNs accepts the identity again
    }
    ++in_flight_;
    // Offline devices get the push when they come back within a day (apple-wallet.md §3.2).
    const std::int64_t expiration = now / 1000 + 24 * 3600;
    Delivery delivery{{item.target, item.topic, "{}", expiration, {}}, item.kind, item.route};
    auto done = [self = shared_from_this(), item, now](apns::PushResult result) mutable {
        net::post(self->strand_, [self, item = std::move(item), now, result = std::move(result)] {
            self->on_result(item, now, result);
        });
    };
    try {
        r->sender->send(std::move(delivery), std::move(done));
    } catch (const std::exception& e) {
        --in_flight_;
        r->probing = false;
        log::error("push: sending failed", {{"topic", item.topic}, {"error", e.what()}});
        defer(now + options_.retry_base.count(), std::string("send failed: ") + e.what());
    }
}

void Dispatcher::set_health(const std::string& topic, bool healthy, const std::string& reason) {
    std::lock_guard lock(health_mutex_);
    for (auto& h : health_) {
        if (h.topic == topic) {
            h = {topic, healthy, reason};
        }
    }
}

void Dispatcher::on_result(const storage::OutboxItem& item, std::int64_t sent_ms,
                           const apns::PushResult& result) {
    --in_flight_;
    auto action = apns::classify(result);
    // A TLS alert about our certificate (expired, revoked) never becomes an HTTP 403.
    if (result.status == 0 && result.reason.find("certificate") != std::string::npos) {
        action = apns::Action::stop_identity;
    }
    const auto now = now_unix_millis();
    std::string outcome;
    Route* r = nullptr;
    const std::string key = route_key(item);
    if (auto it = routes_.find(key); it != routes_.end()) {
        r = &it->second;
        r->probing = false;
    }
    switch (action) {
        case apns::Action::done:
            outcome = "delivered";
            if (r != nullptr && !r->healthy) {
                r->healthy = true;
                r->reason.clear();
                r->paused_until_ms = 0;
                log::info("push: identity works again", {{"topic", item.topic}});
                set_health(key, true, {});
                woken_ = true;  // its deferred pushes may go now
                wake_timer_.cancel();
            }
            settle(item, Kind::done, 0, {});
            break;
        case apns::Action::drop_token: {
            outcome = "token_dropped";
            // 410 names when the token stopped being valid; a device that registered
            // again after that keeps its registration (apple-wallet.md §3.3).
            const std::int64_t unless_after = result.timestamp_ms ? *result.timestamp_ms : sent_ms;
            settle(item, Kind::drop_token, 0, describe(result), unless_after);
            break;
        }
        case apns::Action::retry_later: {
            const int attempt = item.attempts + 1;
            // Only 429 (this device, or our token updates, too often) counts against
            // max_attempts. A push that never got an answer (unreachable, timed out, idle
            // connection) or got 500/503 from a service having trouble only dies of old
            // age: an outage of APNs or Google, however long its first day, loses nothing.
            const bool spends_attempt = result.status == 429;
            const bool too_old =
                item.created_at_ms > 0 && now - item.created_at_ms > options_.max_age.count();
            if ((spends_attempt && attempt >= options_.max_attempts) || too_old) {
                outcome = "dead";
                log::warn("push: giving up", {{"token", apns::token_prefix(item.target)},
                                              {"attempts", std::to_string(attempt)},
                                              {"last", describe(result)}});
                settle(item, Kind::dead, now, describe(result));
            } else {
                outcome = "retry";
                settle(item, Kind::retry, now + backoff(options_, attempt).count(),
                       describe(result));
            }
            break;
        }
        case apns::Action::stop_identity:
            outcome = "identity_error";
            if (r != nullptr) {
                if (r->healthy) {
                    log::error(
                        "push: APNs refused this identity; its pushes are paused until it works "
                        "(check the certificate and pass type id)",
                        {{"topic", item.topic}, {"status", describe(result)}});
                }
                r->healthy = false;
                r->reason = describe(result);
                r->paused_until_ms = now + options_.identity_pause.count();
                set_health(key, false, r->reason);
            }
            settle(item, Kind::defer, now + options_.identity_pause.count(), describe(result));
            break;
        case apns::Action::our_bug:
            outcome = "dead";
            log::error("push: APNs rejected the request; not retried",
                       {{"token", apns::token_prefix(item.target)}, {"status", describe(result)}});
            settle(item, Kind::dead, now, describe(result));
            break;
    }
    metrics_.counter_add(
        "cardsmith_pushes_total", "Pushes by wallet, outcome and reason",
        {{"wallet", wallet_label(item)}, {"outcome", outcome}, {"reason", reason_label(result)}});
    if (in_flight_ + 1 == options_.max_in_flight / 2 && !stopping_) {
        woken_ = true;  // back under the low-water mark: claim more
        wake_timer_.cancel();
    }
    maybe_finish_stop();
}

void Dispatcher::settle(const storage::OutboxItem& item, Kind kind, std::int64_t not_before_ms,
                        std::string error, std::int64_t unless_after_ms) {
    storage::OutboxSettlement s;
    s.id = item.id;
    s.lease_until_ms = item.lease_until_ms;
    s.kind = kind;
    s.not_before_ms = not_before_ms;
    s.error = std::move(error);
    if (kind == Kind::drop_token) {
        s.token = item.target;
        s.topic = item.topic;
        s.unless_after_ms = unless_after_ms;
        s.wallet = wallet_of(item);
    }
    s.program_id = item.program_id;
    s.counted_wallet = counted_wallet(item);
    pending_.push_back(std::move(s));
    if (pending_.size() >= options_.settle_batch) {
        flush();
        return;
    }
    if (!settle_scheduled_) {
        settle_scheduled_ = true;
        settle_timer_.expires_after(options_.settle_delay);
        settle_timer_.async_wait([self = shared_from_this()](const error_code&) {
            self->settle_scheduled_ = false;
            self->flush();
        });
    }
}

void Dispatcher::flush() {
    if (pending_.empty()) {
        return;
    }
    auto batch = std::make_shared<std::vector<storage::OutboxSettlement>>(std::move(pending_));
    pending_.clear();
    ++flushing_;
    net::co_spawn(strand_, write(std::move(batch)),
                  [self = shared_from_this()](std::exception_ptr) {
                      --self->flushing_;
                      self->maybe_finish_stop();
                  });
}

// A member coroutine, not a lambda: a lambda's captures would die with the closure
// before the coroutine resumes.
net::awaitable<void> Dispatcher::write(
    std::shared_ptr<std::vector<storage::OutboxSettlement>> batch) {
    // A busy database must not strand pushes APNs already accepted: try again a few
    // times; if it still fails the rows stay claimed and are sent again after the lease.
    net::steady_timer pause(strand_);
    for (int attempt = 1;; ++attempt) {
        const auto now = now_unix_millis();
        std::string failure;
        try {
            (void)co_await db_.run([&](storage::Store& s) {
                s.settle_outbox(*batch, now);
                return true;
            });
            co_return;
        } catch (const std::exception& e) {
            failure = e.what();
        }
        if (attempt == 5) {
            log::error("push: writing outcomes failed; the rows are sent again after their lease",
                       {{"rows", std::to_string(batch->size())}, {"error", failure}});
            co_return;
        }
        log::warn("push: writing outcomes failed, retrying",
                  {{"rows", std::to_string(batch->size())}, {"error", failure}});
        pause.expires_after(std::chrono::milliseconds(100 << attempt));
        error_code ec;
        co_await pause.async_wait(net::redirect_error(net::use_awaitable, ec));
    }
}

void Dispatcher::forget(const std::string& topic) {
    net::post(strand_, [self = shared_from_this(), topic] {
        self->routes_.erase(topic);
        std::lock_guard lock(self->health_mutex_);
        std::erase_if(self->health_, [&](const IdentityHealth& h) { return h.topic == topic; });
    });
}

std::vector<IdentityHealth> Dispatcher::health() const {
    std::lock_guard lock(health_mutex_);
    return health_;
}

bool Dispatcher::healthy() const {
    std::lock_guard lock(health_mutex_);
    return std::all_of(health_.begin(), health_.end(),
                       [](const IdentityHealth& h) { return h.healthy; });
}

}  // namespace cardsmith::push
