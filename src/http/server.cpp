#include "http/server.hpp"

#include <exception>
#include <utility>

#include "common/check.hpp"
#include "common/log.hpp"
#include "http/server_state.hpp"
#include "http/session.hpp"

namespace cardsmith::http_server {

struct Server::State : detail::ServerState {
    using ServerState::ServerState;
};

namespace detail {
namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
constexpr std::chrono::milliseconds kAcceptBackoff{50};

// Starts a session for an accepted socket, or refuses it when stopping or over the limit.
void admit(const std::shared_ptr<ServerState>& state, tcp::socket socket) {
    error_code ignored;
    if (state->stopping.load()) {
        socket.close(ignored);
        return;
    }
    if (state->active.load() >= state->options.max_connections) {
        socket.close(ignored);
        state->metrics.counter_add("cardsmith_http_connections_rejected_total",
                                   "Connections closed at once because of max_connections.", {});
        log::warn("http connection refused",
                  {{"reason", "max_connections"},
                   {"limit", std::to_string(state->options.max_connections)}});
        return;
    }
    std::shared_ptr<SessionBase> session;
    {
        std::lock_guard lock(state->mutex);
        const std::uint64_t id = ++state->next_session_id;
        if (state->tls) {
            session =
                std::make_shared<Session<TlsStream>>(state, std::move(socket), id, state->tls);
        } else {
            session = std::make_shared<Session<PlainStream>>(state, std::move(socket), id, nullptr);
        }
        state->sessions.emplace(id, session);
        state->active.fetch_add(1);
    }
    session->start();
}

// Accepts until the acceptor closes. Runs on the state's strand.
net::awaitable<void> listen(std::shared_ptr<ServerState> state) {
    for (;;) {
        tcp::socket socket(net::make_strand(state->ioc));
        auto [ec] = co_await state->acceptor.async_accept(socket, use_tuple);
        if (ec == net::error::operation_aborted || !state->acceptor.is_open()) {
            co_return;
        }
        if (ec) {
            // e.g. out of file descriptors: back off instead of spinning.
            log::warn("http accept failed", {{"error", ec.message()}});
            net::steady_timer backoff(state->strand, kAcceptBackoff);
            co_await backoff.async_wait(use_tuple);
            continue;
        }
        admit(state, std::move(socket));
    }
}

}  // namespace

void ServerState::session_ended(std::uint64_t id) {
    {
        std::lock_guard lock(mutex);
        sessions.erase(id);
    }
    if (active.fetch_sub(1) == 1 && stopping.load()) {
        net::post(strand, [self = shared_from_this()] { self->finish_drain(); });
    }
}

std::vector<std::shared_ptr<SessionBase>> ServerState::live_sessions() {
    std::vector<std::shared_ptr<SessionBase>> out;
    std::lock_guard lock(mutex);
    for (const auto& [id, weak] : sessions) {
        if (auto session = weak.lock()) {
            out.push_back(std::move(session));
        }
    }
    return out;
}

void ServerState::begin_stop(std::chrono::milliseconds grace, std::function<void()> on_drained) {
    if (on_drained) {
        drain_callbacks.push_back(std::move(on_drained));
    }
    if (drained) {
        finish_drain();  // an earlier stop() already drained: run the new callback
        return;
    }
    if (stop_started) {
        return;
    }
    stop_started = true;
    error_code ignored;
    acceptor.close(ignored);
    log::info("http stopping", {{"connections", std::to_string(active.load())},
                                {"grace_ms", std::to_string(grace.count())}});
    for (const auto& session : live_sessions()) {
        session->post_stop();
    }
    if (active.load() == 0) {
        finish_drain();
        return;
    }
    grace_timer.expires_after(grace);
    grace_timer.async_wait([self = shared_from_this()](error_code ec) {
        if (ec || self->drained) {
            return;
        }
        log::warn("http grace period expired",
                  {{"connections", std::to_string(self->active.load())}});
        for (const auto& session : self->live_sessions()) {
            session->post_force_close();
        }
        self->finish_drain();
    });
}

void ServerState::finish_drain() {
    if (!stop_started) {
        return;  // begin_stop() will see active == 0 itself
    }
    if (!drained) {
        drained = true;
        grace_timer.cancel();
        log::info("http drained");
    }
    auto callbacks = std::move(drain_callbacks);
    drain_callbacks.clear();
    for (auto& callback : callbacks) {
        callback();
    }
}

}  // namespace detail

Server::Server(net::io_context& ioc, ServerOptions options, const Router& router, Metrics& metrics)
    : state_(std::make_shared<State>(ioc, options, router, metrics)) {}

Server::~Server() {
    if (!state_->stopping.load()) {
        stop(std::chrono::milliseconds{0}, {});
    }
}

void Server::start(const tcp::endpoint& endpoint) {
    CARDSMITH_CHECK(!state_->stopping.load());
    tcp::acceptor& acceptor = state_->acceptor;
    acceptor.open(endpoint.protocol());
    acceptor.set_option(net::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(net::socket_base::max_listen_connections);
    state_->local_endpoint = acceptor.local_endpoint();
    log::info("http listening", {{"address", state_->local_endpoint.address().to_string()},
                                 {"port", std::to_string(state_->local_endpoint.port())}});
    std::shared_ptr<detail::ServerState> shared = state_;
    net::co_spawn(state_->strand, detail::listen(shared), [](std::exception_ptr error) {
        if (!error) {
            return;
        }
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            log::error("http listener failed", {{"error", e.what()}});
        } catch (...) {
            log::error("http listener failed", {{"error", "unknown exception"}});
        }
    });
}

tcp::endpoint Server::local_endpoint() const { return state_->local_endpoint; }

void Server::stop(std::chrono::milliseconds grace, std::function<void()> on_drained) {
    // Set here, not on the strand, so responses being written now already say close.
    state_->stopping.store(true);
    net::post(state_->strand, [state = state_, grace, cb = std::move(on_drained)]() mutable {
        state->begin_stop(grace, std::move(cb));
    });
}

std::size_t Server::active_connections() const { return state_->active.load(); }

void Server::set_tls(std::shared_ptr<net::ssl::context> tls) {
    CARDSMITH_CHECK(tls != nullptr);
    std::lock_guard lock(state_->mutex);
    CARDSMITH_CHECK(state_->tls != nullptr);  // plain HTTP does not turn into HTTPS
    state_->tls = std::move(tls);
}

}  // namespace cardsmith::http_server
