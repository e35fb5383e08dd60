// The HTTP/2 side of Connection: nghttp2 callbacks, request submission and the per-stream
// outcome (apple-wallet.md §3.2, §3.3). Callbacks only record; Connection's pump acts.
#include <charconv>
#include <cstring>
#include <string_view>

#include "apns/connection.hpp"
#include "common/check.hpp"

namespace cardsmith::apns::detail {
namespace {

// APNs error bodies are a few dozen bytes; anything longer is cut.
constexpr std::size_t kMaxResponseBody = 4096;
constexpr std::size_t kMaxGoawayNote = 200;

std::string_view view(const std::uint8_t* data, std::size_t len) {
    return {reinterpret_cast<const char*>(data), len};
}

PushOp* stream_op(nghttp2_session* session, std::int32_t stream_id) {
    return static_cast<PushOp*>(nghttp2_session_get_stream_user_data(session, stream_id));
}

std::string goaway_note(const nghttp2_goaway& goaway) {
    std::string note = nghttp2_http2_strerror(goaway.error_code);
    if (goaway.opaque_data_len > 0) {
        note += ' ';
        for (char ch : view(goaway.opaque_data, std::min(goaway.opaque_data_len, kMaxGoawayNote))) {
            note += static_cast<unsigned char>(ch) < 0x20 ? ' ' : ch;
        }
    }
    return note;
}

}  // namespace

struct Connection::Callbacks {
    static Connection& self(void* user) { return *static_cast<Connection*>(user); }

    static int on_frame_recv(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
        Connection& c = self(user);
        if (c.callbacks_muted_) {
            return 0;
        }
        switch (frame->hd.type) {
            case NGHTTP2_SETTINGS:
                if ((frame->hd.flags & NGHTTP2_FLAG_ACK) == 0) {
                    c.settings_received_ = true;
                }
                break;
            case NGHTTP2_PING:
                if ((frame->hd.flags & NGHTTP2_FLAG_ACK) != 0) {
                    c.ping_outstanding_ = false;
                }
                break;
            case NGHTTP2_GOAWAY:
                // nghttp2 closes the streams above last_stream_id with REFUSED_STREAM.
                c.goaway_received_ = true;
                c.goaway_note_ = goaway_note(frame->goaway);
                break;
            case NGHTTP2_HEADERS:
            case NGHTTP2_DATA:
                if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0) {
                    if (PushOp* op = stream_op(session, frame->hd.stream_id)) {
                        op->response_done = true;
                    }
                }
                break;
            default:
                break;
        }
        return 0;
    }

    static int on_header(nghttp2_session* session, const nghttp2_frame* frame,
                         const std::uint8_t* name, std::size_t namelen, const std::uint8_t* value,
                         std::size_t valuelen, std::uint8_t /*flags*/, void* user) {
        if (self(user).callbacks_muted_ || frame->hd.type != NGHTTP2_HEADERS) {
            return 0;
        }
        PushOp* op = stream_op(session, frame->hd.stream_id);
        if (op == nullptr) {
            return 0;
        }
        const auto n = view(name, namelen);
        const auto v = view(value, valuelen);
        if (n == ":status") {
            unsigned status = 0;
            if (std::from_chars(v.data(), v.data() + v.size(), status).ec == std::errc()) {
                op->status = status;
            }
        } else if (n == "apns-id") {
            op->apns_id.assign(v);
        }
        return 0;
    }

    static int on_data_chunk(nghttp2_session* session, std::uint8_t /*flags*/,
                             std::int32_t stream_id, const std::uint8_t* data, std::size_t len,
                             void* user) {
        if (self(user).callbacks_muted_) {
            return 0;
        }
        if (PushOp* op = stream_op(session, stream_id);
            op != nullptr && op->body.size() < kMaxResponseBody) {
            op->body.append(view(data, std::min(len, kMaxResponseBody - op->body.size())));
        }
        return 0;
    }

    static int on_stream_close(nghttp2_session* /*session*/, std::int32_t stream_id,
                               std::uint32_t error_code, void* user) {
        Connection& c = self(user);
        if (!c.callbacks_muted_) {
            c.stream_closed(stream_id, error_code);
        }
        return 0;
    }

    // The request body, copied straight from the PushOp into nghttp2's frame buffer.
    static ssize_t read_body(nghttp2_session* /*session*/, std::int32_t /*stream_id*/,
                             std::uint8_t* buf, std::size_t length, std::uint32_t* data_flags,
                             nghttp2_data_source* source, void* /*user*/) {
        auto* op = static_cast<PushOp*>(source->ptr);
        const std::string& payload = op->push.payload;
        const std::size_t n = std::min(length, payload.size() - op->body_sent);
        std::memcpy(buf, payload.data() + op->body_sent, n);
        op->body_sent += n;
        if (op->body_sent == payload.size()) {
            *data_flags |= NGHTTP2_DATA_FLAG_EOF;
        }
        return static_cast<ssize_t>(n);
    }
};

H2CallbacksPtr Connection::make_callbacks() {
    nghttp2_session_callbacks* raw = nullptr;
    CARDSMITH_CHECK(nghttp2_session_callbacks_new(&raw) == 0);
    H2CallbacksPtr callbacks(raw);
    nghttp2_session_callbacks_set_on_frame_recv_callback(raw, &Callbacks::on_frame_recv);
    nghttp2_session_callbacks_set_on_header_callback(raw, &Callbacks::on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(raw, &Callbacks::on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(raw, &Callbacks::on_stream_close);
    return callbacks;
}

bool Connection::submit(OpPtr& op) {
    // Names and values point into the op and this connection, which outlive the frame
    // (the op is freed only when its stream closes): nghttp2 copies nothing.
    std::array<nghttp2_nv, 8> nva;
    std::size_t n = 0;
    nva[n++] = make_nv(":method", "POST");
    nva[n++] = make_nv(":scheme", "https");
    nva[n++] = make_nv(":authority", authority_);
    // The path holds the device token: never worth an HPACK table entry.
    nva[n++] = make_nv(":path", op->path, NGHTTP2_NV_FLAG_NO_INDEX);
    nva[n++] = make_nv("apns-topic", op->push.topic);
    if (!op->expiration.empty()) {
        nva[n++] = make_nv("apns-expiration", op->expiration);
    }
    if (!op->push.apns_id.empty()) {
        nva[n++] = make_nv("apns-id", op->push.apns_id);
    }
    nva[n++] = make_nv("content-length", op->content_length);

    op->reset_stream();
    nghttp2_data_provider body{};
    body.source.ptr = op.get();
    body.read_callback = &Callbacks::read_body;
    const std::int32_t stream_id =
        nghttp2_submit_request(session_.get(), nullptr, nva.data(), n, &body, op.get());
    if (stream_id < 0) {
        return false;
    }
    streams_.emplace(stream_id, std::move(op));
    return true;
}

void Connection::stream_closed(std::int32_t stream_id, std::uint32_t error_code) {
    const auto it = streams_.find(stream_id);
    if (it == streams_.end()) {
        return;
    }
    OpPtr op = std::move(it->second);
    streams_.erase(it);
    if (op->completed()) {
        return;  // timed out earlier; this is the end of our RST_STREAM
    }
    if (op->status != 0 && error_code != NGHTTP2_REFUSED_STREAM) {
        PushResult result{op->status, {}, {}, std::move(op->apns_id)};
        if (result.status != 200) {
            parse_error_body(op->body, result);
        }
        pool_->finish(*op, std::move(result));
        return;
    }
    // REFUSED_STREAM (also every stream above a GOAWAY's last id): surely not processed.
    // Any other reset without an answer: maybe processed; resent too (at least once).
    (error_code == NGHTTP2_REFUSED_STREAM ? refused_ : reset_).push_back(std::move(op));
}

void Connection::expire_streams(Clock::time_point now) {
    for (const auto& [stream_id, op] : streams_) {
        if (op->completed() || op->deadline > now) {
            continue;
        }
        pool_->finish_timeout(*op);
        // The op stays until nghttp2 closes the stream (it may still read the body).
        (void)nghttp2_submit_rst_stream(session_.get(), NGHTTP2_FLAG_NONE, stream_id,
                                        NGHTTP2_CANCEL);
    }
}

void Connection::hand_back_resends() {
    if (!refused_.empty()) {
        pool_->resend(refused_, Pool::Resend::refused, "refused by server");
    }
    if (!reset_.empty()) {
        pool_->resend(reset_, Pool::Resend::lost, "stream reset by server");
    }
}

std::size_t Connection::free_slots() const {
    if (!session_) {
        return 0;
    }
    const std::size_t limit = nghttp2_session_get_remote_settings(
        session_.get(), NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
    // A server that sets no limit gets a sane one.
    const std::size_t capped = std::min<std::size_t>(limit, 10'000);
    return capped > streams_.size() ? capped - streams_.size() : 0;
}

}  // namespace cardsmith::apns::detail
