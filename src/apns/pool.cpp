#include "apns/pool.hpp"

#include "apns/connection.hpp"
#include "apns/tls.hpp"
#include "common/check.hpp"
#include "common/log.hpp"
#include "common/random.hpp"

namespace cardsmith::apns::detail {
namespace {

// A connection that lived at least this long reconnects at once when it dies; one that
// died sooner counts as a failed attempt (rapid reconnects look like an attack to Apple).
constexpr auto kStableAfter = std::chrono::seconds(1);
constexpr unsigned kMaxStatus = 599;

ClientOptions normalized(ClientOptions options) {
    options.connections = std::max(1u, options.connections);
    options.max_queued = std::max<std::size_t>(1, options.max_queued);
    return options;
}

H2OptionPtr make_h2_option() {
    nghttp2_option* raw = nullptr;
    CARDSMITH_CHECK(nghttp2_option_new(&raw) == 0);
    H2OptionPtr option(raw);
    // Closed streams are not kept for the priority tree: APNs ignores priorities.
    nghttp2_option_set_no_closed_streams(raw, 1);
    return option;
}

struct Failed {
    OpPtr op;
    std::string reason;
    bool timeout;
};

}  // namespace

Pool::Pool(net::any_io_executor executor, ClientOptions options, Credentials credentials)
    : options_(normalized(std::move(options))),
      executor_(std::move(executor)),
      tls_(make_tls_context(options_, credentials)),
      callbacks_(Connection::make_callbacks()),
      h2_option_(make_h2_option()),
      strand_(net::make_strand(executor_)),
      sweep_timer_(strand_),
      tick_(tick_for(options_)),
      slots_(options_.connections) {}

Pool::~Pool() = default;

void Pool::submit(Push push, PushOp::Handler handler,
                  const net::any_io_executor& handler_executor) {
    auto op = std::make_unique<PushOp>(std::move(push), Clock::now() + options_.request_timeout);
    op->set_handler(std::move(handler), handler_executor);
    bool shut = false;
    {
        std::lock_guard lock(mutex_);
        shut = shut_;
        if (!shut_ && queue_.size() < options_.max_queued + options_.max_waiting) {
            queue_.push_back(std::move(op));
            if (!started_) {
                start_locked();
            }
            wake_locked();
            return;
        }
    }
    finish(*op, PushResult{0, shut ? "shutdown" : "queue full", {}, {}});
}

void Pool::shutdown(bool abort) {
    std::deque<OpPtr> queued;
    std::vector<std::shared_ptr<Connection>> connections;
    {
        std::lock_guard lock(mutex_);
        shut_ = true;
        queued.swap(queue_);
        if (abort) {
            for (const auto& weak : closing_) {
                if (auto c = weak.lock()) {
                    connections.push_back(std::move(c));
                }
            }
            closing_.clear();
        }
        for (auto& entry : entries_) {
            if (!abort) {
                closing_.push_back(entry.conn);
            }
            connections.push_back(std::move(entry.conn));
        }
        // Dropping our references breaks the Pool <-> Connection cycle even if the
        // io_context never runs again.
        entries_.clear();
    }
    for (auto& op : queued) {
        finish(*op, PushResult{0, "shutdown", {}, {}});
    }
    for (auto& c : connections) {
        c->close(abort);
    }
    net::post(strand_, [self = shared_from_this()] { self->sweep_timer_.cancel(); });
}

ClientStats Pool::stats() const {
    ClientStats out;
    {
        std::lock_guard lock(mutex_);
        out.connections_up = connections_up_;
        out.connects = connects_;
        out.connect_failures = connect_failures_;
        out.queued = std::min(queue_.size(), options_.max_queued);
        out.waiting = queue_.size() - out.queued;
        for (const auto& entry : entries_) {
            out.in_flight += entry.in_flight;
        }
        out.sent = sent_;
        out.retried = retried_;
        out.refused = refused_;
        out.last_connect_error = last_connect_error_;
    }
    out.timed_out = timed_out_.load(std::memory_order_relaxed);
    for (unsigned status = 0; status <= kMaxStatus; ++status) {
        if (auto n = by_status_[status].load(std::memory_order_relaxed); n != 0) {
            out.by_status.emplace(status, n);
        }
    }
    return out;
}

void Pool::finish(PushOp& op, PushResult result) {
    by_status_[std::min(result.status, kMaxStatus)].fetch_add(1, std::memory_order_relaxed);
    op.complete(std::move(result));
}

void Pool::finish_timeout(PushOp& op, std::string reason) {
    timed_out_.fetch_add(1, std::memory_order_relaxed);
    finish(op, PushResult{0, std::move(reason), {}, {}});
}

void Pool::take(const Connection& c, std::size_t free, std::size_t in_flight, OpList& out) {
    OpList expired;
    std::string reason;
    {
        std::lock_guard lock(mutex_);
        Entry* entry = find_locked(c);
        if (entry == nullptr) {
            return;
        }
        if (entry->draining) {
            free = 0;
        }
        const auto now = queue_.empty() || free == 0 ? Clock::time_point() : Clock::now();
        while (free > 0 && !queue_.empty()) {
            OpPtr op = std::move(queue_.front());
            queue_.pop_front();
            if (op->deadline <= now) {
                expired.push_back(std::move(op));
                continue;
            }
            out.push_back(std::move(op));
            --free;
            ++in_flight;
        }
        sent_ += out.size();
        entry->free = free;
        entry->in_flight = in_flight;
        entry->wake_pending = false;
        if (!queue_.empty()) {
            wake_locked();
        }
        if (!expired.empty()) {
            reason = expiry_reason_locked();
        }
    }
    for (auto& op : expired) {
        finish_timeout(*op, reason);
    }
}

void Pool::on_up(const Connection& c) {
    std::lock_guard lock(mutex_);
    ++connects_;
    ++connections_up_;
    last_connect_error_.clear();
    if (Entry* entry = find_locked(c)) {
        entry->up = true;
    }
}

void Pool::on_draining(const Connection& c, Clock::duration lifetime) {
    std::lock_guard lock(mutex_);
    Entry* entry = find_locked(c);
    if (entry == nullptr || entry->draining) {
        return;
    }
    entry->draining = true;
    entry->free = 0;
    const unsigned slot = entry->slot;
    if (!shut_) {
        Slot& s = slots_[slot];
        s.failures = lifetime >= kStableAfter ? 0 : s.failures + 1;
        connect_slot_locked(slot, backoff_locked(s.failures));  // invalidates `entry`
    }
}

void Pool::on_closed(const Connection& c, bool was_up, Clock::duration lifetime,
                     const std::string& reason, OpList lost) {
    {
        std::lock_guard lock(mutex_);
        if (was_up) {
            --connections_up_;
        } else {
            ++connect_failures_;
            last_connect_error_ = reason;
        }
        auto it = std::find_if(entries_.begin(), entries_.end(),
                               [&](const Entry& e) { return e.conn.get() == &c; });
        if (it != entries_.end()) {
            const bool replaced = it->draining;
            const unsigned slot = it->slot;
            entries_.erase(it);
            if (!shut_ && !replaced) {
                Slot& s = slots_[slot];
                s.failures = was_up && lifetime >= kStableAfter ? 0 : s.failures + 1;
                connect_slot_locked(slot, backoff_locked(s.failures));
            }
        }
    }
    resend(lost, Resend::lost, "connection lost: " + reason);
}

void Pool::resend(OpList& ops, Resend why, std::string_view reason) {
    std::vector<Failed> failed;
    {
        std::lock_guard lock(mutex_);
        const auto now = Clock::now();
        bool requeued = false;
        // Back to the front in their original order: they are the oldest pushes.
        for (auto it = ops.rbegin(); it != ops.rend(); ++it) {
            OpPtr op = std::move(*it);
            if (!op || op->completed()) {
                continue;
            }
            if (why == Resend::refused) {
                ++refused_;
            }
            if (shut_) {
                failed.push_back({std::move(op), "shutdown", false});
            } else if (op->deadline <= now) {
                failed.push_back({std::move(op), "timeout", true});
            } else if (why == Resend::refused && ++op->refusals > options_.max_refusals) {
                failed.push_back({std::move(op), "refused by server", false});
            } else if (why == Resend::lost && ++op->transport_retries > options_.max_resends) {
                failed.push_back({std::move(op), std::string(reason), false});
            } else {
                op->reset_stream();
                queue_.push_front(std::move(op));
                ++retried_;
                requeued = true;
            }
        }
        if (requeued) {
            wake_locked();
        }
    }
    ops.clear();
    for (auto& f : failed) {
        if (f.timeout) {
            finish_timeout(*f.op, std::move(f.reason));
        } else {
            finish(*f.op, PushResult{0, std::move(f.reason), {}, {}});
        }
    }
}

Pool::Entry* Pool::find_locked(const Connection& c) {
    for (auto& entry : entries_) {
        if (entry.conn.get() == &c) {
            return &entry;
        }
    }
    return nullptr;
}

void Pool::start_locked() {
    started_ = true;
    for (unsigned slot = 0; slot < slots_.size(); ++slot) {
        connect_slot_locked(slot, Clock::duration::zero());
    }
    net::post(strand_, [self = shared_from_this()] { self->arm_sweep(); });
}

void Pool::connect_slot_locked(unsigned slot, Clock::duration delay) {
    auto c = std::make_shared<Connection>(shared_from_this(), slot, next_connection_id_++);
    entries_.push_back(Entry{c, slot});
    c->start(delay);
}

void Pool::wake_locked() {
    Entry* best = nullptr;
    for (auto& entry : entries_) {
        if (entry.up && !entry.draining && entry.free > 0 &&
            (best == nullptr || entry.free > best->free)) {
            best = &entry;
        }
    }
    // A connection with a wake-up pending will pull; if it cannot take everything, its
    // take() wakes the next one.
    if (best == nullptr || best->wake_pending) {
        return;
    }
    best->wake_pending = true;
    best->conn->wake();
}

Pool::Clock::duration Pool::backoff_locked(unsigned failures) const {
    if (failures == 0) {
        return Clock::duration::zero();
    }
    const auto min = std::chrono::duration_cast<Clock::duration>(options_.reconnect_delay_min);
    const auto max = std::chrono::duration_cast<Clock::duration>(options_.reconnect_delay_max);
    auto delay = min;
    for (unsigned i = 1; i < failures && delay < max; ++i) {
        delay *= 2;
    }
    delay = std::min(delay, max);
    // Jitter in [0.5, 1]: clients that lost the same server do not return in step.
    const auto half = static_cast<std::uint64_t>(delay.count() / 2);
    return Clock::duration(static_cast<Clock::rep>(half + random::uniform(half + 1)));
}

std::string Pool::expiry_reason_locked() const {
    if (connections_up_ == 0 && !last_connect_error_.empty()) {
        return "connect failed: " + last_connect_error_;
    }
    return "timeout";
}

void Pool::arm_sweep() {
    sweep_timer_.expires_after(tick_);
    sweep_timer_.async_wait([self = shared_from_this()](error_code ec) {
        if (!ec) {
            self->sweep();
        }
    });
}

void Pool::sweep() {
    OpList expired;
    std::string reason;
    {
        std::lock_guard lock(mutex_);
        if (shut_) {
            return;
        }
        const auto now = Clock::now();
        for (auto& op : queue_) {
            if (op->deadline <= now) {
                expired.push_back(std::move(op));
            }
        }
        if (!expired.empty()) {
            std::erase_if(queue_, [](const OpPtr& op) { return !op; });
            reason = expiry_reason_locked();
        }
    }
    for (auto& op : expired) {
        finish_timeout(*op, reason);
    }
    arm_sweep();
}

}  // namespace cardsmith::apns::detail
