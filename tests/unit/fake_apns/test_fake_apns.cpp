// Self-test of the fake APNs (tests/support/fake_apns.hpp) with real HTTP/2 clients: a
// small nghttp2 client below (TLS with ALPN h2 and an optional client certificate), and
// nghttp / h2load from nghttp2-client as subprocesses when they are installed.
#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "dev_pki.hpp"
#include "fake_apns.hpp"
#include "temp_dir.hpp"

namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using cardsmith::test::DevPki;
using cardsmith::testing::FakeApns;
using cardsmith::testing::FakeApnsOptions;
using cardsmith::testing::Reply;

constexpr auto kTimeout = 5s;

struct Request {
    std::string method = "POST";
    std::string path = "/3/device/abcd";
    std::map<std::string, std::string> headers = {{"apns-topic", "pass.dev.cardsmith"}};
    std::string body = "{}";
};

struct Response {
    bool done = false;            // stream closed
    std::uint32_t rst_error = 0;  // RST_STREAM error code, 0 if none
    unsigned status = 0;
    std::map<std::string, std::string> headers;
    std::string body;
    Clock::time_point at;
};

struct ClientCert {
    std::string chain_file, key_file;
};

// A minimal HTTP/2 client over TLS for the tests: one connection, all I/O on its own
// io_context run by the calling thread (so every wait has a deadline).
class H2Client {
public:
    explicit H2Client(std::optional<ClientCert> cert, std::string alpn = std::string("\x02h2", 3))
        : tls_(ssl::context::tls_client), alpn_(std::move(alpn)) {
        tls_.load_verify_file(DevPki::shared().root());
        tls_.set_verify_mode(ssl::verify_peer);
        if (cert) {
            tls_.use_certificate_chain_file(cert->chain_file);
            tls_.use_private_key_file(cert->key_file, ssl::context::pem);
        }
        SSL_CTX_set_alpn_protos(tls_.native_handle(),
                                reinterpret_cast<const unsigned char*>(alpn_.data()),
                                static_cast<unsigned>(alpn_.size()));
    }

    // TCP connect and TLS handshake (true when both worked and ALPN picked h2).
    bool connect(std::uint16_t port) {
        stream_ = std::make_unique<ssl::stream<tcp::socket>>(ioc_, tls_);
        stream_->set_verify_callback(ssl::host_name_verification("127.0.0.1"));
        bool finished = false;
        boost::system::error_code result;
        stream_->next_layer().async_connect(
            {net::ip::make_address("127.0.0.1"), port}, [&](boost::system::error_code ec) {
                if (ec) {
                    result = ec;
                    finished = true;
                    return;
                }
                stream_->async_handshake(ssl::stream_base::client,
                                         [&](boost::system::error_code e) {
                                             result = e;
                                             finished = true;
                                         });
            });
        run_until([&] { return finished; }, kTimeout);
        const unsigned char* alpn = nullptr;
        unsigned alpn_len = 0;
        SSL_get0_alpn_selected(stream_->native_handle(), &alpn, &alpn_len);
        if (!finished || result || alpn_len != 2) {
            closed_ = true;
            return false;
        }
        nghttp2_session_callbacks* cbs = nullptr;
        nghttp2_session_callbacks_new(&cbs);
        nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data);
        nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
        nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame);
        nghttp2_session* raw = nullptr;
        nghttp2_session_client_new(&raw, cbs, this);
        nghttp2_session_callbacks_del(cbs);
        session_.reset(raw);
        nghttp2_submit_settings(session_.get(), NGHTTP2_FLAG_NONE, nullptr, 0);
        do_read();
        flush();
        return true;
    }

    // Sends `requests` keeping at most `in_flight` streams open; returns when all are
    // answered, the connection ends, or `timeout` passes. Responses are in request order.
    std::vector<Response> exchange(std::vector<Request> requests, std::size_t in_flight = 100,
                                   std::chrono::milliseconds timeout = kTimeout) {
        requests_ = std::move(requests);
        responses_.assign(requests_.size(), Response{});
        sources_.assign(requests_.size(), Source{});
        next_ = 0;
        open_ = 0;
        in_flight_ = in_flight;
        submit_more();
        flush();
        run_until([&] { return closed_ || answered() == requests_.size(); }, timeout);
        return responses_;
    }

    // Runs the connection for `d` (to receive SETTINGS, GOAWAY, the close...).
    void pump_for(std::chrono::milliseconds d) {
        run_until([] { return false; }, d);
    }
    void pump_until_closed(std::chrono::milliseconds d) {
        run_until([&] { return closed_; }, d);
    }

    [[nodiscard]] bool closed() const { return closed_; }
    [[nodiscard]] std::optional<std::int32_t> goaway_last_id() const { return goaway_last_id_; }
    [[nodiscard]] const std::string& goaway_data() const { return goaway_data_; }
    [[nodiscard]] std::uint32_t remote_max_streams() const {
        return nghttp2_session_get_remote_settings(session_.get(),
                                                   NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
    }

private:
    struct Source {
        std::size_t index = 0;
        std::size_t offset = 0;
    };
    struct SessionDeleter {
        void operator()(nghttp2_session* s) const { nghttp2_session_del(s); }
    };

    template <typename Pred>
    void run_until(Pred done, std::chrono::steady_clock::duration timeout) {
        const auto deadline = Clock::now() + timeout;
        ioc_.restart();
        while (!done() && Clock::now() < deadline) {
            ioc_.run_one_for(std::chrono::milliseconds(10));
            if (ioc_.stopped()) {
                ioc_.restart();
            }
        }
    }

    std::size_t answered() const {
        std::size_t n = 0;
        for (const auto& r : responses_) {
            n += r.done ? 1U : 0U;
        }
        return n;
    }

    void submit_more() {
        while (next_ < requests_.size() && open_ < in_flight_) {
            const std::size_t i = next_++;
            const Request& r = requests_[i];
            std::vector<nghttp2_nv> nva;
            auto add = [&nva](const std::string& n, const std::string& v) {
                nva.push_back({reinterpret_cast<std::uint8_t*>(const_cast<char*>(n.data())),
                               reinterpret_cast<std::uint8_t*>(const_cast<char*>(v.data())),
                               n.size(), v.size(), NGHTTP2_NV_FLAG_NONE});
            };
            const std::string method = ":method", scheme = ":scheme", https = "https",
                              authority = ":authority", host = "127.0.0.1", path = ":path";
            add(method, r.method);
            add(scheme, https);
            add(authority, host);
            add(path, r.path);
            for (const auto& [n, v] : r.headers) {
                add(n, v);
            }
            sources_[i].index = i;
            nghttp2_data_provider provider{};
            provider.source.ptr = &sources_[i];
            provider.read_callback = read_body;
            const std::int32_t id =
                nghttp2_submit_request(session_.get(), nullptr, nva.data(), nva.size(),
                                       r.body.empty() ? nullptr : &provider, &sources_[i]);
            if (id <= 0) {
                closed_ = true;  // the test sees unanswered requests
                return;
            }
            ++open_;
        }
    }

    void do_read() {
        stream_->async_read_some(
            net::buffer(read_buf_), [this](boost::system::error_code ec, std::size_t n) {
                if (ec) {
                    closed_ = true;
                    return;
                }
                if (nghttp2_session_mem_recv(session_.get(), read_buf_.data(), n) < 0) {
                    closed_ = true;
                    return;
                }
                submit_more();
                flush();
                do_read();
            });
    }

    void flush() {
        if (writing_ || closed_) {
            return;
        }
        write_buf_.clear();
        for (;;) {
            const std::uint8_t* data = nullptr;
            const auto n = nghttp2_session_mem_send(session_.get(), &data);
            if (n <= 0) {
                break;
            }
            write_buf_.insert(write_buf_.end(), data, data + n);
        }
        if (write_buf_.empty()) {
            return;
        }
        writing_ = true;
        net::async_write(*stream_, net::buffer(write_buf_),
                         [this](boost::system::error_code ec, std::size_t) {
                             writing_ = false;
                             if (ec) {
                                 closed_ = true;
                                 return;
                             }
                             flush();
                         });
    }

    static ssize_t read_body(nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t len,
                             std::uint32_t* flags, nghttp2_data_source* source, void* user) {
        auto* self = static_cast<H2Client*>(user);
        auto* src = static_cast<Source*>(source->ptr);
        const std::string& body = self->requests_[src->index].body;
        const std::size_t n = std::min(len, body.size() - src->offset);
        std::memcpy(buf, body.data() + src->offset, n);
        src->offset += n;
        if (src->offset == body.size()) {
            *flags |= NGHTTP2_DATA_FLAG_EOF;
        }
        return static_cast<ssize_t>(n);
    }

    Response* response_for(nghttp2_session* session, std::int32_t stream_id) {
        auto* src = static_cast<Source*>(nghttp2_session_get_stream_user_data(session, stream_id));
        return src == nullptr ? nullptr : &responses_[src->index];
    }

    static int on_header(nghttp2_session* session, const nghttp2_frame* frame,
                         const std::uint8_t* name, std::size_t namelen, const std::uint8_t* value,
                         std::size_t valuelen, std::uint8_t, void* user) {
        Response* r = static_cast<H2Client*>(user)->response_for(session, frame->hd.stream_id);
        if (r == nullptr) {
            return 0;
        }
        const std::string n(reinterpret_cast<const char*>(name), namelen);
        const std::string v(reinterpret_cast<const char*>(value), valuelen);
        if (n == ":status") {
            r->status = static_cast<unsigned>(std::stoul(v));
        }
        r->headers[n] = v;
        return 0;
    }

    static int on_data(nghttp2_session* session, std::uint8_t, std::int32_t stream_id,
                       const std::uint8_t* data, std::size_t len, void* user) {
        if (Response* r = static_cast<H2Client*>(user)->response_for(session, stream_id)) {
            r->body.append(reinterpret_cast<const char*>(data), len);
        }
        return 0;
    }

    static int on_stream_close(nghttp2_session* session, std::int32_t stream_id,
                               std::uint32_t error_code, void* user) {
        auto* self = static_cast<H2Client*>(user);
        if (Response* r = self->response_for(session, stream_id)) {
            r->rst_error = error_code;
            r->done = r->status != 0 || error_code != 0;
            r->at = Clock::now();
            --self->open_;
        }
        return 0;
    }

    static int on_frame(nghttp2_session*, const nghttp2_frame* frame, void* user) {
        if (frame->hd.type == NGHTTP2_GOAWAY) {
            auto* self = static_cast<H2Client*>(user);
            self->goaway_last_id_ = frame->goaway.last_stream_id;
            self->goaway_data_.assign(reinterpret_cast<const char*>(frame->goaway.opaque_data),
                                      frame->goaway.opaque_data_len);
        }
        return 0;
    }

    net::io_context ioc_;
    ssl::context tls_;
    std::string alpn_;
    std::unique_ptr<ssl::stream<tcp::socket>> stream_;
    std::unique_ptr<nghttp2_session, SessionDeleter> session_;
    std::array<std::uint8_t, 64 * 1024> read_buf_{};
    std::vector<std::uint8_t> write_buf_;
    bool writing_ = false;
    bool closed_ = false;
    std::vector<Request> requests_;
    std::vector<Response> responses_;
    std::vector<Source> sources_;
    std::size_t next_ = 0, open_ = 0, in_flight_ = 0;
    std::optional<std::int32_t> goaway_last_id_;
    std::string goaway_data_;
};

// The dev PKI plus the pass certificate chain (pass.pem + wwdr.pem) as one file.
struct Pki {
    DevPki& dev = DevPki::shared();
    std::string chain = (dev.dir.path() / "pass-chain.pem").string();

    Pki() {
        if (!std::filesystem::exists(chain)) {
            std::ofstream out(chain, std::ios::binary);
            for (const char* f : {"pass.pem", "wwdr.pem"}) {
                std::ifstream in(dev.dir.path() / f, std::ios::binary);
                out << in.rdbuf();
            }
        }
    }
    [[nodiscard]] std::string file(const char* name) const {
        return (dev.dir.path() / name).string();
    }
    [[nodiscard]] ClientCert pass_cert() const { return {chain, file("pass.key")}; }
    [[nodiscard]] FakeApnsOptions options() const {
        FakeApnsOptions o;
        o.cert_file = file("server.pem");
        o.key_file = file("server.key");
        o.ca_file = dev.root();
        return o;
    }
};

Request push_to(std::string token) {
    Request r;
    r.path = "/3/device/" + token;
    return r;
}

// Runs a shell command, returns (exit status, stdout+stderr).
std::pair<int, std::string> run(const std::string& command) {
    std::string out;
    FILE* p = popen((command + " 2>&1").c_str(), "r");
    BOOST_REQUIRE(p != nullptr);
    std::array<char, 4096> buf{};
    while (std::fgets(buf.data(), static_cast<int>(buf.size()), p) != nullptr) {
        out += buf.data();
    }
    const int status = pclose(p);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

bool have_tool(const char* path) { return std::filesystem::exists(path); }

}  // namespace

BOOST_AUTO_TEST_SUITE(fake_apns)

BOOST_AUTO_TEST_CASE(records_a_push_with_token_topic_body_and_client_subject) {
    Pki pki;
    FakeApns fake(pki.options());
    H2Client client(pki.pass_cert());
    BOOST_REQUIRE(client.connect(fake.port()));

    Request r = push_to("0123abcdef");
    r.body = R"({"aps":{}})";
    r.headers["apns-id"] = "123e4567-e89b-12d3-a456-426614174000";
    r.headers["apns-expiration"] = "1700000000";
    const auto responses = client.exchange({r});
    BOOST_REQUIRE(responses[0].done);
    BOOST_TEST(responses[0].status == 200U);
    BOOST_TEST(responses[0].body.empty());
    BOOST_TEST(responses[0].headers.at("apns-id") == "123e4567-e89b-12d3-a456-426614174000");

    BOOST_REQUIRE(fake.wait_for_count(1, kTimeout));
    const auto pushes = fake.pushes();
    BOOST_REQUIRE_EQUAL(pushes.size(), 1U);
    BOOST_TEST(pushes[0].device_token == "0123abcdef");
    BOOST_TEST(pushes[0].topic == "pass.dev.cardsmith");
    BOOST_TEST(pushes[0].body == R"({"aps":{}})");
    BOOST_TEST(pushes[0].apns_id == "123e4567-e89b-12d3-a456-426614174000");
    BOOST_TEST(pushes[0].expiration == "1700000000");
    BOOST_TEST(pushes[0].status == 200U);
    BOOST_TEST(pushes[0].connection == 1U);
    BOOST_TEST(pushes[0].client_subject.find("UID=pass.dev.cardsmith") != std::string::npos,
               pushes[0].client_subject);
    BOOST_TEST(fake.count() == 1U);
    BOOST_TEST(fake.count_ok() == 1U);
    BOOST_TEST(fake.connections_accepted() == 1U);
    BOOST_TEST(fake.connections_open() == 1U);

    // Without a request apns-id the fake makes a lowercase UUID.
    const auto second = client.exchange({push_to("beef")});
    const std::string id = second[0].headers.at("apns-id");
    BOOST_TEST(id.size() == 36U);
    BOOST_TEST(id[8] == '-');
    BOOST_TEST(fake.pushes()[1].reply_id == id);

    fake.clear();
    BOOST_TEST(fake.count() == 0U);
    BOOST_TEST(fake.pushes().empty());
}

BOOST_AUTO_TEST_CASE(scripted_replies) {
    Pki pki;
    FakeApns fake(pki.options());
    H2Client client(pki.pass_cert());
    BOOST_REQUIRE(client.connect(fake.port()));

    fake.reply_for("dead", Reply{410, "Unregistered", 1700000000123}, 1);
    fake.reply_for("aaaa", Reply{410, "", std::nullopt});
    fake.reply_for("abba", Reply{200, "", std::nullopt, 7});  // RST_STREAM(REFUSED_STREAM)
    auto r = client.exchange({push_to("dead"), push_to("dead"), push_to("aaaa"), push_to("abba")});
    BOOST_REQUIRE(r[0].done);
    BOOST_TEST(r[0].status == 410U);
    BOOST_TEST(r[0].body == R"({"reason":"Unregistered","timestamp":1700000000123})");
    BOOST_TEST(r[0].headers.at("content-type") == "application/json");
    BOOST_TEST(r[0].headers.count("apns-id") == 1U);
    BOOST_TEST(r[1].status == 200U);  // times = 1 was used up
    BOOST_TEST(r[2].status == 410U);
    BOOST_TEST(r[2].body.find(R"({"reason":"Unregistered","timestamp":1)") == 0U, r[2].body);
    BOOST_TEST(r[3].rst_error == 7U);
    BOOST_TEST(r[3].status == 0U);

    fake.reply_all(Reply{503, "ServiceUnavailable", std::nullopt});
    fake.reply_for("cafe", Reply{400, "DeviceTokenNotForTopic", std::nullopt});
    r = client.exchange({push_to("01"), push_to("cafe")});
    BOOST_TEST(r[0].status == 503U);
    BOOST_TEST(r[0].body == R"({"reason":"ServiceUnavailable"})");
    BOOST_TEST(r[1].body == R"({"reason":"DeviceTokenNotForTopic"})");

    fake.reset_replies();
    r = client.exchange({push_to("01"), push_to("cafe"), push_to("dead")});
    for (const auto& x : r) {
        BOOST_TEST(x.status == 200U);
    }
    BOOST_TEST(fake.count() == 9U);
    BOOST_TEST(fake.count_ok() == 4U);
}

BOOST_AUTO_TEST_CASE(answers_like_apple_to_bad_requests) {
    Pki pki;
    FakeApns fake(pki.options());
    H2Client client(pki.pass_cert());
    BOOST_REQUIRE(client.connect(fake.port()));

    std::vector<Request> requests(7, push_to("abcd"));
    requests[0].headers.erase("apns-topic");
    requests[1].method = "GET";
    requests[1].body.clear();
    requests[2].path = "/3/other/abcd";
    requests[3].path = "/3/device/not-hex";
    requests[4].body.clear();
    requests[5].body.assign(5000, 'x');
    requests[6].headers["apns-id"] = "nope";
    fake.reply_all(Reply{410, "", std::nullopt});  // validation wins over the script
    const auto r = client.exchange(requests);
    const std::vector<std::pair<unsigned, std::string>> expected = {
        {400, "MissingTopic"},   {405, "MethodNotAllowed"}, {404, "BadPath"},
        {400, "BadDeviceToken"}, {400, "PayloadEmpty"},     {413, "PayloadTooLarge"},
        {400, "BadMessageId"}};
    for (std::size_t i = 0; i < expected.size(); ++i) {
        BOOST_TEST_CONTEXT("request " << i) {
            BOOST_TEST(r[i].status == expected[i].first);
            BOOST_TEST(r[i].body == R"({"reason":")" + expected[i].second + R"("})");
        }
    }
    BOOST_TEST(fake.count() == 7U);
    BOOST_TEST(fake.count_ok() == 0U);
}

BOOST_AUTO_TEST_CASE(refuses_clients_without_certificate_or_h2) {
    Pki pki;
    FakeApns fake(pki.options());
    {
        H2Client client(std::nullopt);
        // TLS 1.3: the client may finish its handshake before the server rejects it.
        if (client.connect(fake.port())) {
            const auto r = client.exchange({push_to("abcd")});
            BOOST_TEST(!r[0].done);
            BOOST_TEST(client.closed());
        }
    }
    {
        H2Client client(pki.pass_cert(), std::string("\x08http/1.1", 9));
        BOOST_TEST(!client.connect(fake.port()));
    }
    BOOST_TEST(fake.count() == 0U);
    BOOST_TEST(fake.connections_accepted() == 2U);

    // A certificate issued directly by the root works too.
    H2Client client(ClientCert{pki.file("client.pem"), pki.file("client.key")});
    BOOST_REQUIRE(client.connect(fake.port()));
    BOOST_TEST(client.exchange({push_to("abcd")})[0].status == 200U);
}

BOOST_AUTO_TEST_CASE(many_concurrent_streams_on_one_connection) {
    Pki pki;
    auto options = pki.options();
    options.threads = 2;
    FakeApns fake(options);
    constexpr std::size_t kPerClient = 10000;
    auto work = [&](std::vector<Response>& out) {
        H2Client client(pki.pass_cert());
        if (client.connect(fake.port())) {
            out = client.exchange(std::vector<Request>(kPerClient, push_to("abcd")), 100, 15s);
        }
    };
    std::vector<Response> a, b;
    const auto start = Clock::now();
    std::thread other([&] { work(b); });
    work(a);
    other.join();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    BOOST_TEST_MESSAGE("2 connections x " << kPerClient << " pushes in " << seconds << " s");
    BOOST_REQUIRE_EQUAL(a.size(), kPerClient);
    BOOST_REQUIRE_EQUAL(b.size(), kPerClient);
    std::size_t ok = 0;
    for (const auto* v : {&a, &b}) {
        for (const auto& r : *v) {
            ok += r.status == 200 ? 1U : 0U;
        }
    }
    BOOST_TEST(ok == 2 * kPerClient);
    BOOST_TEST(fake.wait_for_count(2 * kPerClient, kTimeout));
    BOOST_TEST(fake.count_ok() == 2 * kPerClient);
    BOOST_TEST(fake.pushes().size() == 2 * kPerClient);
}

BOOST_AUTO_TEST_CASE(goaway_after_n_requests_then_close) {
    Pki pki;
    FakeApns fake(pki.options());
    fake.goaway_after(3);
    H2Client first(pki.pass_cert());
    BOOST_REQUIRE(first.connect(fake.port()));
    const auto r = first.exchange(std::vector<Request>(10, push_to("abcd")), 10);
    first.pump_until_closed(kTimeout);
    BOOST_TEST(first.closed());
    BOOST_REQUIRE(first.goaway_last_id().has_value());
    BOOST_TEST(*first.goaway_last_id() == 5);  // streams 1, 3, 5
    BOOST_TEST(first.goaway_data() == R"({"reason":"Shutdown"})");
    for (std::size_t i = 0; i < r.size(); ++i) {
        BOOST_TEST_CONTEXT("request " << i) { BOOST_TEST(r[i].status == (i < 3 ? 200U : 0U)); }
    }
    BOOST_TEST(fake.count() == 3U);

    // One-shot: the reconnecting client is not hit again.
    H2Client second(pki.pass_cert());
    BOOST_REQUIRE(second.connect(fake.port()));
    for (const auto& x : second.exchange(std::vector<Request>(10, push_to("abcd")))) {
        BOOST_TEST(x.status == 200U);
    }
    BOOST_TEST(fake.count() == 13U);
    BOOST_TEST(fake.connections_accepted() == 2U);

    // 0: the next request is not processed; GOAWAY(last_stream_id = last answered).
    fake.goaway_after(0);
    const auto last = second.exchange({push_to("abcd")});
    second.pump_until_closed(kTimeout);
    BOOST_TEST(last[0].status == 0U);
    BOOST_TEST(second.goaway_last_id().value_or(-1) == 19);
    BOOST_TEST(fake.count() == 13U);
}

BOOST_AUTO_TEST_CASE(delay_answers_without_blocking) {
    Pki pki;
    FakeApns fake(pki.options());
    fake.set_delay(300ms);
    H2Client client(pki.pass_cert());
    BOOST_REQUIRE(client.connect(fake.port()));
    const auto start = Clock::now();
    const auto r = client.exchange(std::vector<Request>(3, push_to("abcd")));
    for (const auto& x : r) {
        BOOST_TEST(x.status == 200U);
        BOOST_TEST((x.at - start >= 300ms));
    }
    // Answered together, not one after another.
    BOOST_TEST((r[2].at - r[0].at < 200ms));
    fake.set_delay(0ms);
    BOOST_TEST(client.exchange({push_to("abcd")})[0].status == 200U);
}

BOOST_AUTO_TEST_CASE(max_concurrent_streams_setting) {
    Pki pki;
    FakeApns fake(pki.options());
    H2Client client(pki.pass_cert());
    BOOST_REQUIRE(client.connect(fake.port()));
    client.pump_for(100ms);
    BOOST_TEST(client.remote_max_streams() == 1000U);
    fake.set_max_concurrent_streams(7);
    client.pump_for(200ms);
    BOOST_TEST(client.remote_max_streams() == 7U);
    H2Client later(pki.pass_cert());
    BOOST_REQUIRE(later.connect(fake.port()));
    later.pump_for(100ms);
    BOOST_TEST(later.remote_max_streams() == 7U);
}

BOOST_AUTO_TEST_CASE(drop_connections_and_refuse_new_ones) {
    Pki pki;
    FakeApns fake(pki.options());
    fake.set_delay(10s);
    H2Client client(pki.pass_cert());
    BOOST_REQUIRE(client.connect(fake.port()));
    client.exchange({push_to("abcd")}, 1, 200ms);
    BOOST_TEST(fake.connections_open() == 1U);
    fake.drop_connections();
    client.pump_until_closed(kTimeout);
    BOOST_TEST(client.closed());
    BOOST_TEST(!client.goaway_last_id().has_value());
    BOOST_TEST(fake.count() == 0U);
    for (int i = 0; i < 200 && fake.connections_open() != 0; ++i) {
        std::this_thread::sleep_for(5ms);
    }
    BOOST_TEST(fake.connections_open() == 0U);

    fake.set_delay(0ms);
    fake.set_accepting(false);
    H2Client refused(pki.pass_cert());
    BOOST_TEST(!refused.connect(fake.port()));
    BOOST_TEST(fake.connections_accepted() == 2U);
    fake.set_accepting(true);
    H2Client accepted(pki.pass_cert());
    BOOST_REQUIRE(accepted.connect(fake.port()));
    BOOST_TEST(accepted.exchange({push_to("abcd")})[0].status == 200U);
}

BOOST_AUTO_TEST_CASE(destructor_is_safe_with_clients_connected) {
    Pki pki;
    auto fake = std::make_unique<FakeApns>(pki.options());
    fake->set_delay(10s);
    H2Client client(pki.pass_cert());
    BOOST_REQUIRE(client.connect(fake->port()));
    client.exchange(std::vector<Request>(5, push_to("abcd")), 5, 200ms);
    H2Client idle(pki.pass_cert());
    BOOST_REQUIRE(idle.connect(fake->port()));
    const auto start = Clock::now();
    fake.reset();
    BOOST_TEST((Clock::now() - start < 3s));
    client.pump_until_closed(kTimeout);
    BOOST_TEST(client.closed());
}

BOOST_AUTO_TEST_CASE(nghttp_client_interoperates) {
    if (!have_tool("/usr/bin/nghttp")) {
        BOOST_TEST_MESSAGE("nghttp not installed: skipped");
        return;
    }
    Pki pki;
    FakeApns fake(pki.options());
    cardsmith::test::TempDir dir;
    const auto body = dir.path() / "body.json";
    std::ofstream(body) << R"({"aps":{}})";
    const std::string url = "https://127.0.0.1:" + std::to_string(fake.port());
    fake.reply_for("dead", Reply{410, "Unregistered", 42});
    const auto [code, out] =
        run("nghttp -v --cert=" + pki.chain + " --key=" + pki.file("pass.key") + " -d " +
            body.string() + " -H 'apns-topic: pass.x' " + url + "/3/device/dead");
    BOOST_TEST(code == 0, out);
    BOOST_TEST(out.find(":status: 410") != std::string::npos, out);
    BOOST_TEST(out.find(R"({"reason":"Unregistered","timestamp":42})") != std::string::npos, out);
    BOOST_REQUIRE_EQUAL(fake.pushes().size(), 1U);
    BOOST_TEST(fake.pushes()[0].topic == "pass.x");
    BOOST_TEST(fake.pushes()[0].body == R"({"aps":{}})");

    const auto [code2, out2] =
        run("nghttp -v -d " + body.string() + " -H 'apns-topic: pass.x' " + url + "/3/device/cafe");
    BOOST_TEST(out2.find(":status: 200") == std::string::npos, out2);
    BOOST_TEST(fake.count() == 1U);
}

BOOST_AUTO_TEST_CASE(h2load_concurrency) {
    if (!have_tool("/usr/bin/h2load")) {
        BOOST_TEST_MESSAGE("h2load not installed: skipped");
        return;
    }
    Pki pki;
    auto options = pki.options();
    options.require_client_cert = false;  // h2load has no client certificate
    FakeApns fake(options);
    cardsmith::test::TempDir dir;
    const auto body = dir.path() / "body.json";
    std::ofstream(body) << "{}";
    const auto [code, out] =
        run("h2load -n 20000 -c 4 -m 50 --header 'apns-topic: x' -d " + body.string() +
            " https://127.0.0.1:" + std::to_string(fake.port()) + "/3/device/abcd");
    BOOST_TEST(code == 0, out);
    BOOST_TEST(out.find("20000 succeeded") != std::string::npos, out);
    BOOST_TEST(fake.count_ok() == 20000U);
    BOOST_TEST(fake.connections_accepted() == 4U);
    BOOST_TEST(fake.pushes()[0].client_subject.empty());
}

BOOST_AUTO_TEST_SUITE_END()
