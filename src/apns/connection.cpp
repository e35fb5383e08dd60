#include "apns/connection.hpp"

#include "apns/tls.hpp"
#include "common/log.hpp"

namespace cardsmith::apns::detail {
namespace {

// Enough for a burst of HEADERS+DATA frames; the rest waits for the next write.
constexpr std::size_t kMaxWrite = 256 * 1024;

std::string authority_for(const ClientOptions& options) {
    std::string host =
        options.host.find(':') != std::string::npos ? "[" + options.host + "]" : options.host;
    return options.port == 443 ? host : host + ":" + std::to_string(options.port);
}

bool closed_by_peer(const error_code& ec) {
    return ec == net::error::eof || ec == net::ssl::error::stream_truncated ||
           ec == net::error::connection_reset;
}

}  // namespace

Connection::Connection(std::shared_ptr<Pool> pool, unsigned slot, std::uint64_t id)
    : pool_(std::move(pool)),
      options_(pool_->options()),
      slot_(slot),
      id_(id),
      authority_(authority_for(options_)),
      tick_(tick_for(options_)),
      strand_(net::make_strand(pool_->executor())),
      resolver_(strand_),
      stream_(strand_, pool_->tls()),
      timer_(strand_) {
    write_buffer_.reserve(64 * 1024);
}

Connection::~Connection() {
    // Only reached without teardown() when the io_context was destroyed with our
    // operations pending: delete the session before the ops its streams point to.
    callbacks_muted_ = true;
    session_.reset();
}

void Connection::start(Clock::duration delay) {
    net::post(strand_, [self = shared_from_this(), delay] {
        if (self->state_ != State::idle) {
            return;
        }
        self->state_ = State::connecting;
        if (delay <= Clock::duration::zero()) {
            self->arm_connect_timer();
            self->do_resolve();
            return;
        }
        const auto generation = ++self->timer_generation_;
        self->timer_.expires_after(delay);
        self->timer_.async_wait([self, generation](error_code) {
            if (self->state_ == State::connecting && generation == self->timer_generation_) {
                self->arm_connect_timer();
                self->do_resolve();
            }
        });
    });
}

void Connection::wake() {
    net::post(strand_, [self = shared_from_this()] { self->pump(); });
}

void Connection::close(bool abort) {
    net::post(strand_, [self = shared_from_this(), abort] {
        if (self->state_ == State::closed) {
            return;
        }
        if (abort || self->state_ != State::up) {
            self->teardown("shutdown");
            return;
        }
        self->draining_ = true;  // the Pool is shut: no replacement wanted
        self->maybe_finish_draining();
    });
}

void Connection::arm_connect_timer() {
    const auto generation = ++timer_generation_;
    timer_.expires_after(options_.connect_timeout);
    timer_.async_wait([self = shared_from_this(), generation](error_code) {
        if (generation == self->timer_generation_ && self->state_ != State::closed) {
            self->teardown("connect timeout");
        }
    });
}

void Connection::do_resolve() {
    // A fresh lookup per connection (apple-wallet.md §3.4: no cached DNS answers).
    resolver_.async_resolve(
        options_.host, std::to_string(options_.port),
        [self = shared_from_this()](error_code ec, const tcp::resolver::results_type& results) {
            if (self->state_ == State::closed) {
                return;
            }
            if (ec) {
                self->teardown("resolve " + self->options_.host + ": " + ec.message());
                return;
            }
            self->do_connect(results);
        });
}

void Connection::do_connect(const tcp::resolver::results_type& endpoints) {
    net::async_connect(stream_.next_layer(), endpoints,
                       [self = shared_from_this()](error_code ec, const tcp::endpoint&) {
                           if (self->state_ == State::closed) {
                               return;
                           }
                           if (ec) {
                               self->teardown("connect: " + ec.message());
                               return;
                           }
                           error_code ignored;
                           self->stream_.next_layer().set_option(tcp::no_delay(true), ignored);
                           self->do_handshake();
                       });
}

void Connection::do_handshake() {
    if (!configure_peer_check(stream_.native_handle(), options_.host)) {
        teardown("TLS: cannot set the server name check");
        return;
    }
    stream_.async_handshake(net::ssl::stream_base::client,
                            [self = shared_from_this()](error_code ec) {
                                if (self->state_ == State::closed) {
                                    return;
                                }
                                if (ec) {
                                    self->teardown("TLS handshake: " + ec.message());
                                    return;
                                }
                                if (!negotiated_h2(self->stream_.native_handle())) {
                                    self->teardown("TLS: the server did not select ALPN h2");
                                    return;
                                }
                                if (!self->start_session()) {
                                    self->teardown("nghttp2: cannot start the session");
                                    return;
                                }
                                // With TLS 1.3 a refused client certificate shows only now, as an
                                // alert on read; the connection counts as up when the server's
                                // SETTINGS arrive.
                                self->state_ = State::awaiting_settings;
                                self->do_read();
                                self->flush();
                            });
}

bool Connection::start_session() {
    nghttp2_session* raw = nullptr;
    if (nghttp2_session_client_new3(&raw, pool_->h2_callbacks(), this, pool_->h2_option(),
                                    nullptr) != 0) {
        return false;
    }
    session_.reset(raw);
    const nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1u << 20},
    };
    return nghttp2_submit_settings(raw, NGHTTP2_FLAG_NONE, settings, std::size(settings)) == 0;
}

void Connection::do_read() {
    reading_ = true;
    stream_.async_read_some(
        net::buffer(read_buffer_),
        [self = shared_from_this()](error_code ec, std::size_t n) { self->on_read(ec, n); });
}

void Connection::on_read(error_code ec, std::size_t n) {
    reading_ = false;
    if (state_ == State::closed) {
        return;
    }
    if (ec) {
        teardown(closed_by_peer(ec) ? "closed by the server" : "read: " + ec.message());
        return;
    }
    last_read_ = Clock::now();
    const auto rv = nghttp2_session_mem_recv(session_.get(), read_buffer_.data(), n);
    if (rv < 0) {
        teardown(std::string("HTTP/2: ") + nghttp2_strerror(static_cast<int>(rv)));
        return;
    }
    after_input();
    if (state_ != State::closed && !reading_ && nghttp2_session_want_read(session_.get()) != 0) {
        do_read();
    }
}

void Connection::after_input() {
    hand_back_resends();
    if (settings_received_ && state_ == State::awaiting_settings) {
        become_up();
    }
    if (goaway_received_ && !draining_) {
        if (state_ != State::up) {
            teardown("GOAWAY before SETTINGS: " + goaway_note_);
            return;
        }
        start_draining();
    }
    pump();
    maybe_finish_draining();
}

void Connection::pump() {
    if (state_ == State::up && !draining_) {
        batch_.clear();
        pool_->take(*this, free_slots(), streams_.size(), batch_);
        bool exhausted = false;
        for (auto& op : batch_) {
            if (exhausted || !submit(op)) {
                // Out of stream ids (or nghttp2 refused it): not sent, so it goes back.
                exhausted = true;
                refused_.push_back(std::move(op));
            }
        }
        batch_.clear();
        if (exhausted) {
            start_draining();
        }
    }
    flush();
}

void Connection::flush() {
    if (writing_ || !session_ || state_ == State::closed) {
        return;
    }
    write_buffer_.clear();
    for (;;) {
        const std::uint8_t* data = nullptr;
        const auto n = nghttp2_session_mem_send(session_.get(), &data);
        if (n < 0) {
            teardown(std::string("HTTP/2 send: ") + nghttp2_strerror(static_cast<int>(n)));
            return;
        }
        if (n == 0) {
            break;
        }
        write_buffer_.insert(write_buffer_.end(), data, data + n);
        if (write_buffer_.size() >= kMaxWrite) {
            break;
        }
    }
    // mem_send may close streams (cancelled HEADERS): their ops go back now.
    hand_back_resends();
    if (write_buffer_.empty()) {
        if (nghttp2_session_want_read(session_.get()) == 0 &&
            nghttp2_session_want_write(session_.get()) == 0) {
            teardown(draining_ ? "drained" : "HTTP/2 session ended");
        }
        return;
    }
    writing_ = true;
    net::async_write(
        stream_, net::buffer(write_buffer_),
        [self = shared_from_this()](error_code ec, std::size_t) { self->on_write(ec); });
}

void Connection::on_write(error_code ec) {
    writing_ = false;
    if (state_ == State::closed) {
        return;
    }
    if (ec) {
        teardown(closed_by_peer(ec) ? "closed by the server" : "write: " + ec.message());
        return;
    }
    flush();
}

void Connection::become_up() {
    state_ = State::up;
    up_at_ = last_read_ = Clock::now();
    arm_tick();  // also retires the connect timer
    pool_->on_up(*this);
    log::info("apns connection up", {{"conn", std::to_string(id_)},
                                     {"slot", std::to_string(slot_)},
                                     {"max_streams", std::to_string(free_slots())}});
}

void Connection::arm_tick() {
    const auto generation = ++timer_generation_;
    timer_.expires_after(tick_);
    timer_.async_wait([self = shared_from_this(), generation](error_code) {
        if (generation == self->timer_generation_ && self->state_ == State::up) {
            self->on_tick();
        }
    });
}

void Connection::on_tick() {
    const auto now = Clock::now();
    expire_streams(now);
    if (ping_outstanding_ && now - ping_sent_at_ >= options_.ping_timeout) {
        teardown("no PING ack");
        return;
    }
    if (!ping_outstanding_ && now - last_read_ >= options_.ping_interval) {
        if (nghttp2_submit_ping(session_.get(), NGHTTP2_FLAG_NONE, nullptr) == 0) {
            ping_outstanding_ = true;
            ping_sent_at_ = now;
        }
    }
    pump();
    maybe_finish_draining();
    if (state_ == State::up) {
        arm_tick();
    }
}

void Connection::start_draining() {
    if (draining_) {
        return;
    }
    draining_ = true;
    log::info("apns connection draining", {{"conn", std::to_string(id_)},
                                           {"open_streams", std::to_string(streams_.size())},
                                           {"goaway", goaway_note_}});
    pool_->on_draining(*this, Clock::now() - up_at_);
}

void Connection::maybe_finish_draining() {
    if (!draining_ || state_ != State::up || !streams_.empty() || goaway_sent_) {
        return;
    }
    goaway_sent_ = true;
    // Our GOAWAY; once it is written nghttp2 wants neither read nor write and flush()
    // closes the connection.
    if (nghttp2_session_terminate_session(session_.get(), NGHTTP2_NO_ERROR) != 0) {
        teardown("drained");
        return;
    }
    flush();
}

void Connection::teardown(std::string reason) {
    if (state_ == State::closed) {
        return;
    }
    const bool was_up = state_ == State::up;
    const auto lifetime = was_up ? Clock::now() - up_at_ : Clock::duration::zero();
    state_ = State::closed;
    ++timer_generation_;
    timer_.cancel();
    resolver_.cancel();
    error_code ignored;
    stream_.next_layer().close(ignored);  // aborts the pending read and write
    callbacks_muted_ = true;
    session_.reset();

    OpList lost;
    for (auto& [stream_id, op] : streams_) {
        if (op->completed()) {
            continue;
        }
        if (op->status != 0 && op->response_done) {
            PushResult result{op->status, {}, {}, std::move(op->apns_id)};
            if (result.status != 200) {
                parse_error_body(op->body, result);
            }
            pool_->finish(*op, std::move(result));
            continue;
        }
        lost.push_back(std::move(op));
    }
    streams_.clear();
    hand_back_resends();
    const bool quiet = reason == "drained" || reason == "shutdown";
    log::write(quiet ? log::Level::info : log::Level::warn,
               was_up ? "apns connection closed" : "apns connect failed",
               {{"conn", std::to_string(id_)},
                {"slot", std::to_string(slot_)},
                {"reason", reason},
                {"resending", std::to_string(lost.size())}});
    pool_->on_closed(*this, was_up, lifetime, reason, std::move(lost));
}

}  // namespace cardsmith::apns::detail
