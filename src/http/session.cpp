#include "http/session.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/system/system_error.hpp>
#include <boost/url/parse.hpp>
#include <cstdio>
#include <exception>
#include <limits>
#include <unordered_map>
#include <utility>

#include "common/log.hpp"
#include "common/random.hpp"
#include "http/query.hpp"
#include "http/response.hpp"
#include "http/security_headers.hpp"

namespace cardsmith::http_server::detail {
namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
constexpr std::size_t kReadChunk = 4096;
constexpr std::chrono::seconds kTlsShutdownTimeout{1};

std::string endpoint_string(const tcp::endpoint& ep) {
    const std::string address = ep.address().to_string();
    if (ep.address().is_v6()) {
        return "[" + address + "]:" + std::to_string(ep.port());
    }
    return address + ":" + std::to_string(ep.port());
}

std::string format_ms(std::chrono::steady_clock::duration d) {
    std::array<char, 32> buf{};
    std::snprintf(buf.data(), buf.size(), "%.3f",
                  std::chrono::duration<double, std::milli>(d).count());
    return buf.data();
}

// Client disconnects, deadlines and cancellation end a connection quietly (STYLE.md "Errors").
bool is_quiet(error_code ec) {
    return ec == net::error::eof || ec == net::error::connection_reset ||
           ec == net::error::connection_aborted || ec == net::error::operation_aborted ||
           ec == net::error::broken_pipe || ec == net::error::not_connected ||
           ec == net::error::bad_descriptor || ec == beast::error::timeout ||
           ec == http::error::end_of_stream || ec == http::error::partial_message ||
           ec == net::ssl::error::stream_truncated;
}

bool is_parse_error(error_code ec) {
    return ec.category() == http::make_error_code(http::error::bad_method).category();
}

bool wants_close(const Response& res) {
    for (const auto& token : http::token_list{res[http::field::connection]}) {
        if (beast::iequals(token, "close")) {
            return true;
        }
    }
    return false;
}

bool expects_continue(const http::request_parser<http::string_body>& parser) {
    const auto& header = parser.get();
    return header.version() >= 11 && !parser.is_done() &&
           beast::iequals(header[http::field::expect], "100-continue");
}

// Metrics labels take only known methods, so clients cannot grow the label set.
std::string method_label(http::verb verb) {
    return verb == http::verb::unknown ? "OTHER" : std::string(http::to_string(verb));
}

// A bounded label for a failed TLS handshake (metrics must not take arbitrary text).
std::string_view handshake_failure_reason(error_code ec) {
    if (ec == beast::error::timeout) {
        return "timeout";
    }
    if (is_quiet(ec)) {
        return "closed";
    }
    return "protocol";  // no shared version or cipher, plain HTTP, not TLS at all...
}

void log_session_failure(const std::exception_ptr& error, std::uint64_t id) {
    try {
        std::rethrow_exception(error);
    } catch (const boost::system::system_error& e) {
        if (!is_quiet(e.code())) {
            log::error("http session failed", {{"conn", std::to_string(id)}, {"error", e.what()}});
        }
    } catch (const std::exception& e) {
        log::error("http session failed", {{"conn", std::to_string(id)}, {"error", e.what()}});
    } catch (...) {
        log::error("http session failed", {{"conn", std::to_string(id)}, {"error", "unknown"}});
    }
}

// The stream over an accepted socket: TCP as is, or TLS (server side) over it.
template <typename Stream>
Stream make_stream(tcp::socket socket, const std::shared_ptr<net::ssl::context>& tls) {
    if constexpr (std::is_same_v<Stream, TlsStream>) {
        return Stream(std::move(socket), *tls);
    } else {
        (void)tls;
        return Stream(std::move(socket));
    }
}

}  // namespace

template <typename Stream>
Session<Stream>::Session(std::shared_ptr<ServerState> state, tcp::socket socket, std::uint64_t id,
                         std::shared_ptr<net::ssl::context> tls)
    : state_(std::move(state)),
      executor_(socket.get_executor()),
      tls_(std::move(tls)),
      stream_(make_stream<Stream>(std::move(socket), tls_)),
      id_(id) {
    error_code ignored;
    remote_ = tcp().socket().remote_endpoint(ignored);
}

template <typename Stream>
void Session<Stream>::start() {
    running_ = true;
    net::co_spawn(executor_, run(),
                  net::bind_cancellation_slot(
                      cancel_.slot(), [self = this->shared_from_this()](std::exception_ptr error) {
                          self->running_ = false;
                          if (error) {
                              log_session_failure(error, self->id_);
                          }
                          self->state_->session_ended(self->id_);
                      }));
}

template <typename Stream>
void Session<Stream>::post_stop() {
    net::post(executor_, [self = this->shared_from_this()] {
        if (self->idle_) {
            self->tcp().cancel();
        }
    });
}

template <typename Stream>
void Session<Stream>::post_force_close() {
    net::post(executor_, [self = this->shared_from_this()] {
        error_code ignored;
        self->tcp().socket().close(ignored);
        if (self->running_) {
            self->cancel_.emit(net::cancellation_type::terminal);
        }
    });
}

template <typename Stream>
net::awaitable<void> Session<Stream>::run() {
    // co_await results go to locals first: GCC 12 miscompiles co_await inside conditions.
    if constexpr (kTls) {
        const bool secured = co_await handshake();
        if (!secured) {
            error_code ignored;
            tcp().socket().close(ignored);
            co_return;
        }
    }
    while (!state_->stopping.load()) {
        if (buffer_.size() == 0) {
            const bool arrived = co_await wait_for_request();
            if (!arrived) {
                break;
            }
        }
        const bool keep_alive = co_await serve_one();
        if (!keep_alive) {
            break;
        }
    }
    co_await close();
}

template <typename Stream>
net::awaitable<bool> Session<Stream>::handshake() {
    if constexpr (kTls) {
        // Counts as idle: stop() closes a connection that has not sent a request yet. The
        // read deadline bounds it, so a client that connects and sends nothing is dropped.
        idle_ = true;
        tcp().expires_after(state_->options.read_timeout);
        auto [ec] = co_await stream_.async_handshake(net::ssl::stream_base::server, use_tuple);
        idle_ = false;
        if (!ec) {
            handshake_done_ = true;
            co_return true;
        }
        const std::string reason(handshake_failure_reason(ec));
        state_->metrics.counter_add(
            "cardsmith_http_tls_handshake_failures_total",
            "TLS handshakes that failed, by reason (timeout, closed, protocol).",
            {{"reason", reason}});
        // Scanners and plain-HTTP clients cause these all day: info, not a warning.
        log::info("tls handshake failed", {{"conn", std::to_string(id_)},
                                           {"remote", endpoint_string(remote_)},
                                           {"reason", reason},
                                           {"error", ec.message()}});
        co_return false;
    } else {
        co_return true;
    }
}

template <typename Stream>
net::awaitable<bool> Session<Stream>::wait_for_request() {
    idle_ = true;
    tcp().expires_after(state_->options.idle_timeout);
    auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(kReadChunk), use_tuple);
    idle_ = false;
    if (ec) {
        co_return false;  // peer closed, idle deadline, or stop(): all quiet
    }
    buffer_.commit(n);
    co_return true;
}

template <typename Stream>
net::awaitable<bool> Session<Stream>::serve_one() {
    Exchange ex{std::chrono::steady_clock::now(), random::hex(8)};
    Parser parser;
    parser.header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(
        state_->options.header_limit, std::numeric_limits<std::uint32_t>::max())));
    parser.body_limit(boost::none);  // chosen per route once the header is known
    tcp().expires_after(state_->options.read_timeout);
    auto [ec, n] = co_await http::async_read_header(stream_, buffer_, parser, use_tuple);
    if (ec) {
        const bool rejected = co_await reject_read(ex, ec, 11);
        co_return rejected;
    }
    const auto& header = parser.get();
    ex.method = std::string(header.method_string());
    ex.verb = header.method();
    auto target = boost::urls::parse_origin_form(header.target());
    if (!target) {
        Response bad = error_response(http::status::bad_request, "bad_request",
                                      "malformed request target", header.version());
        const bool sent = co_await send(ex, std::move(bad), false, false);
        co_return sent;
    }
    ex.path = std::string(target->encoded_path());
    Router::Match match = state_->router.match(header.method(), ex.path);
    ex.route = match.route;
    if (!match.log_path) {
        ex.path = ex.route;  // a capability URL: whoever reads the log must not get in
    }
    const bool body_read = co_await read_body(ex, parser, match);
    if (!body_read) {
        co_return false;
    }
    Request req = parser.release();
    const bool keep_alive = req.keep_alive();
    const bool head = req.method() == http::verb::head;
    Response res = co_await dispatch(ex, req, match);
    res.version(req.version());
    const bool keep = co_await send(ex, std::move(res), keep_alive, head);
    co_return keep;
}

// Chooses the body limit from the route, answers 413 at once for a declared length over it,
// sends 100 Continue when asked, then reads the body under the same read deadline.
template <typename Stream>
net::awaitable<bool> Session<Stream>::read_body(Exchange& ex, Parser& parser,
                                                const Router::Match& match) {
    const std::size_t limit = match.body_limit != 0 ? match.body_limit : state_->options.body_limit;
    const unsigned version = parser.get().version();
    const auto length = parser.content_length();
    if (length && *length > limit) {
        const bool rejected = co_await reject_read(ex, http::error::body_limit, version);
        co_return rejected;
    }
    parser.body_limit(static_cast<std::uint64_t>(limit));
    if (expects_continue(parser)) {
        http::response<http::empty_body> go_on{http::status::continue_, version};
        auto [ec, n] = co_await http::async_write(stream_, go_on, use_tuple);
        if (ec) {
            record(ex);
            co_return false;
        }
    }
    auto [ec, n] = co_await http::async_read(stream_, buffer_, parser, use_tuple);
    if (ec) {
        const bool rejected = co_await reject_read(ex, ec, version);
        co_return rejected;
    }
    co_return true;
}

// A request that could not be read: answer 413/431/400 and close, or close quietly.
template <typename Stream>
net::awaitable<bool> Session<Stream>::reject_read(Exchange& ex, error_code ec, unsigned version) {
    std::optional<Response> res;
    if (ec == http::error::body_limit) {
        res = error_response(http::status::payload_too_large, "payload_too_large",
                             "request body exceeds the limit", version);
    } else if (ec == http::error::header_limit) {
        res = error_response(http::status::request_header_fields_too_large, "header_too_large",
                             "request header exceeds the limit", version);
    } else if (is_parse_error(ec) && !is_quiet(ec)) {
        res =
            error_response(http::status::bad_request, "bad_request", "malformed request", version);
    }
    if (res) {
        // Temporaries stay out of co_await expressions (GCC 12 coroutine bugs).
        const bool sent = co_await send(ex, std::move(*res), false, false);
        if (!sent) {
            co_await linger();
        }
        co_return sent;
    }
    if (ex.method != "-") {
        record(ex);  // the header was read, then the peer went away or the deadline passed
    }
    co_return false;
}

template <typename Stream>
net::awaitable<Response> Session<Stream>::dispatch(Exchange& ex, Request& req,
                                                   Router::Match& match) {
    if (match.handler == nullptr) {
        if (match.status == http::status::method_not_allowed) {
            Response res = error_response(http::status::method_not_allowed, "method_not_allowed",
                                          "method not allowed for this resource");
            res.set(http::field::allow, match.allow);
            co_return res;
        }
        co_return error_response(http::status::not_found, "not_found", "no such resource");
    }
    RequestContext ctx{req, std::move(match.params), ex.id, remote_, parse_query(req.target())};
    tcp().expires_never();  // handlers bound their own waits
    try {
        Response res = co_await (*match.handler)(ctx);
        co_return res;
    } catch (const boost::system::system_error& e) {
        if (e.code() == net::error::operation_aborted && state_->stopping.load()) {
            // The grace period expired and stop() cancelled what the handler awaited.
            log::warn("http request cancelled by shutdown", {{"id", ex.id}, {"route", ex.route}});
        } else {
            log::error("http handler failed",
                       {{"id", ex.id}, {"route", ex.route}, {"error", e.what()}});
        }
    } catch (const std::exception& e) {
        log::error("http handler failed",
                   {{"id", ex.id}, {"route", ex.route}, {"error", e.what()}});
    } catch (...) {
        log::error("http handler failed",
                   {{"id", ex.id}, {"route", ex.route}, {"error", "unknown exception"}});
    }
    co_return error_response(http::status::internal_server_error, "internal_error",
                             "internal error");
}

template <typename Stream>
net::awaitable<bool> Session<Stream>::send(Exchange& ex, Response res, bool keep_alive, bool head) {
    const bool keep = keep_alive && !wants_close(res) && !state_->stopping.load();
    res.keep_alive(keep);
    res.set(http::field::server, "cardsmith");
    res.set("X-Request-Id", ex.id);
    add_security_headers(res, kTls);
    res.prepare_payload();
    ex.status = res.result_int();
    ex.bytes = res.body().size();
    if (head) {
        res.body().clear();  // Content-Length keeps the size a GET would have
    }
    tcp().expires_after(state_->options.write_timeout);
    auto [ec, n] = co_await http::async_write(stream_, res, use_tuple);
    record(ex);
    co_return !ec && keep;
}

// The access log line and the request metrics. Never headers, bodies or the query string.
template <typename Stream>
void Session<Stream>::record(const Exchange& ex) const {
    const auto elapsed = std::chrono::steady_clock::now() - ex.start;
    if (ex.status != 0) {
        state_->metrics.observe_request(ex.route, method_label(ex.verb), ex.status,
                                        std::chrono::duration<double>(elapsed).count());
    }
    log::info("http", {{"id", ex.id},
                       {"remote", endpoint_string(remote_)},
                       {"method", ex.method},
                       {"route", ex.route},
                       {"path", ex.path},
                       {"status", std::to_string(ex.status)},
                       {"bytes", std::to_string(ex.bytes)},
                       {"ms", format_ms(elapsed)}});
}

template <typename Stream>
net::awaitable<void> Session<Stream>::linger() {
    constexpr std::size_t kMaxDiscard = 64 * 1024 * 1024;
    error_code ignored;
    tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
    tcp().expires_after(std::chrono::seconds(2));
    std::array<char, 16 * 1024> sink{};
    std::size_t discarded = 0;
    while (discarded < kMaxDiscard) {
        auto [ec, n] = co_await stream_.async_read_some(net::buffer(sink), use_tuple);
        if (ec) {
            break;
        }
        discarded += n;
    }
}

template <typename Stream>
net::awaitable<void> Session<Stream>::close() {
    if constexpr (kTls) {
        // close_notify tells the client the response was not cut short. Waiting for the
        // peer's own close_notify is courtesy only, so the deadline is short; a socket that
        // is already closed fails at once. Nothing to close_notify before a handshake.
        if (handshake_done_) {
            tcp().expires_after(kTlsShutdownTimeout);
            auto [ec] = co_await stream_.async_shutdown(use_tuple);
            (void)ec;
        }
    }
    error_code ignored;
    tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
    tcp().socket().close(ignored);
}

template class Session<PlainStream>;
template class Session<TlsStream>;

}  // namespace cardsmith::http_server::detail
