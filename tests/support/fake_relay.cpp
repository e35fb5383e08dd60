#include "fake_relay.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <cctype>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <exception>
#include <mutex>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace cardsmith::test {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using Request = http::request<http::string_body>;
using Reply = http::response<http::string_body>;
using FailMode = FakeRelay::FailMode;
using Failure = FakeRelay::Failure;

constexpr std::string_view kWalletUnion = "walletunion";
constexpr std::string_view kWalletPasses = "walletpasses";
constexpr std::string_view kPass2u = "pass2u";
constexpr std::string_view kPassWallet = "passwallet";
constexpr std::string_view kPassworks = "passworks";
constexpr std::string_view kPass2uPrefix = "/pass2u/v2/registrations/";
constexpr std::string_view kPass2uSuffix = "/push";
constexpr auto kShutdownWait = std::chrono::seconds(2);

enum class Endpoint {
    none,
    walletunion_send,
    walletpasses_push,
    pass2u_push,
    passwallet_one,
    passwallet_many,
    passworks_push
};

// An answer before it becomes an HTTP response.
struct Answer {
    int status = 200;
    std::string body;
    std::string reason;  // HTTP reason phrase, "" = the standard one
    std::vector<std::pair<std::string, std::string>> headers;
    bool drop = false;  // close the connection instead of answering
    std::chrono::milliseconds delay{0};
};

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

json::string_view jsv(std::string_view s) { return {s.data(), s.size()}; }

json::array to_array(const std::vector<std::string>& v) {
    json::array a;
    for (const auto& s : v) {
        a.emplace_back(jsv(s));
    }
    return a;
}

std::string wallet_union_body(std::string_view status, const std::vector<std::string>& unknown,
                              const std::vector<std::string>& expired,
                              std::string_view reason = {}) {
    json::object o;
    o["status"] = jsv(status);
    if (!reason.empty()) {
        o["reason"] = jsv(reason);
    }
    o["unknown_push_tokens"] = to_array(unknown);
    o["expired_push_tokens"] = to_array(expired);
    return json::serialize(o);
}

// An error in the style of `route`.
Answer error_answer(std::string_view route, int status, std::string_view text) {
    Answer a;
    a.status = status;
    json::object o;
    if (route == kWalletUnion) {
        a.body = wallet_union_body("ERROR", {}, {}, text);
        return a;
    }
    if (route == kPassWallet) {
        o["status"] = "ERROR";
        o["message"] = jsv(text);
    } else {
        o["error"] = jsv(text);
    }
    a.body = json::serialize(o);
    return a;
}

std::string percent_decode(std::string_view s) {
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
            i += 2;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

// Which endpoint `path` (without query) names; sets call.route from its first segment and,
// for Pass2U, call.pass_type_id from the path. Pass2U with an empty pass type ID is still
// the Pass2U endpoint (answered 400), one with a '/' in it is not (404).
Endpoint match(std::string_view path, RelayCall& call) {
    for (auto route : {kWalletUnion, kWalletPasses, kPass2u, kPassWallet, kPassworks}) {
        if (path.size() > route.size() + 1 && path[0] == '/' &&
            path.substr(1, route.size()) == route && path[route.size() + 1] == '/') {
            call.route = std::string(route);
        }
    }
    if (path == "/walletunion/send") return Endpoint::walletunion_send;
    if (path == "/walletpasses/api/v1/push") return Endpoint::walletpasses_push;
    if (path == "/passwallet/v1/pushUpdate") return Endpoint::passwallet_one;
    if (path == "/passwallet/v1/pushUpdates") return Endpoint::passwallet_many;
    if (path == "/passworks/v1/pushUpdate") return Endpoint::passworks_push;
    if (path.substr(0, kPass2uPrefix.size()) == kPass2uPrefix) {
        const std::string_view rest = path.substr(kPass2uPrefix.size());
        if (rest.size() >= kPass2uSuffix.size() &&
            rest.substr(rest.size() - kPass2uSuffix.size()) == kPass2uSuffix) {
            const std::string_view id = rest.substr(0, rest.size() - kPass2uSuffix.size());
            if (id.find('/') == std::string_view::npos) {
                call.pass_type_id = percent_decode(id);
                return Endpoint::pass2u_push;
            }
        }
    }
    return Endpoint::none;
}

std::string header(const RelayCall& call, const std::string& name) {
    const auto it = call.headers.find(name);
    return it == call.headers.end() ? std::string() : it->second;
}

bool is_json_content_type(std::string value) {
    value = lower(value);
    value = value.substr(0, value.find(';'));
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.erase(0, 1);
    return value == "application/json";
}

// A non-empty string field, or "".
std::string string_field(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(jsv(key));
    if (v == nullptr || !v->is_string()) {
        return {};
    }
    return std::string(v->get_string().data(), v->get_string().size());
}

// Reads a token array into `out` (every string element, for the record). True if `v` is a
// non-empty array of non-empty strings.
bool token_array(const json::value* v, std::vector<std::string>& out) {
    if (v == nullptr || !v->is_array()) {
        return false;
    }
    bool ok = !v->get_array().empty();
    for (const auto& e : v->get_array()) {
        if (!e.is_string() || e.get_string().empty()) {
            ok = false;
        }
        if (e.is_string()) {
            out.emplace_back(e.get_string().data(), e.get_string().size());
        }
    }
    return ok;
}

// Keeps the first occurrence of each token, in order.
std::vector<std::string> unique(const std::vector<std::string>& tokens) {
    std::vector<std::string> out;
    std::unordered_set<std::string> seen;
    for (const auto& t : tokens) {
        if (seen.insert(t).second) {
            out.push_back(t);
        }
    }
    return out;
}

class Server;

// One TCP connection: read a request, answer it (after the scripted delay), repeat while
// keep-alive. Everything runs on the connection's strand.
class Session : public std::enable_shared_from_this<Session> {
public:
    Session(Server& server, tcp::socket socket, std::uint64_t id);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    void start() {
        net::dispatch(stream_.get_executor(),
                      beast::bind_front_handler(&Session::read, shared_from_this()));
    }
    [[nodiscard]] net::any_io_executor executor() { return stream_.get_executor(); }
    // Abrupt close; call on the session's executor.
    void close() {
        if (closed_) {
            return;
        }
        closed_ = true;
        timer_.cancel();
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        stream_.close();
    }

private:
    void read();
    void on_read(beast::error_code ec, std::size_t bytes);
    void on_delay(beast::error_code ec);
    void write();
    void on_write(beast::error_code ec, std::size_t bytes);

    Server& server_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    Reply reply_;
    net::steady_timer timer_;
    std::uint64_t id_;
    bool closed_ = false;
};

class Server {
public:
    explicit Server(FakeRelayOptions o) : options(std::move(o)) {
        const tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), options.port);
        acceptor.open(endpoint.protocol());
        acceptor.set_option(net::socket_base::reuse_address(true));
        acceptor.bind(endpoint);
        acceptor.listen(net::socket_base::max_listen_connections);
        port = acceptor.local_endpoint().port();
        accept();
        const unsigned n = std::max(1U, options.threads);
        for (unsigned i = 0; i < n; ++i) {
            threads.emplace_back([this] { run(); });
        }
    }

    ~Server() {
        {
            std::lock_guard lock(sessions_mutex);
            stopping = true;
        }
        net::post(acceptor.get_executor(), [this] {
            beast::error_code ec;
            acceptor.close(ec);
        });
        drop_connections();
        {
            std::unique_lock lock(sessions_mutex);
            sessions_changed.wait_for(lock, kShutdownWait, [this] { return open == 0; });
        }
        ioc.stop();
        for (auto& t : threads) {
            t.join();
        }
        // ~io_context then destroys what is left (handlers holding sessions); the state
        // they touch is declared before it and outlives it.
    }

    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    void drop_connections() {
        // The shared_ptrs are released outside the lock: the last one runs ~Session,
        // which takes the lock.
        std::vector<std::shared_ptr<Session>> live;
        {
            std::lock_guard lock(sessions_mutex);
            for (auto& weak : sessions) {
                if (auto s = weak.lock()) {
                    live.push_back(std::move(s));
                }
            }
        }
        for (auto& s : live) {
            net::post(s->executor(), [s] { s->close(); });
        }
    }

    void session_opened() {
        std::lock_guard lock(sessions_mutex);
        ++open;
    }
    void session_closed() {
        std::lock_guard lock(sessions_mutex);
        --open;
        sessions_changed.notify_all();
    }

    Answer handle(const Request& req, std::uint64_t connection);

    // Scripting and observation state, guarded by `mutex`.
    struct Rule {
        Failure failure;
        std::string route;
        unsigned left = 0;
    };

    const FakeRelayOptions options;
    mutable std::mutex mutex;
    mutable std::condition_variable changed;
    std::unordered_set<std::string> hms_tokens, expired_tokens, unknown_tokens;
    std::deque<Rule> rules;
    struct Window {
        std::string route, key, retry_after;
        Clock::time_point until;
    };
    std::vector<Window> windows;
    std::map<std::string, std::set<std::string>> extra_keys;  // by route
    std::map<std::string, std::pair<int, int>> advertised;    // route → remaining, limit
    std::chrono::milliseconds delay{0};
    std::vector<RelayCall> recorded;
    std::size_t count = 0;
    std::unordered_map<std::string, std::size_t> delivered;
    std::uint64_t multicast_id = 0;

    // Connections, guarded by `sessions_mutex`.
    mutable std::mutex sessions_mutex;
    std::condition_variable sessions_changed;
    std::vector<std::weak_ptr<Session>> sessions;
    bool stopping = false;
    std::size_t open = 0;
    std::atomic<std::uint64_t> accepted{0};

    // Declared last: destroyed first.
    net::io_context ioc;
    tcp::acceptor acceptor{net::make_strand(ioc)};
    std::uint16_t port = 0;
    std::vector<std::thread> threads;

private:
    void run() {
        for (;;) {
            try {
                ioc.run();
                return;
            } catch (const std::exception& e) {
                std::fprintf(stderr, "fake relay: %s\n", e.what());
            }
        }
    }

    void accept() {
        acceptor.async_accept(
            net::make_strand(ioc),
            [this](beast::error_code ec, tcp::socket socket) { on_accept(ec, std::move(socket)); });
    }

    void on_accept(beast::error_code ec, tcp::socket socket) {
        if (ec == net::error::operation_aborted || !acceptor.is_open()) {
            return;
        }
        if (!ec) {
            const std::uint64_t id = ++accepted;
            auto session = std::make_shared<Session>(*this, std::move(socket), id);
            std::lock_guard lock(sessions_mutex);
            if (stopping) {
                return;
            }
            std::erase_if(sessions, [](const auto& w) { return w.expired(); });
            sessions.push_back(session);
            session->start();
        } else {
            std::lock_guard lock(sessions_mutex);
            if (stopping) {
                return;
            }
        }
        accept();
    }

    Answer route(const Request& req, RelayCall& call);
    // The call carries the route's configured key or one added with accept_key; a route
    // whose key is not `required` takes anything while none is configured.
    bool key_ok(const RelayCall& call, const std::string& configured, bool required) const {
        if (!required && configured.empty()) {
            return true;
        }
        if (call.key == configured) {
            return true;
        }
        auto it = extra_keys.find(call.route);
        return it != extra_keys.end() && it->second.contains(call.key);
    }
    std::optional<Answer> scripted(std::string_view route, RelayCall& call);
    Answer wallet_union(const json::object& body, RelayCall& call);
    Answer wallet_passes(const json::object& body, RelayCall& call);
    Answer pass2u(const json::object& body, RelayCall& call);
    Answer passwallet(const json::object& body, RelayCall& call, bool many);
    Answer passworks(const json::object& body, RelayCall& call);
};

Session::Session(Server& server, tcp::socket socket, std::uint64_t id)
    : server_(server), stream_(std::move(socket)), timer_(stream_.get_executor()), id_(id) {
    server_.session_opened();
}

Session::~Session() { server_.session_closed(); }

void Session::read() {
    if (closed_) {
        return;
    }
    parser_.emplace();
    parser_->body_limit(server_.options.max_body);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::on_read, shared_from_this()));
}

void Session::on_read(beast::error_code ec, std::size_t /*bytes*/) {
    if (closed_) {
        return;
    }
    if (ec) {  // end_of_stream, a reset, an unparsable request, a body over the limit
        close();
        return;
    }
    Request req = parser_->release();
    Answer a = server_.handle(req, id_);
    if (a.drop) {
        close();
        return;
    }
    reply_ = Reply{};
    reply_.version(req.version());
    reply_.result(static_cast<unsigned>(a.status));
    if (!a.reason.empty()) {
        reply_.reason(a.reason);
    }
    reply_.set(http::field::server, "cardsmith-fake-relay");
    reply_.set(http::field::content_type, "application/json");
    for (const auto& [name, value] : a.headers) {
        reply_.set(name, value);
    }
    reply_.keep_alive(req.keep_alive());
    reply_.body() = std::move(a.body);
    reply_.prepare_payload();
    if (a.delay.count() > 0) {
        timer_.expires_after(a.delay);
        timer_.async_wait(beast::bind_front_handler(&Session::on_delay, shared_from_this()));
    } else {
        write();
    }
}

void Session::on_delay(beast::error_code ec) {
    if (closed_ || ec) {
        return;
    }
    write();
}

void Session::write() {
    http::async_write(stream_, reply_,
                      beast::bind_front_handler(&Session::on_write, shared_from_this()));
}

void Session::on_write(beast::error_code ec, std::size_t /*bytes*/) {
    if (closed_) {
        return;
    }
    if (ec) {
        close();
        return;
    }
    if (reply_.need_eof()) {
        // Half-close only: a full close with unread input could reset the connection
        // before the client reads the answer. The socket closes with the session.
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        return;
    }
    read();
}

Answer Server::handle(const Request& req, std::uint64_t connection) {
    RelayCall call;
    call.path = std::string(req.target());
    call.method = std::string(req.method_string());
    for (const auto& field : req) {
        call.headers[lower(field.name_string())] = std::string(field.value());
    }
    call.body = req.body();
    call.connection = connection;
    call.key = header(call, call.path.rfind("/pass2u/", 0) == 0 ? "x-api-key" : "authorization");

    std::lock_guard lock(mutex);
    Answer a;
    try {
        a = route(req, call);
    } catch (const std::exception& e) {
        call.delivered.clear();
        a = error_answer(call.route, 500, std::string("fake relay: ") + e.what());
    }
    if (a.status >= 200 && a.status <= 299 && !a.drop) {
        if (auto it = advertised.find(call.route); it != advertised.end()) {
            a.headers.emplace_back("X-Rate-Limit-Limit", std::to_string(it->second.second));
            a.headers.emplace_back("X-Rate-Limit-Remaining", std::to_string(it->second.first));
        }
    }
    call.status = a.drop ? 0 : a.status;
    call.reply_body = a.drop ? std::string() : a.body;
    call.at = Clock::now();
    if (call.status < 200 || call.status > 299) {
        call.delivered.clear();
    }
    for (const auto& t : call.delivered) {
        ++delivered[t];
    }
    ++count;
    if (options.record) {
        recorded.push_back(std::move(call));
    }
    a.delay = delay;
    changed.notify_all();
    return a;
}

Answer Server::route(const Request& req, RelayCall& call) {
    const std::string_view target = req.target();
    const Endpoint endpoint = match(target.substr(0, target.find('?')), call);
    if (endpoint == Endpoint::none) {
        return error_answer(call.route, 404, "not found");
    }
    if (req.method() != http::verb::post) {
        Answer a = error_answer(call.route, 405, "method not allowed");
        a.headers.emplace_back("Allow", "POST");
        return a;
    }
    if (options.require_json_content_type && !is_json_content_type(header(call, "content-type"))) {
        return error_answer(call.route, 415, "Content-Type must be application/json");
    }
    // Keys first, as a relay would before looking at the body.
    switch (endpoint) {
        case Endpoint::walletunion_send:
            if (!key_ok(call, options.walletunion_key, true)) {
                return error_answer(call.route, 401, "Unauthorized");
            }
            break;
        case Endpoint::walletpasses_push:
            if (!key_ok(call, options.walletpasses_key, false)) {
                return error_answer(call.route, 401, "Unauthorized");
            }
            break;
        case Endpoint::pass2u_push:
            if (!key_ok(call, options.pass2u_key, false)) {
                return error_answer(call.route, 401, "Unauthorized");
            }
            if (lower(header(call, "accept")).find("application/json") == std::string::npos) {
                return error_answer(call.route, 406, "Accept must be application/json");
            }
            break;
        case Endpoint::passworks_push:
            if (!key_ok(call, options.passworks_key, false)) {
                return error_answer(call.route, 401, "Unauthorized");
            }
            break;
        default:
            break;  // PassWallet: no relay auth documented
    }
    beast::error_code ec;
    json::value body = json::parse(jsv(req.body()), ec);
    if (ec) {
        return error_answer(call.route, 400, "malformed JSON: " + ec.message());
    }
    if (!body.is_object()) {
        return error_answer(call.route, 400, "the body is not a JSON object");
    }
    const json::object& o = body.get_object();
    switch (endpoint) {
        case Endpoint::walletunion_send:
            return wallet_union(o, call);
        case Endpoint::walletpasses_push:
            return wallet_passes(o, call);
        case Endpoint::pass2u_push:
            return pass2u(o, call);
        case Endpoint::passwallet_one:
            return passwallet(o, call, false);
        case Endpoint::passwallet_many:
            return passwallet(o, call, true);
        case Endpoint::passworks_push:
            return passworks(o, call);
        case Endpoint::none:
            break;
    }
    return error_answer(call.route, 404, "not found");
}

std::optional<Answer> Server::scripted(std::string_view route, RelayCall& call) {
    const auto now = Clock::now();
    std::erase_if(windows, [&](const Window& w) { return w.until <= now; });
    for (const auto& w : windows) {
        if (w.route != route || (!w.key.empty() && w.key != call.key)) {
            continue;
        }
        Answer a = error_answer(route, 429, "Too many requests");
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(w.until - now).count();
        a.headers.emplace_back("Retry-After", w.retry_after.empty()
                                                  ? std::to_string((left + 999) / 1000)
                                                  : w.retry_after);
        a.headers.emplace_back("X-Rate-Limit-Limit", "3000");
        a.headers.emplace_back("X-Rate-Limit-Remaining", "0");
        call.delivered.clear();
        return a;
    }
    const auto it = std::find_if(rules.begin(), rules.end(), [&](const Rule& r) {
        return (r.route.empty() || r.route == route) &&
               (r.failure.mode != FailMode::fcm_failed || route == kWalletUnion);
    });
    if (it == rules.end()) {
        return std::nullopt;
    }
    const Failure f = it->failure;
    if (--it->left == 0) {
        rules.erase(it);
    }
    Answer a;
    switch (f.mode) {
        case FailMode::rate_limited:
            a = error_answer(route, f.status != 0 ? f.status : 429,
                             f.message.empty() ? "Too many requests" : f.message);
            if (!f.retry_after.empty()) {
                a.headers.emplace_back("Retry-After", f.retry_after);
            }
            a.headers.emplace_back("X-Rate-Limit-Limit", std::to_string(f.rate_limit));
            a.headers.emplace_back("X-Rate-Limit-Remaining", std::to_string(f.rate_remaining));
            break;
        case FailMode::server_error:
            a = error_answer(route, f.status != 0 ? f.status : 500,
                             f.message.empty() ? "scripted server error" : f.message);
            break;
        case FailMode::bad_request:
            a = error_answer(route, f.status != 0 ? f.status : 400,
                             f.message.empty() ? "scripted bad request" : f.message);
            break;
        case FailMode::fcm_failed: {
            std::vector<std::string> unknown;
            for (const auto& t : unique(call.tokens)) {
                if (unknown_tokens.contains(t)) {
                    unknown.push_back(t);
                }
            }
            a.status = f.status != 0 ? f.status : 200;
            a.body = wallet_union_body("FCM_FAILED", unknown, {}, f.message);
            break;
        }
        case FailMode::drop_connection:
            a.drop = true;
            a.status = 0;
            break;
    }
    call.delivered.clear();
    return a;
}

Answer Server::wallet_union(const json::object& body, RelayCall& call) {
    call.pass_type_id = string_field(body, "passTypeIdentifier");
    const bool tokens_ok = token_array(body.if_contains("pushTokens"), call.tokens);
    if (const json::value* h = body.if_contains("hms")) {
        if (!h->is_bool()) {
            return error_answer(kWalletUnion, 400, "hms must be a boolean");
        }
        call.hms = h->get_bool();
    }
    if (call.pass_type_id.empty()) {
        return error_answer(kWalletUnion, 400, "passTypeIdentifier is required");
    }
    if (!tokens_ok) {
        return error_answer(kWalletUnion, 400, "pushTokens must be a non-empty array of strings");
    }
    const bool hms = call.hms.value_or(false);
    if (hms && call.tokens.size() > options.hms_max) {
        Answer a = error_answer(kWalletUnion, 413,
                                "Too many HMS pushTokens, max=" + std::to_string(options.hms_max));
        a.reason = "Too many HMS pushTokens, max=" + std::to_string(options.hms_max);
        return a;
    }
    if (!hms && call.tokens.size() > options.fcm_max) {
        Answer a = error_answer(kWalletUnion, 413,
                                "Too many FCM pushTokens, max=" + std::to_string(options.fcm_max));
        a.reason = "Too many FCM pushTokens, max=" + std::to_string(options.fcm_max);
        return a;
    }
    const auto wrong = std::count_if(call.tokens.begin(), call.tokens.end(),
                                     [&](const auto& t) { return hms_tokens.contains(t) != hms; });
    if (wrong > 0) {
        return error_answer(kWalletUnion, 400,
                            hms ? "hms=true but " + std::to_string(wrong) + " FCM pushTokens given"
                                : "hms=false but " + std::to_string(wrong) +
                                      " HMS pushTokens given (HMS tokens need \"hms\":true)");
    }
    if (auto failure = scripted(kWalletUnion, call)) {
        return *failure;
    }
    std::vector<std::string> unknown, expired;
    for (const auto& t : unique(call.tokens)) {
        if (unknown_tokens.contains(t)) {
            unknown.push_back(t);
        }
        if (expired_tokens.contains(t)) {
            expired.push_back(t);
        }
    }
    for (const auto& t : call.tokens) {
        if (!unknown_tokens.contains(t) && !expired_tokens.contains(t)) {
            call.delivered.push_back(t);
        }
    }
    Answer a;
    if (unknown.empty() && expired.empty()) {
        a.body = wallet_union_body("OK", {}, {});
    } else {
        a.status = options.error_status;
        a.body = wallet_union_body("ERROR", unknown, expired);
    }
    return a;
}

Answer Server::wallet_passes(const json::object& body, RelayCall& call) {
    call.pass_type_id = string_field(body, "passTypeIdentifier");
    const json::value* tokens = body.if_contains("pushTokens");
    const bool tokens_ok = token_array(tokens, call.tokens);
    if (tokens != nullptr && tokens->is_string()) {
        call.tokens.emplace_back(tokens->get_string().data(), tokens->get_string().size());
    }
    if (call.pass_type_id.empty()) {
        return error_answer(kWalletPasses, 400, "passTypeIdentifier is required");
    }
    if (!tokens_ok) {
        return error_answer(kWalletPasses, 400, "pushTokens must be a non-empty array of strings");
    }
    if (auto failure = scripted(kWalletPasses, call)) {
        return *failure;
    }
    call.delivered = call.tokens;
    Answer a;
    a.body = "{}";
    return a;
}

Answer Server::pass2u(const json::object& body, RelayCall& call) {
    const bool ids_ok = token_array(body.if_contains("registrationIds"), call.tokens);
    if (call.pass_type_id.empty()) {
        return error_answer(kPass2u, 400, "passTypeIdentifier is missing from the path");
    }
    if (!ids_ok) {
        return error_answer(kPass2u, 400, "registrationIds must be a non-empty array of strings");
    }
    if (call.tokens.size() > options.pass2u_max) {
        return error_answer(kPass2u, 413,
                            "Too many registrationIds, max=" + std::to_string(options.pass2u_max));
    }
    if (auto failure = scripted(kPass2u, call)) {
        return *failure;
    }
    call.delivered = call.tokens;
    Answer a;
    a.body = "{}";
    return a;
}

Answer Server::passwallet(const json::object& body, RelayCall& call, bool many) {
    call.pass_type_id = string_field(body, "passTypeID");
    bool tokens_ok = false;
    if (many) {
        tokens_ok = token_array(body.if_contains("pushTokens"), call.tokens);
    } else {
        const std::string token = string_field(body, "pushToken");
        if (!token.empty()) {
            call.tokens.push_back(token);
            tokens_ok = true;
        }
    }
    if (call.pass_type_id.empty()) {
        return error_answer(kPassWallet, 400, "passTypeID is required");
    }
    if (!tokens_ok) {
        return error_answer(kPassWallet, 400,
                            many ? "pushTokens must be a non-empty array of strings"
                                 : "pushToken must be a non-empty string");
    }
    if (auto failure = scripted(kPassWallet, call)) {
        return *failure;
    }
    call.delivered = call.tokens;
    Answer a;
    a.body = R"({"status":"OK"})";
    return a;
}

Answer Server::passworks(const json::object& body, RelayCall& call) {
    call.pass_type_id = string_field(body, "passTypeIdentifier");
    const bool tokens_ok = token_array(body.if_contains("pushTokens"), call.tokens);
    if (call.pass_type_id.empty()) {
        return error_answer(kPassworks, 400, "passTypeIdentifier is required");
    }
    if (!tokens_ok) {
        return error_answer(kPassworks, 400, "pushTokens must be a non-empty array of strings");
    }
    if (auto failure = scripted(kPassworks, call)) {
        return *failure;
    }
    const std::uint64_t id = ++multicast_id;
    json::array results;
    std::int64_t success = 0, failure = 0, n = 0;
    for (const auto& t : call.tokens) {
        json::object r;
        if (expired_tokens.contains(t)) {
            r["error"] = "NotRegistered";
            ++failure;
        } else if (unknown_tokens.contains(t)) {
            r["error"] = "InvalidRegistration";
            ++failure;
        } else {
            r["message_id"] =
                jsv("0:" + std::to_string(id) + "." + std::to_string(n) + "%fake-relay");
            call.delivered.push_back(t);
            ++success;
        }
        ++n;
        results.emplace_back(std::move(r));
    }
    json::object o;
    o["multicast_id"] = id;
    o["success"] = success;
    o["failure"] = failure;
    o["canonical_ids"] = 0;
    o["results"] = std::move(results);
    Answer a;
    a.body = json::serialize(o);
    return a;
}

}  // namespace

struct FakeRelay::Impl {
    explicit Impl(FakeRelayOptions o) : server(std::move(o)) {}
    Server server;
};

FakeRelay::FakeRelay(FakeRelayOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

FakeRelay::~FakeRelay() = default;

std::uint16_t FakeRelay::port() const { return impl_->server.port; }

std::string FakeRelay::base_url() const { return "http://127.0.0.1:" + std::to_string(port()); }

std::string FakeRelay::url(const std::string& route) const { return base_url() + "/" + route; }

const FakeRelayOptions& FakeRelay::options() const { return impl_->server.options; }

void FakeRelay::seed_hms_token(const std::string& token) {
    std::lock_guard lock(impl_->server.mutex);
    impl_->server.hms_tokens.insert(token);
}

void FakeRelay::expire_token(const std::string& token) {
    std::lock_guard lock(impl_->server.mutex);
    impl_->server.expired_tokens.insert(token);
}

void FakeRelay::unknown_token(const std::string& token) {
    std::lock_guard lock(impl_->server.mutex);
    impl_->server.unknown_tokens.insert(token);
}

void FakeRelay::fail_next(unsigned n, FailMode mode, const std::string& route) {
    Failure f;
    f.mode = mode;
    fail_next(n, std::move(f), route);
}

void FakeRelay::fail_next(unsigned n, Failure failure, const std::string& route) {
    if (n == 0) {
        return;
    }
    std::lock_guard lock(impl_->server.mutex);
    impl_->server.rules.push_back(Server::Rule{std::move(failure), route, n});
}

void FakeRelay::set_delay(std::chrono::milliseconds delay) {
    std::lock_guard lock(impl_->server.mutex);
    impl_->server.delay = delay;
}

void FakeRelay::accept_key(const std::string& route, const std::string& key) {
    std::lock_guard lock(impl_->server.mutex);
    impl_->server.extra_keys[route].insert(key);
}

void FakeRelay::rate_limit(const std::string& route, std::chrono::milliseconds window,
                           const std::string& retry_after, const std::string& key) {
    std::lock_guard lock(impl_->server.mutex);
    impl_->server.windows.push_back({route, key, retry_after, Clock::now() + window});
}

void FakeRelay::advertise_remaining(const std::string& route, int remaining, int limit) {
    std::lock_guard lock(impl_->server.mutex);
    if (remaining < 0) {
        impl_->server.advertised.erase(route);
    } else {
        impl_->server.advertised[route] = {remaining, limit};
    }
}

void FakeRelay::reset_script() {
    std::lock_guard lock(impl_->server.mutex);
    impl_->server.windows.clear();
    impl_->server.extra_keys.clear();
    impl_->server.advertised.clear();
    impl_->server.hms_tokens.clear();
    impl_->server.expired_tokens.clear();
    impl_->server.unknown_tokens.clear();
    impl_->server.rules.clear();
    impl_->server.delay = std::chrono::milliseconds(0);
}

void FakeRelay::drop_connections() { impl_->server.drop_connections(); }

std::vector<RelayCall> FakeRelay::calls() const {
    std::lock_guard lock(impl_->server.mutex);
    return impl_->server.recorded;
}

std::vector<RelayCall> FakeRelay::calls(const std::string& route) const {
    std::lock_guard lock(impl_->server.mutex);
    std::vector<RelayCall> out;
    for (const auto& c : impl_->server.recorded) {
        if (c.route == route) {
            out.push_back(c);
        }
    }
    return out;
}

std::size_t FakeRelay::count() const {
    std::lock_guard lock(impl_->server.mutex);
    return impl_->server.count;
}

bool FakeRelay::wait_for_calls(std::size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(impl_->server.mutex);
    return impl_->server.changed.wait_for(lock, timeout, [&] { return impl_->server.count >= n; });
}

bool FakeRelay::wait_for_tokens(const std::set<std::string>& tokens,
                                std::chrono::milliseconds timeout) const {
    std::unique_lock lock(impl_->server.mutex);
    return impl_->server.changed.wait_for(lock, timeout, [&] {
        return std::all_of(tokens.begin(), tokens.end(), [&](const std::string& t) {
            return impl_->server.delivered.contains(t);
        });
    });
}

std::size_t FakeRelay::deliveries(const std::string& token) const {
    std::lock_guard lock(impl_->server.mutex);
    const auto it = impl_->server.delivered.find(token);
    return it == impl_->server.delivered.end() ? 0 : it->second;
}

std::size_t FakeRelay::connections_accepted() const {
    return static_cast<std::size_t>(impl_->server.accepted.load());
}

std::size_t FakeRelay::connections_open() const {
    std::lock_guard lock(impl_->server.sessions_mutex);
    return impl_->server.open;
}

void FakeRelay::clear() {
    std::lock_guard lock(impl_->server.mutex);
    impl_->server.recorded.clear();
    impl_->server.count = 0;
    impl_->server.delivered.clear();
}

}  // namespace cardsmith::test
