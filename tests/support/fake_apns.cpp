#include "fake_apns.hpp"

#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <unordered_map>

namespace cardsmith::testing {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using Executor = net::strand<net::io_context::executor_type>;
using Socket = net::basic_stream_socket<tcp, Executor>;
using TlsStream = ssl::stream<Socket>;

constexpr std::size_t kReadBufferSize = 64 * 1024;
constexpr std::size_t kMaxWriteBatch = 1024 * 1024;  // stop collecting output beyond this
constexpr std::size_t kMaxPayload = 4096;            // apple-wallet.md §3.2
constexpr std::int32_t kConnectionWindow = 16 * 1024 * 1024;
constexpr auto kHandshakeTimeout = std::chrono::seconds(10);
constexpr auto kShutdownTimeout = std::chrono::seconds(1);
constexpr std::string_view kDevicePrefix = "/3/device/";
constexpr std::string_view kGoawayData = R"({"reason":"Shutdown"})";

struct H2SessionDeleter {
    void operator()(nghttp2_session* s) const noexcept { nghttp2_session_del(s); }
};
struct H2CallbacksDeleter {
    void operator()(nghttp2_session_callbacks* c) const noexcept {
        nghttp2_session_callbacks_del(c);
    }
};
using H2SessionPtr = std::unique_ptr<nghttp2_session, H2SessionDeleter>;
using H2CallbacksPtr = std::unique_ptr<nghttp2_session_callbacks, H2CallbacksDeleter>;

// Names are string literals (NO_COPY_NAME); values are copied by nghttp2 at submit time.
nghttp2_nv make_nv(std::string_view name, std::string_view value, std::uint8_t flags = 0) {
    return {reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
            reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(),
            value.size(), static_cast<std::uint8_t>(NGHTTP2_NV_FLAG_NO_COPY_NAME | flags)};
}

bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool is_hex_token(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), is_hex);
}

// 8-4-4-4-12 hex digits, either case (Apple documents lowercase).
bool is_uuid(std::string_view s) {
    if (s.size() != 36) {
        return false;
    }
    for (std::size_t i = 0; i < s.size(); ++i) {
        const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !is_hex(s[i])) {
            return false;
        }
    }
    return true;
}

void format_uuid(std::uint64_t hi, std::uint64_t lo, std::string& out) {
    static constexpr char kDigits[] = "0123456789abcdef";
    out.clear();
    for (int i = 0; i < 32; ++i) {
        if (i == 8 || i == 12 || i == 16 || i == 20) {
            out.push_back('-');
        }
        const std::uint64_t word = i < 16 ? hi : lo;
        const int shift = 60 - 4 * (i % 16);
        out.push_back(kDigits[(word >> shift) & 0xF]);
    }
}

std::string_view default_reason(unsigned status) {
    switch (status) {
        case 400:
            return "BadDeviceToken";
        case 403:
            return "Forbidden";
        case 404:
            return "BadPath";
        case 405:
            return "MethodNotAllowed";
        case 410:
            return "Unregistered";
        case 413:
            return "PayloadTooLarge";
        case 429:
            return "TooManyRequests";
        case 500:
            return "InternalServerError";
        case 503:
            return "ServiceUnavailable";
        default:
            return "";
    }
}

void append_json_string(std::string& out, std::string_view s) {
    out.push_back('"');
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out.push_back('\\');
        }
        if (static_cast<unsigned char>(c) >= 0x20) {
            out.push_back(c);
        }
    }
    out.push_back('"');
}

std::string peer_subject(SSL* ssl) {
    X509* cert = SSL_get1_peer_certificate(ssl);
    if (cert == nullptr) {
        return {};
    }
    std::string out;
    if (BIO* bio = BIO_new(BIO_s_mem()); bio != nullptr) {
        if (X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) >= 0) {
            char* data = nullptr;
            const long n = BIO_get_mem_data(bio, &data);
            if (n > 0 && data != nullptr) {
                out.assign(data, static_cast<std::size_t>(n));
            }
        }
        BIO_free(bio);
    }
    X509_free(cert);
    return out;
}

// ALPN: "h2" or a fatal no_application_protocol alert.
int select_h2(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
              unsigned int inlen, void*) {
    for (unsigned int i = 0; i < inlen;) {
        const unsigned int len = in[i];
        if (i + 1 + len > inlen) {
            break;
        }
        if (len == 2 && in[i + 1] == 'h' && in[i + 2] == '2') {
            *out = in + i + 1;
            *outlen = 2;
            return SSL_TLSEXT_ERR_OK;
        }
        i += 1 + len;
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}

ssl::context make_tls_context(const FakeApnsOptions& o) {
    ssl::context ctx(ssl::context::tls_server);
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                    ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    SSL_CTX* native = ctx.native_handle();
    if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1) {
        throw std::runtime_error("fake APNs: cannot set the minimum TLS version");
    }
    ctx.use_certificate_chain_file(o.cert_file);
    ctx.use_private_key_file(o.key_file, ssl::context::pem);
    if (!o.ca_file.empty()) {
        ctx.load_verify_file(o.ca_file);
        // Without a cert the handshake fails only when required; otherwise it is optional
        // and the subject is recorded when one is presented.
        ctx.set_verify_mode(o.require_client_cert
                                ? ssl::verify_peer | ssl::verify_fail_if_no_peer_cert
                                : ssl::verify_peer);
        // Pass Type ID certificates carry Apple's own extended key usage, not clientAuth;
        // APNs accepts them, so the purpose is not checked.
        if (X509_VERIFY_PARAM_set_purpose(SSL_CTX_get0_param(native), X509_PURPOSE_ANY) != 1) {
            throw std::runtime_error("fake APNs: cannot relax the certificate purpose");
        }
        if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(o.ca_file.c_str())) {
            SSL_CTX_set_client_CA_list(native, names);
        }
    } else if (o.require_client_cert) {
        throw std::runtime_error("fake APNs: require_client_cert needs a ca_file");
    }
    static constexpr unsigned char kSid[] = "cardsmith-fake-apns";
    SSL_CTX_set_session_id_context(native, kSid, sizeof(kSid) - 1);
    SSL_CTX_set_alpn_select_cb(native, select_h2, nullptr);
    return ctx;
}

class Connection;

struct Rule {
    Reply reply;
    int times = -1;
};

// What the shared script says about one request.
struct Decision {
    Reply reply;
    std::chrono::milliseconds delay{0};
    bool skip = false;     // goaway_after(0) hit: not processed, GOAWAY now
    bool goaway = false;   // the last request before GOAWAY
    bool scripted = true;  // false: validation already chose the reply
};

// Per-connection view of the one-shot goaway_after rule.
struct GoawayCounter {
    std::uint64_t generation = 0;
    unsigned left = 0;
};

// Script, records and counters shared by the connections and the test thread.
struct Shared {
    explicit Shared(const FakeApnsOptions& o)
        : record(o.record), max_streams(o.max_concurrent_streams) {
        std::random_device rd;
        id_seed = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
    }

    const bool record;
    std::uint64_t id_seed = 0;

    mutable std::mutex mu;
    mutable std::condition_variable cv;
    std::unordered_map<std::string, std::deque<Rule>> per_token;  // applied in order
    std::optional<Rule> all;
    std::chrono::milliseconds delay{0};
    bool goaway_armed = false;
    std::uint64_t goaway_generation = 0;
    unsigned goaway_requests = 0;
    unsigned max_streams;
    std::vector<RecordedPush> pushes;
    std::size_t count = 0;
    std::size_t count_ok = 0;

    std::atomic<std::size_t> accepted{0};
    std::atomic<std::size_t> open{0};
    std::atomic<bool> accepting{true};

    std::mutex conns_mu;
    std::unordered_map<std::uint64_t, std::weak_ptr<Connection>> conns;

    // Consumes a scripted reply (when `d.scripted`) and the goaway counter.
    void decide(const std::string& token, GoawayCounter& counter, Decision& d) {
        std::lock_guard lock(mu);
        d.delay = delay;
        if (goaway_armed) {
            if (counter.generation != goaway_generation) {
                counter.generation = goaway_generation;
                counter.left = goaway_requests;
            }
            if (counter.left == 0) {
                goaway_armed = false;
                d.skip = true;
                return;
            }
            if (--counter.left == 0) {
                goaway_armed = false;
                d.goaway = true;
            }
        }
        if (!d.scripted) {
            return;
        }
        Rule* rule = nullptr;
        auto it = per_token.find(token);
        if (it != per_token.end()) {
            rule = &it->second.front();
        } else if (all) {
            rule = &*all;
        }
        if (rule == nullptr) {
            d.reply.status = 200;
            return;
        }
        d.reply = rule->reply;
        if (rule->times > 0 && --rule->times == 0) {
            if (it != per_token.end()) {
                it->second.pop_front();
                if (it->second.empty()) {
                    per_token.erase(it);
                }
            } else {
                all.reset();
            }
        }
    }

    std::vector<std::shared_ptr<Connection>> live_connections() {
        std::vector<std::shared_ptr<Connection>> out;
        std::lock_guard lock(conns_mu);
        for (auto& [id, weak] : conns) {
            if (auto c = weak.lock()) {
                out.push_back(std::move(c));
            }
        }
        return out;
    }
};

// One request/response exchange; pooled per connection so that strings keep capacity.
struct Stream {
    std::int32_t id = 0;
    std::size_t slot = 0;  // index in Connection::live_streams_
    std::string method, path, token, topic, apns_id, priority, expiration, push_type, body;
    std::size_t body_size = 0;
    bool processed = false;
    Reply reply;
    std::string reply_id;
    std::string response_body;
    std::size_t response_offset = 0;

    void reset(std::int32_t stream_id) {
        id = stream_id;
        for (std::string* s : {&method, &path, &token, &topic, &apns_id, &priority, &expiration,
                               &push_type, &body, &reply_id, &response_body}) {
            s->clear();
        }
        body_size = 0;
        processed = false;
        reply = Reply{};
        response_offset = 0;
    }
};

// One accepted TCP connection: TLS handshake, then an nghttp2 server session pumped with
// mem_recv / mem_send. Owned by its own pending handlers (shared_from_this); every member
// is touched only on its strand.
class Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(Socket socket, ssl::context& ctx, std::shared_ptr<Shared> shared, std::uint64_t id)
        : stream_(std::move(socket), ctx),
          shared_(std::move(shared)),
          id_(id),
          handshake_timer_(stream_.get_executor()),
          delay_timer_(stream_.get_executor()),
          read_buffer_(kReadBufferSize) {}

    ~Connection() { close_socket(); }

    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    Executor executor() { return stream_.get_executor(); }

    void start() {
        boost::system::error_code ec;
        stream_.next_layer().set_option(tcp::no_delay(true), ec);
        handshake_timer_.expires_after(kHandshakeTimeout);
        handshake_timer_.async_wait([self = shared_from_this()](boost::system::error_code e) {
            if (!e && !self->session_) {
                self->close_socket();
            }
        });
        stream_.async_handshake(
            ssl::stream_base::server,
            [self = shared_from_this()](boost::system::error_code e) { self->on_handshake(e); });
    }

    void drop() { close_socket(); }

    void send_max_streams(unsigned n) {
        if (closed_ || !session_) {
            return;
        }
        const nghttp2_settings_entry iv{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, n};
        if (nghttp2_submit_settings(session_.get(), NGHTTP2_FLAG_NONE, &iv, 1) != 0) {
            close_socket();
            return;
        }
        flush();
    }

private:
    void on_handshake(boost::system::error_code ec) {
        handshake_timer_.cancel();
        if (closed_) {
            return;
        }
        const unsigned char* alpn = nullptr;
        unsigned int alpn_len = 0;
        SSL_get0_alpn_selected(stream_.native_handle(), &alpn, &alpn_len);
        if (ec || alpn_len != 2 || std::memcmp(alpn, "h2", 2) != 0) {
            close_socket();
            return;
        }
        subject_ = peer_subject(stream_.native_handle());
        if (!start_session()) {
            close_socket();
            return;
        }
        flush();
        do_read();
    }

    bool start_session() {
        nghttp2_session* raw = nullptr;
        if (nghttp2_session_server_new(&raw, callbacks(), this) != 0) {
            return false;
        }
        session_.reset(raw);
        unsigned max_streams = 0;
        {
            std::lock_guard lock(shared_->mu);
            max_streams = shared_->max_streams;
        }
        const nghttp2_settings_entry iv{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, max_streams};
        return nghttp2_submit_settings(session_.get(), NGHTTP2_FLAG_NONE, &iv, 1) == 0 &&
               nghttp2_session_set_local_window_size(session_.get(), NGHTTP2_FLAG_NONE, 0,
                                                     kConnectionWindow) == 0;
    }

    void do_read() {
        reading_ = true;
        stream_.async_read_some(
            net::buffer(read_buffer_),
            [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                self->on_read(ec, n);
            });
    }

    void on_read(boost::system::error_code ec, std::size_t n) {
        reading_ = false;
        if (closed_) {
            return;
        }
        if (shutting_down_) {
            tls_shutdown();
            return;
        }
        if (ec) {
            close_socket();  // EOF, truncation, reset: the client went away
            return;
        }
        const auto rv = nghttp2_session_mem_recv(session_.get(), read_buffer_.data(), n);
        if (rv < 0) {
            close_socket();
            return;
        }
        flush();
        if (!closed_ && !shutting_down_) {
            do_read();
        }
    }

    // Collects everything nghttp2 wants to send into one buffer and writes it.
    void flush() {
        if (closed_ || writing_ || shutting_down_) {
            return;
        }
        for (;;) {
            while (write_buffer_.size() < kMaxWriteBatch) {
                const std::uint8_t* data = nullptr;
                const auto n = nghttp2_session_mem_send(session_.get(), &data);
                if (n < 0) {
                    close_socket();
                    return;
                }
                if (n == 0) {
                    break;
                }
                write_buffer_.insert(write_buffer_.end(), data, data + n);
            }
            if (goaway_pending_ && !goaway_sent_ && unfinished_ == 0) {
                goaway_sent_ = true;
                if (nghttp2_submit_goaway(session_.get(), NGHTTP2_FLAG_NONE, goaway_last_id_,
                                          NGHTTP2_NO_ERROR,
                                          reinterpret_cast<const std::uint8_t*>(kGoawayData.data()),
                                          kGoawayData.size()) != 0) {
                    close_socket();
                    return;
                }
                continue;
            }
            break;
        }
        if (!write_buffer_.empty()) {
            writing_ = true;
            net::async_write(stream_, net::buffer(write_buffer_),
                             [self = shared_from_this()](boost::system::error_code ec,
                                                         std::size_t) { self->on_write(ec); });
            return;
        }
        if (goaway_sent_ || (nghttp2_session_want_read(session_.get()) == 0 &&
                             nghttp2_session_want_write(session_.get()) == 0)) {
            begin_shutdown();
        }
    }

    void on_write(boost::system::error_code ec) {
        writing_ = false;
        write_buffer_.clear();
        if (closed_) {
            return;
        }
        if (ec) {
            close_socket();
            return;
        }
        flush();
    }

    // Graceful end after GOAWAY: stop reading, send close_notify, close.
    void begin_shutdown() {
        if (shutting_down_ || closed_) {
            return;
        }
        shutting_down_ = true;
        if (reading_) {
            boost::system::error_code ec;
            stream_.next_layer().cancel(ec);  // on_read continues with tls_shutdown()
            return;
        }
        tls_shutdown();
    }

    void tls_shutdown() {
        delay_timer_.cancel();
        handshake_timer_.expires_after(kShutdownTimeout);
        handshake_timer_.async_wait([self = shared_from_this()](boost::system::error_code e) {
            if (!e) {
                self->close_socket();
            }
        });
        stream_.async_shutdown(
            [self = shared_from_this()](boost::system::error_code) { self->close_socket(); });
    }

    void close_socket() {
        if (closed_) {
            return;
        }
        closed_ = true;
        handshake_timer_.cancel();
        delay_timer_.cancel();
        boost::system::error_code ec;
        stream_.next_layer().close(ec);
        shared_->open.fetch_sub(1);
        std::lock_guard lock(shared_->conns_mu);
        shared_->conns.erase(id_);
    }

    // --- nghttp2 callbacks -----------------------------------------------------------

    static nghttp2_session_callbacks* callbacks() {
        static const H2CallbacksPtr cbs = [] {
            nghttp2_session_callbacks* raw = nullptr;
            if (nghttp2_session_callbacks_new(&raw) != 0) {
                std::abort();
            }
            nghttp2_session_callbacks_set_on_begin_headers_callback(raw, on_begin_headers);
            nghttp2_session_callbacks_set_on_header_callback(raw, on_header);
            nghttp2_session_callbacks_set_on_data_chunk_recv_callback(raw, on_data_chunk);
            nghttp2_session_callbacks_set_on_frame_recv_callback(raw, on_frame_recv);
            nghttp2_session_callbacks_set_on_stream_close_callback(raw, on_stream_close);
            return H2CallbacksPtr(raw);
        }();
        return cbs.get();
    }

    static int on_begin_headers(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
        if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
            return 0;
        }
        auto* self = static_cast<Connection*>(user);
        Stream* s = self->acquire_stream(frame->hd.stream_id);
        return nghttp2_session_set_stream_user_data(session, frame->hd.stream_id, s) == 0
                   ? 0
                   : NGHTTP2_ERR_CALLBACK_FAILURE;
    }

    static int on_header(nghttp2_session* session, const nghttp2_frame* frame,
                         const std::uint8_t* name, std::size_t namelen, const std::uint8_t* value,
                         std::size_t valuelen, std::uint8_t, void*) {
        if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
            return 0;
        }
        auto* s = static_cast<Stream*>(
            nghttp2_session_get_stream_user_data(session, frame->hd.stream_id));
        if (s == nullptr) {
            return 0;
        }
        const std::string_view n(reinterpret_cast<const char*>(name), namelen);
        const std::string_view v(reinterpret_cast<const char*>(value), valuelen);
        std::string* field = nullptr;
        if (n == ":method") {
            field = &s->method;
        } else if (n == ":path") {
            field = &s->path;
        } else if (n == "apns-topic") {
            field = &s->topic;
        } else if (n == "apns-id") {
            field = &s->apns_id;
        } else if (n == "apns-priority") {
            field = &s->priority;
        } else if (n == "apns-expiration") {
            field = &s->expiration;
        } else if (n == "apns-push-type") {
            field = &s->push_type;
        }
        if (field != nullptr) {
            field->assign(v);
        }
        return 0;
    }

    static int on_data_chunk(nghttp2_session* session, std::uint8_t, std::int32_t stream_id,
                             const std::uint8_t* data, std::size_t len, void*) {
        auto* s = static_cast<Stream*>(nghttp2_session_get_stream_user_data(session, stream_id));
        if (s == nullptr) {
            return 0;
        }
        s->body_size += len;
        if (s->body.size() < kMaxPayload) {
            const std::size_t keep = std::min(len, kMaxPayload - s->body.size());
            s->body.append(reinterpret_cast<const char*>(data), keep);
        }
        return 0;
    }

    static int on_frame_recv(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
        if ((frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) ||
            (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) == 0) {
            return 0;
        }
        auto* s = static_cast<Stream*>(
            nghttp2_session_get_stream_user_data(session, frame->hd.stream_id));
        if (s == nullptr || s->processed) {
            return 0;
        }
        return static_cast<Connection*>(user)->on_request(*s);
    }

    static int on_stream_close(nghttp2_session* session, std::int32_t stream_id, std::uint32_t,
                               void* user) {
        auto* s = static_cast<Stream*>(nghttp2_session_get_stream_user_data(session, stream_id));
        if (s != nullptr) {
            static_cast<Connection*>(user)->release_stream(s);
        }
        return 0;
    }

    static ssize_t read_body(nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t length,
                             std::uint32_t* flags, nghttp2_data_source* source, void*);

    // --- requests ----------------------------------------------------------------------

    Stream* acquire_stream(std::int32_t id) {
        std::unique_ptr<Stream> s;
        if (free_streams_.empty()) {
            s = std::make_unique<Stream>();
        } else {
            s = std::move(free_streams_.back());
            free_streams_.pop_back();
        }
        s->reset(id);
        s->slot = live_streams_.size();
        Stream* raw = s.get();
        live_streams_.push_back(std::move(s));
        return raw;
    }

    void release_stream(Stream* s) {
        if (s->processed) {
            --unfinished_;
        }
        const std::size_t slot = s->slot;
        free_streams_.push_back(std::move(live_streams_[slot]));
        if (slot + 1 != live_streams_.size()) {
            live_streams_[slot] = std::move(live_streams_.back());
            live_streams_[slot]->slot = slot;
        }
        live_streams_.pop_back();
    }

    // Apple's checks in order; false when the request is acceptable.
    static bool reject(Stream& s, Reply& out) {
        auto fail = [&out](unsigned status, std::string_view reason) {
            out.status = status;
            out.reason.assign(reason);
            return true;
        };
        const bool device_path =
            std::string_view(s.path).substr(0, kDevicePrefix.size()) == kDevicePrefix;
        if (device_path) {
            s.token.assign(s.path, kDevicePrefix.size());
        }
        if (s.method != "POST") {
            return fail(405, "MethodNotAllowed");
        }
        if (!device_path) {
            return fail(404, "BadPath");
        }
        if (!is_hex_token(s.token)) {
            return fail(400, "BadDeviceToken");
        }
        if (s.topic.empty()) {
            return fail(400, "MissingTopic");
        }
        if (!s.apns_id.empty() && !is_uuid(s.apns_id)) {
            return fail(400, "BadMessageId");
        }
        if (s.body_size == 0) {
            return fail(400, "PayloadEmpty");
        }
        if (s.body_size > kMaxPayload) {
            return fail(413, "PayloadTooLarge");
        }
        return false;
    }

    int on_request(Stream& s) {
        if (goaway_pending_ && s.id > goaway_last_id_) {
            return 0;  // beyond GOAWAY's last_stream_id: not processed
        }
        Decision d;
        d.scripted = !reject(s, d.reply);
        shared_->decide(s.token, goaway_counter_, d);
        if (d.skip) {
            goaway_pending_ = true;
            goaway_last_id_ = last_processed_id_;
            return 0;
        }
        s.processed = true;
        ++unfinished_;
        last_processed_id_ = std::max(last_processed_id_, s.id);
        if (d.goaway) {
            goaway_pending_ = true;
            goaway_last_id_ = s.id;
        }
        s.reply = std::move(d.reply);
        if (s.apns_id.empty()) {
            format_uuid(shared_->id_seed, (id_ << 40) ^ ++generated_ids_, s.reply_id);
        } else {
            s.reply_id = s.apns_id;
        }
        if (d.delay.count() > 0) {
            schedule(s.id, Clock::now() + d.delay);
            return 0;
        }
        return answer(s) ? 0 : NGHTTP2_ERR_CALLBACK_FAILURE;
    }

    bool answer(Stream& s) {
        const Reply& r = s.reply;
        if (r.rst_stream_error != 0) {
            record(s, 0);
            return nghttp2_submit_rst_stream(session_.get(), NGHTTP2_FLAG_NONE, s.id,
                                             r.rst_stream_error) == 0;
        }
        record(s, r.status);
        std::array<char, 12> status_buf{};
        const auto [end, _] =
            std::to_chars(status_buf.data(), status_buf.data() + status_buf.size(), r.status);
        const std::string_view status(status_buf.data(),
                                      static_cast<std::size_t>(end - status_buf.data()));
        if (r.status == 200) {
            const std::array nva{make_nv(":status", status),
                                 make_nv("apns-id", s.reply_id, NGHTTP2_NV_FLAG_NO_INDEX)};
            return nghttp2_submit_response(session_.get(), s.id, nva.data(), nva.size(), nullptr) ==
                   0;
        }
        s.response_body = R"({"reason":)";
        append_json_string(s.response_body, r.reason.empty() ? default_reason(r.status) : r.reason);
        if (r.timestamp_ms || r.status == 410) {
            const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::system_clock::now().time_since_epoch());
            s.response_body += ",\"timestamp\":";
            s.response_body += std::to_string(r.timestamp_ms.value_or(now.count()));
        }
        s.response_body += '}';
        const std::string length = std::to_string(s.response_body.size());
        const std::array nva{
            make_nv(":status", status), make_nv("apns-id", s.reply_id, NGHTTP2_NV_FLAG_NO_INDEX),
            make_nv("content-type", "application/json"), make_nv("content-length", length)};
        nghttp2_data_provider provider{};
        provider.source.ptr = &s;
        provider.read_callback = read_body;
        return nghttp2_submit_response(session_.get(), s.id, nva.data(), nva.size(), &provider) ==
               0;
    }

    void record(const Stream& s, unsigned status) {
        std::lock_guard lock(shared_->mu);
        ++shared_->count;
        if (status == 200) {
            ++shared_->count_ok;
        }
        if (shared_->record) {
            shared_->pushes.push_back(RecordedPush{s.token, s.topic, s.body, s.apns_id, subject_,
                                                   status, Clock::now(), s.priority, s.expiration,
                                                   s.push_type, s.reply_id, id_, s.id});
        }
        shared_->cv.notify_all();
    }

    // --- delayed answers (one timer per connection, deadlines kept sorted) -------------

    void schedule(std::int32_t stream_id, Clock::time_point at) {
        auto pos = std::upper_bound(delayed_.begin(), delayed_.end(), at,
                                    [](Clock::time_point t, const auto& e) { return t < e.first; });
        delayed_.insert(pos, {at, stream_id});
        if (!timer_waiting_ || at < timer_deadline_) {
            arm_timer();
        }
    }

    void arm_timer() {
        timer_waiting_ = true;
        timer_deadline_ = delayed_.front().first;
        const std::uint64_t generation = ++timer_generation_;
        delay_timer_.expires_at(timer_deadline_);
        delay_timer_.async_wait(
            [self = shared_from_this(), generation](boost::system::error_code ec) {
                if (!ec && !self->closed_ && generation == self->timer_generation_) {
                    self->on_delay_timer();
                }
            });
    }

    void on_delay_timer() {
        timer_waiting_ = false;
        const auto now = Clock::now();
        while (!delayed_.empty() && delayed_.front().first <= now) {
            const std::int32_t id = delayed_.front().second;
            delayed_.pop_front();
            auto* s =
                static_cast<Stream*>(nghttp2_session_get_stream_user_data(session_.get(), id));
            if (s != nullptr && !answer(*s)) {
                close_socket();
                return;
            }
        }
        if (!delayed_.empty()) {
            arm_timer();
        }
        flush();
    }

    TlsStream stream_;
    std::shared_ptr<Shared> shared_;
    const std::uint64_t id_;
    net::basic_waitable_timer<Clock, net::wait_traits<Clock>, Executor> handshake_timer_;
    net::basic_waitable_timer<Clock, net::wait_traits<Clock>, Executor> delay_timer_;
    H2SessionPtr session_;
    std::string subject_;
    std::vector<std::uint8_t> read_buffer_;
    std::vector<std::uint8_t> write_buffer_;
    bool reading_ = false;
    bool writing_ = false;
    bool shutting_down_ = false;
    bool closed_ = false;
    std::vector<std::unique_ptr<Stream>> live_streams_;
    std::vector<std::unique_ptr<Stream>> free_streams_;
    std::size_t unfinished_ = 0;  // processed streams not yet closed
    std::int32_t last_processed_id_ = 0;
    GoawayCounter goaway_counter_;
    bool goaway_pending_ = false;
    bool goaway_sent_ = false;
    std::int32_t goaway_last_id_ = 0;
    std::uint64_t generated_ids_ = 0;
    std::deque<std::pair<Clock::time_point, std::int32_t>> delayed_;
    bool timer_waiting_ = false;
    Clock::time_point timer_deadline_;
    std::uint64_t timer_generation_ = 0;
};

ssize_t Connection::read_body(nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t length,
                              std::uint32_t* flags, nghttp2_data_source* source, void*) {
    auto* s = static_cast<Stream*>(source->ptr);
    const std::size_t n = std::min(length, s->response_body.size() - s->response_offset);
    std::memcpy(buf, s->response_body.data() + s->response_offset, n);
    s->response_offset += n;
    if (s->response_offset == s->response_body.size()) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    }
    return static_cast<ssize_t>(n);
}

}  // namespace

// --- FakeApns ------------------------------------------------------------------------------

struct FakeApns::Impl {
    explicit Impl(FakeApnsOptions o)
        : options(std::move(o)),
          shared(std::make_shared<Shared>(options)),
          tls(make_tls_context(options)),
          acceptor(net::make_strand(ioc)) {
        const tcp::endpoint endpoint(net::ip::make_address(options.address), options.port);
        acceptor.open(endpoint.protocol());
        acceptor.set_option(tcp::acceptor::reuse_address(true));
        acceptor.bind(endpoint);
        acceptor.listen(net::socket_base::max_listen_connections);
        port = acceptor.local_endpoint().port();
    }

    void do_accept() {
        acceptor.async_accept(net::make_strand(ioc),
                              [this](boost::system::error_code ec, Socket socket) {
                                  on_accept(ec, std::move(socket));
                              });
    }

    void on_accept(boost::system::error_code ec, Socket socket) {
        if (ec == net::error::operation_aborted || !acceptor.is_open()) {
            return;
        }
        if (!ec) {
            shared->accepted.fetch_add(1);
            if (!shared->accepting.load()) {
                boost::system::error_code ignored;
                socket.close(ignored);
            } else {
                start_connection(std::move(socket));
            }
        }
        do_accept();
    }

    void start_connection(Socket socket) {
        const std::uint64_t id = ++next_connection_id;
        auto connection = std::make_shared<Connection>(std::move(socket), tls, shared, id);
        shared->open.fetch_add(1);
        {
            std::lock_guard lock(shared->conns_mu);
            shared->conns.emplace(id, connection);
        }
        net::post(connection->executor(), [connection] { connection->start(); });
    }

    FakeApnsOptions options;
    std::shared_ptr<Shared> shared;
    ssl::context tls;  // outlives the connections (declared before ioc)
    net::io_context ioc;
    tcp::acceptor acceptor;  // on its own strand: closed from the destructor by a post
    std::uint16_t port = 0;
    std::uint64_t next_connection_id = 0;
    std::vector<std::thread> threads;
};

FakeApns::FakeApns(FakeApnsOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
    impl_->do_accept();
    const unsigned n = std::max(1U, impl_->options.threads);
    for (unsigned i = 0; i < n; ++i) {
        impl_->threads.emplace_back([io = &impl_->ioc] { io->run(); });
    }
}

FakeApns::~FakeApns() {
    Impl& impl = *impl_;
    net::post(impl.acceptor.get_executor(), [&impl] {
        boost::system::error_code ec;
        impl.acceptor.close(ec);
    });
    // Connections accepted after this snapshot see the closed acceptor's abort and end
    // with their handshake timer at the latest; stop() below bounds that wait.
    for (auto& c : impl.shared->live_connections()) {
        net::post(c->executor(), [c] { c->drop(); });
    }
    const auto deadline = Clock::now() + std::chrono::seconds(2);
    while (!impl.ioc.stopped() && Clock::now() < deadline) {
        for (auto& c : impl.shared->live_connections()) {
            net::post(c->executor(), [c] { c->drop(); });
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    impl.ioc.stop();
    for (auto& t : impl.threads) {
        t.join();
    }
}

std::uint16_t FakeApns::port() const { return impl_->port; }

void FakeApns::reply_for(std::string device_token, Reply reply, int times) {
    if (times == 0) {
        return;
    }
    std::lock_guard lock(impl_->shared->mu);
    impl_->shared->per_token[std::move(device_token)].push_back(Rule{std::move(reply), times});
}

void FakeApns::reply_all(Reply reply, int times) {
    if (times == 0) {
        return;
    }
    std::lock_guard lock(impl_->shared->mu);
    impl_->shared->all = Rule{std::move(reply), times};
}

void FakeApns::reset_replies() {
    std::lock_guard lock(impl_->shared->mu);
    impl_->shared->per_token.clear();
    impl_->shared->all.reset();
}

void FakeApns::set_delay(std::chrono::milliseconds d) {
    std::lock_guard lock(impl_->shared->mu);
    impl_->shared->delay = d;
}

void FakeApns::goaway_after(unsigned requests) {
    std::lock_guard lock(impl_->shared->mu);
    impl_->shared->goaway_armed = true;
    ++impl_->shared->goaway_generation;
    impl_->shared->goaway_requests = requests;
}

void FakeApns::cancel_goaway() {
    std::lock_guard lock(impl_->shared->mu);
    impl_->shared->goaway_armed = false;
}

void FakeApns::set_max_concurrent_streams(unsigned n) {
    {
        std::lock_guard lock(impl_->shared->mu);
        impl_->shared->max_streams = n;
    }
    for (auto& c : impl_->shared->live_connections()) {
        net::post(c->executor(), [c, n] { c->send_max_streams(n); });
    }
}

void FakeApns::drop_connections() {
    for (auto& c : impl_->shared->live_connections()) {
        net::post(c->executor(), [c] { c->drop(); });
    }
}

void FakeApns::set_accepting(bool accept) { impl_->shared->accepting.store(accept); }

std::vector<RecordedPush> FakeApns::pushes() const {
    std::lock_guard lock(impl_->shared->mu);
    return impl_->shared->pushes;
}

std::size_t FakeApns::count() const {
    std::lock_guard lock(impl_->shared->mu);
    return impl_->shared->count;
}

std::size_t FakeApns::count_ok() const {
    std::lock_guard lock(impl_->shared->mu);
    return impl_->shared->count_ok;
}

bool FakeApns::wait_for_count(std::size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(impl_->shared->mu);
    return impl_->shared->cv.wait_for(lock, timeout, [&] { return impl_->shared->count >= n; });
}

std::size_t FakeApns::connections_accepted() const { return impl_->shared->accepted.load(); }

std::size_t FakeApns::connections_open() const { return impl_->shared->open.load(); }

void FakeApns::clear() {
    std::lock_guard lock(impl_->shared->mu);
    impl_->shared->pushes.clear();
    impl_->shared->count = 0;
    impl_->shared->count_ok = 0;
}

}  // namespace cardsmith::testing
