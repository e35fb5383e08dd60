// Enrollment helpers: one-time codes, the code sender's message and signed webhook, the
// birthday job on a real SQLite store, and the outgoing HTTP client against local servers.
#include <openssl/hmac.h>
#include <sqlite3.h>

#include <boost/asio/ssl.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <cctype>
#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "crypto/hash.hpp"
#include "crypto/secret_box.hpp"
#include "dev_pki.hpp"
#include "domain/design.hpp"
#include "domain/enrollment.hpp"
#include "enroll/birthdays.hpp"
#include "enroll/code_sender.hpp"
#include "enroll/codes.hpp"
#include "http/client.hpp"
#include "storage/store.hpp"
#include "temp_dir.hpp"

using namespace cardsmith;
namespace json = boost::json;

namespace {

// HMAC-SHA256 in hex straight from OpenSSL, independent of crypto::hmac_sha256_hex.
std::string openssl_hmac_hex(std::string_view key, std::string_view data) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    BOOST_REQUIRE(HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac,
                       &len) != nullptr);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < len; ++i) {
        out += kHex[mac[i] >> 4];
        out += kHex[mac[i] & 0xf];
    }
    return out;
}

// Checks "t=<unix>,v1=<hex>" against the body with OpenSSL; returns t (or -1).
std::int64_t verify_signature(const std::string& header, std::string_view secret,
                              std::string_view body) {
    const auto comma = header.find(',');
    if (!header.starts_with("t=") || comma == std::string::npos ||
        header.compare(comma + 1, 3, "v1=") != 0) {
        return -1;
    }
    const std::string t = header.substr(2, comma - 2);
    const std::string mac = header.substr(comma + 4);
    std::string signed_text = t + "." + std::string(body);
    if (mac != openssl_hmac_hex(secret, signed_text)) {
        return -1;
    }
    return std::stoll(t);
}

enroll::CodeMessage message(const std::string& channel = "phone",
                            const std::string& language = "en") {
    enroll::CodeMessage m;
    m.program_slug = "bean";
    m.program_name = "Bean";
    m.language = language;
    m.channel = channel;
    m.destination = channel == "phone" ? "+4915112345678" : "ann@example.com";
    m.code = "012345";
    m.expires_at_ms = 1'773'570'600'000;
    m.ttl_seconds = 600;
    return m;
}

// What the local server saw of the request.
struct Seen {
    std::string method, target, body;
    std::map<std::string, std::string> headers;  // lower-case names
};

// A one-connection HTTP/1.1 server on 127.0.0.1 in its own thread (blocking Beast, TLS
// when `tls` is given): answers the first request with `status` and `body`, or, when
// `silent`, reads it and waits for the client to hang up.
class OneShotServer {
public:
    explicit OneShotServer(int status, std::string body = "ok", bool silent = false,
                           net::ssl::context* tls = nullptr)
        : acceptor_(ioc_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)),
          port_(acceptor_.local_endpoint().port()) {
        thread_ = std::thread([this, status, body = std::move(body), silent, tls] {
            serve(status, body, silent, tls);
        });
    }
    ~OneShotServer() {
        if (thread_.joinable()) {
            // Unblocks accept() when no client came (a failed test); harmless otherwise.
            error_code ec;
            tcp::socket poke(ioc_);
            poke.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_), ec);
            thread_.join();
        }
    }
    OneShotServer(const OneShotServer&) = delete;
    OneShotServer& operator=(const OneShotServer&) = delete;

    [[nodiscard]] std::string url(const std::string& path, bool https = false) const {
        return std::string(https ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) +
               path;
    }
    // Waits for the exchange to end.
    const Seen& seen() {
        if (thread_.joinable()) {
            thread_.join();
        }
        return seen_;
    }

private:
    void serve(int status, const std::string& body, bool silent, net::ssl::context* tls) {
        error_code ec;
        tcp::socket socket(ioc_);
        acceptor_.accept(socket, ec);
        if (ec) {
            return;
        }
        if (tls == nullptr) {
            exchange(socket, status, body, silent);
            return;
        }
        net::ssl::stream<tcp::socket&> stream(socket, *tls);
        stream.handshake(net::ssl::stream_base::server, ec);
        if (!ec) {
            exchange(stream, status, body, silent);
        }
    }
    template <typename Stream>
    void exchange(Stream& stream, int status, const std::string& body, bool silent) {
        error_code ec;
        beast::flat_buffer buffer;
        http::request<http::string_body> req;
        http::read(stream, buffer, req, ec);
        if (ec) {
            return;
        }
        seen_.method = std::string(req.method_string());
        seen_.target = std::string(req.target());
        seen_.body = req.body();
        for (const auto& field : req) {
            std::string name(field.name_string());
            for (auto& ch : name) {
                ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            }
            seen_.headers[name] = std::string(field.value());
        }
        if (silent) {
            http::request<http::string_body> never;
            http::read(stream, buffer, never, ec);  // returns when the client hangs up
            return;
        }
        http::response<http::string_body> res{static_cast<http::status>(status), 11};
        res.set(http::field::content_type, "text/plain");
        res.body() = body;
        res.prepare_payload();
        http::write(stream, res, ec);
    }

    net::io_context ioc_;
    tcp::acceptor acceptor_;
    unsigned short port_;
    std::thread thread_;
    Seen seen_;
};

http_server::IncomingResponse fetch(const http_server::OutgoingRequest& request,
                                    net::ssl::context& tls) {
    net::io_context ioc;
    auto done = net::co_spawn(ioc, http_server::async_fetch(request, tls), net::use_future);
    ioc.run();
    return done.get();
}

http_server::IncomingResponse fetch(const http_server::OutgoingRequest& request) {
    net::ssl::context tls(net::ssl::context::tls_client);
    return fetch(request, tls);
}

bool has_code(const boost::system::system_error& e, error_code expected) {
    BOOST_TEST_MESSAGE("system_error: " << e.code().message());
    return e.code() == expected;
}

// A store with programs and cards for the birthday job.
struct Birthdays {
    test::TempDir dir;
    std::string path = (dir.path() / "b.db").string();
    std::unique_ptr<storage::Store> store = storage::open_store("sqlite:" + path, 2, 5000);
    domain::Merchant merchant;
    domain::Program with_birthdays, without;
    int next_card = 0;

    Birthdays() {
        store->migrate();
        merchant = store->create_merchant("M", "hash", "prefix", 1);
        with_birthdays = program("cake");
        without = program("plain");
        domain::EnrollmentSettings s;
        s.birthday = domain::FieldMode::optional;
        s.birthday_bonus = 10;
        s.birthday_offer = "A slice of cake";
        BOOST_REQUIRE(store->set_program_enrollment(with_birthdays.id,
                                                    json::serialize(domain::enrollment_to_json(
                                                        s, domain::SettingsJson::storage))) ==
                      storage::StoreStatus::ok);
        // The other program asks the birthday but gives nothing for it.
        domain::EnrollmentSettings plain;
        plain.birthday = domain::FieldMode::required;
        BOOST_REQUIRE(
            store->set_program_enrollment(without.id, json::serialize(domain::enrollment_to_json(
                                                          plain, domain::SettingsJson::storage))) ==
            storage::StoreStatus::ok);
    }
    domain::Program program(const std::string& slug) {
        storage::NewProgram np;
        np.merchant = merchant.id;
        np.slug = slug;
        np.name = slug;
        np.template_name = "coffee";
        domain::Design d;
        d.name = d.description = d.organization_name = "x";
        np.design_json = json::serialize(domain::design_to_json(d));
        auto out = store->create_program(np);
        BOOST_REQUIRE(out.status == storage::StoreStatus::ok);
        return *out.value;
    }
    domain::Card card(const std::string& birthday, ProgramId p = {}) {
        ++next_card;
        storage::NewCard n;
        n.program = p == ProgramId{} ? with_birthdays.id : p;
        n.number = CardNumber(std::to_string(4000000000000000LL + next_card));
        n.serial = SerialNumber("serial" + std::to_string(next_card));
        n.auth_token = AuthToken(std::string(32, 'a'));
        n.birthday = birthday;
        n.now = 1000;
        auto out = store->create_card(n);
        BOOST_REQUIRE(out.status == storage::StoreStatus::ok);
        return *out.value;
    }
    domain::Card reload(const domain::Card& c) { return *store->find_card(c.serial); }
    long long birthday_year(const domain::Card& c) {
        sqlite3* db = nullptr;
        BOOST_REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) ==
                      SQLITE_OK);
        sqlite3_stmt* st = nullptr;
        sqlite3_prepare_v2(db, "SELECT COALESCE(birthday_year, 0) FROM cards WHERE id = ?1", -1,
                           &st, nullptr);
        sqlite3_bind_int64(st, 1, c.id.value());
        long long year = -1;
        if (sqlite3_step(st) == SQLITE_ROW) {
            year = sqlite3_column_int64(st, 0);
        }
        sqlite3_finalize(st);
        sqlite3_close(db);
        return year;
    }
    enroll::BirthdayRun run(std::chrono::year_month_day day, int hour = 10) {
        return enroll::grant_birthdays(*store,
                                       std::chrono::sys_days{day} + std::chrono::hours{hour});
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(codes)

BOOST_AUTO_TEST_CASE(new_codes_are_six_random_digits) {
    std::set<std::string> seen;
    std::set<char> digits;
    bool leading_zero = false;
    for (int i = 0; i < 300; ++i) {
        const auto code = enroll::new_code();
        BOOST_TEST(code.size() == 6u);
        BOOST_TEST(enroll::is_code_format(code), code);
        seen.insert(code);
        digits.insert(code.begin(), code.end());
        leading_zero = leading_zero || code[0] == '0';
    }
    BOOST_TEST(seen.size() > 290u);  // a handful of collisions at most among 10^6
    BOOST_TEST(digits.size() == 10u);
    BOOST_TEST(leading_zero);  // leading zeros are kept (p of none: 0.9^300)
}

BOOST_AUTO_TEST_CASE(code_format) {
    BOOST_TEST(enroll::is_code_format("123456"));
    BOOST_TEST(enroll::is_code_format("000000"));
    for (const char* bad : {"", "12345", "1234567", "12345a", " 23456", "-12345", "12 456",
                            "１２３４５６", "123456\n"}) {
        BOOST_TEST(!enroll::is_code_format(bad), bad);
    }
}

BOOST_AUTO_TEST_CASE(code_hash_binds_key_id_and_code) {
    const std::string key = "server-derived-key";
    const auto h = enroll::code_hash(key, "verif-1", "123456");
    BOOST_TEST(h.size() == 64u);
    BOOST_TEST(h.find_first_not_of("0123456789abcdef") == std::string::npos);
    BOOST_TEST(h == enroll::code_hash(key, "verif-1", "123456"));  // deterministic
    BOOST_TEST(h == crypto::hmac_sha256_hex(key, "verif-1|123456"));
    BOOST_TEST(h == openssl_hmac_hex(key, "verif-1|123456"));
    BOOST_TEST(h != enroll::code_hash(key, "verif-2", "123456"));
    BOOST_TEST(h != enroll::code_hash(key, "verif-1", "123457"));
    BOOST_TEST(h != enroll::code_hash("another-key", "verif-1", "123456"));
    BOOST_TEST(h.find("123456") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(masked_destinations_never_show_the_whole_value) {
    const std::pair<const char*, const char*> cases[] = {
        {"+4915112345689", "+49151…89"},
        {"+12125550100", "+12125…00"},
        {"+1234567", "+1…67"},
        {"1234567", "1…67"},
        {"123456", "1…"},
        {"ab", "a…"},
        {"alice@example.com", "a…@example.com"},
        {"a@example.com", "a…@example.com"},
    };
    for (const auto& [value, masked] : cases) {
        const auto m = enroll::mask_destination(value);
        BOOST_TEST(m == masked, value);
        BOOST_TEST(m.find(value) == std::string::npos, value);
        BOOST_TEST(m.find("…") != std::string::npos, value);
    }
    // A phone's middle digits are not shown.
    BOOST_TEST(enroll::mask_destination("+4915112345689").find("1234") == std::string::npos);
    BOOST_TEST(enroll::mask_destination("") == "…");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(code_sender)

BOOST_AUTO_TEST_CASE(code_text_in_english_and_russian) {
    auto m = message();
    BOOST_TEST(enroll::code_text(m) == "Bean: your code is 012345. It expires in 10 minutes.");
    m.ttl_seconds = 60;
    BOOST_TEST(enroll::code_text(m) == "Bean: your code is 012345. It expires in 1 minute.");
    m.ttl_seconds = 30;  // never "0 minutes"
    BOOST_TEST(enroll::code_text(m) == "Bean: your code is 012345. It expires in 1 minute.");
    auto ru = message("phone", "ru");
    BOOST_TEST(enroll::code_text(ru) == "Bean: ваш код 012345. Он действует 10 мин.");
    ru.ttl_seconds = 3600;
    BOOST_TEST(enroll::code_text(ru) == "Bean: ваш код 012345. Он действует 60 мин.");
}

BOOST_AUTO_TEST_CASE(webhook_body_fields) {
    const auto sms = json::parse(enroll::webhook_body(message(), 1'773'570'000'123)).as_object();
    BOOST_TEST(sms.at("type").as_string() == "verification.code");
    BOOST_TEST(sms.at("program").as_string() == "bean");
    BOOST_TEST(sms.at("channel").as_string() == "sms");
    BOOST_TEST(sms.at("to").as_string() == "+4915112345678");
    BOOST_TEST(sms.at("code").as_string() == "012345");  // a string: the leading zero stays
    BOOST_TEST(sms.at("text").as_string() == enroll::code_text(message()));
    BOOST_TEST(sms.at("language").as_string() == "en");
    BOOST_TEST(sms.at("expiresAt").to_number<std::int64_t>() == 1'773'570'600);
    BOOST_TEST(sms.at("sentAt").to_number<std::int64_t>() == 1'773'570'000);
    const auto mail =
        json::parse(enroll::webhook_body(message("email", "ru"), 1'773'570'000'000)).as_object();
    BOOST_TEST(mail.at("channel").as_string() == "email");
    BOOST_TEST(mail.at("to").as_string() == "ann@example.com");
    BOOST_TEST(mail.at("language").as_string() == "ru");
    BOOST_TEST(mail.at("text").as_string() == enroll::code_text(message("email", "ru")));
}

BOOST_AUTO_TEST_CASE(webhook_signature_checks_with_openssl) {
    const std::string secret = "whsec-0123456789abcdef";
    const std::string body = enroll::webhook_body(message(), 1'773'570'000'000);
    const auto header = enroll::webhook_signature(secret, 1'773'570'000, body);
    BOOST_TEST(header.starts_with("t=1773570000,v1="));
    BOOST_TEST(header.size() == std::string("t=1773570000,v1=").size() + 64);
    BOOST_TEST(verify_signature(header, secret, body) == 1'773'570'000);
    // Another secret, body or time does not verify.
    BOOST_TEST(verify_signature(header, "whsec-other-secret!!", body) == -1);
    BOOST_TEST(verify_signature(header, secret, body + " ") == -1);
    BOOST_TEST(enroll::webhook_signature(secret, 1'773'570'001, body) != header);
    BOOST_TEST(enroll::webhook_secret_context(ProgramId(7)) == "verification-webhook:7");
    BOOST_TEST(enroll::webhook_secret_context(ProgramId(8)) !=
               enroll::webhook_secret_context(ProgramId(7)));
}

BOOST_AUTO_TEST_CASE(sender_posts_the_signed_webhook) {
    const crypto::SecretBox box(std::string(32, 'k'));
    const std::string secret = "whsec-0123456789abcdef";
    OneShotServer gateway(202, "queued");
    domain::Program program;
    program.id = ProgramId(42);
    program.slug = "bean";
    auto& v = program.enrollment.verification;
    v.channel = domain::VerifyChannel::phone;
    v.provider = domain::CodeProvider::webhook;
    v.webhook_url = gateway.url("/sms?x=1");
    v.webhook_secret_sealed = box.seal(secret, enroll::webhook_secret_context(program.id));
    net::ssl::context tls(net::ssl::context::tls_client);
    const enroll::CodeSender sender(&box, tls);
    const auto before = std::chrono::system_clock::now();
    // Named: the coroutine keeps references to its arguments until it ends.
    const auto code = message();
    net::io_context ioc;
    auto done = net::co_spawn(ioc, sender.async_send(program, code), net::use_future);
    ioc.run();
    const auto failure = done.get();
    BOOST_TEST(!failure.has_value(), failure.value_or(""));
    const auto& seen = gateway.seen();
    BOOST_TEST(seen.method == "POST");
    BOOST_TEST(seen.target == "/sms?x=1");
    BOOST_TEST(seen.headers.at("content-type") == "application/json");
    BOOST_TEST(seen.headers.at("cardsmith-event") == "verification.code");
    const auto t = verify_signature(seen.headers.at("cardsmith-signature"), secret, seen.body);
    const auto unix_before =
        std::chrono::duration_cast<std::chrono::seconds>(before.time_since_epoch()).count();
    BOOST_TEST(t >= unix_before);
    BOOST_TEST(t <= unix_before + 5);
    const auto body = json::parse(seen.body).as_object();
    BOOST_TEST(body.at("code").as_string() == "012345");
    BOOST_TEST(body.at("sentAt").to_number<std::int64_t>() == t);
}

BOOST_AUTO_TEST_CASE(sender_reports_what_went_wrong) {
    const crypto::SecretBox box(std::string(32, 'k'));
    net::ssl::context tls(net::ssl::context::tls_client);
    const enroll::CodeSender sender(&box, tls);
    const auto code = message();
    const auto send = [&](const domain::Program& p) {
        net::io_context ioc;
        auto done = net::co_spawn(ioc, sender.async_send(p, code), net::use_future);
        ioc.run();
        return done.get();
    };
    domain::Program program;
    program.id = ProgramId(42);
    // The log provider: nothing to deliver, nothing to fail.
    BOOST_TEST(!send(program).has_value());
    auto& v = program.enrollment.verification;
    v.provider = domain::CodeProvider::webhook;
    {
        OneShotServer gateway(500, "down");
        v.webhook_url = gateway.url("/sms");
        v.webhook_secret_sealed =
            box.seal("whsec-0123456789abcdef", enroll::webhook_secret_context(program.id));
        BOOST_TEST(send(program).value_or("") == "the gateway answered 500");
    }
    // Sealed for another program: it does not open here.
    v.webhook_secret_sealed =
        box.seal("whsec-0123456789abcdef", enroll::webhook_secret_context(ProgramId(43)));
    BOOST_TEST(send(program).has_value());
    // No server key at all.
    const enroll::CodeSender keyless(nullptr, tls);
    net::io_context ioc;
    auto done = net::co_spawn(ioc, keyless.async_send(program, code), net::use_future);
    ioc.run();
    BOOST_TEST(done.get().has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(birthday_job)

using namespace std::chrono;

BOOST_FIXTURE_TEST_CASE(today_and_two_days_back, Birthdays) {
    auto today = card("1990-03-15");
    auto yesterday = card("1985-03-14");
    auto two_back = card("2000-03-13");
    auto three_back = card("2000-03-12");
    auto tomorrow = card("2000-03-16");
    auto no_birthday = card("");
    auto elsewhere = card("1990-03-15", without.id);
    const auto r = run(2026y / March / 15);
    BOOST_TEST(r.programs == 1);
    BOOST_TEST(r.cards == 3);
    for (const auto* c : {&today, &yesterday, &two_back}) {
        const auto after = reload(*c);
        BOOST_TEST(after.balance == 10, c->serial);
        BOOST_TEST(after.offer == "A slice of cake", c->serial);
        BOOST_TEST(after.update_seq > c->update_seq, c->serial);
        BOOST_TEST(birthday_year(*c) == 2026, c->serial);
        const auto ledger = store->list_transactions(c->id, 10, INT64_MAX);
        BOOST_REQUIRE(ledger.size() == 1u);
        BOOST_TEST(ledger[0].points == 10);
        BOOST_TEST(ledger[0].note == "Birthday bonus");
    }
    for (const auto* c : {&three_back, &tomorrow, &no_birthday, &elsewhere}) {
        const auto after = reload(*c);
        BOOST_TEST(after.balance == 0, c->serial);
        BOOST_TEST(after.offer == "", c->serial);
        BOOST_TEST(after.update_seq == c->update_seq, c->serial);
        BOOST_TEST(store->list_transactions(c->id, 10, INT64_MAX).empty(), c->serial);
    }
    // Once a year: the same day again, and the next day, grant nothing more.
    BOOST_TEST(run(2026y / March / 15, 23).cards == 0);
    BOOST_TEST(run(2026y / March / 16).cards == 1);  // tomorrow's
    BOOST_TEST(reload(today).balance == 10);
    // A year later, again.
    BOOST_TEST(run(2027y / March / 15).cards == 3);
    BOOST_TEST(reload(today).balance == 20);
    BOOST_TEST(birthday_year(today) == 2027);
}

BOOST_FIXTURE_TEST_CASE(leap_day_birthdays_on_the_28th_in_other_years, Birthdays) {
    auto leap = card("2000-02-29");
    auto the_28th = card("1990-02-28");
    BOOST_TEST(run(2027y / February / 27).cards == 0);
    BOOST_TEST(run(2027y / February / 28).cards == 2);
    BOOST_TEST(reload(leap).balance == 10);
    BOOST_TEST(birthday_year(leap) == 2027);
    BOOST_TEST(run(2027y / March / 1).cards == 0);
    // In a leap year the 29th is the day; the 28th is not.
    BOOST_TEST(run(2028y / February / 28).cards == 1);  // the_28th
    BOOST_TEST(reload(leap).balance == 10);
    BOOST_TEST(run(2028y / February / 29).cards == 1);
    BOOST_TEST(reload(leap).balance == 20);
    BOOST_TEST(birthday_year(leap) == 2028);
    BOOST_TEST(reload(the_28th).balance == 20);
}

BOOST_FIXTURE_TEST_CASE(new_year_grants_the_old_years_birthday, Birthdays) {
    auto eve = card("1990-12-31");
    auto new_year = card("1990-01-01");
    const auto r = run(2027y / January / 1, 0);
    BOOST_TEST(r.cards == 2);
    BOOST_TEST(reload(eve).balance == 10);
    BOOST_TEST(birthday_year(eve) == 2026);  // the year of the birthday's date
    BOOST_TEST(birthday_year(new_year) == 2027);
    // So 31 December 2027 is still granted.
    BOOST_TEST(run(2027y / December / 31).cards == 1);
    BOOST_TEST(reload(eve).balance == 20);
    BOOST_TEST(birthday_year(eve) == 2027);
    BOOST_TEST(run(2028y / January / 2).cards == 1);  // 1 January 2028, a day late
    BOOST_TEST(reload(new_year).balance == 20);
}

BOOST_FIXTURE_TEST_CASE(offer_only_programs_and_programs_without_settings, Birthdays) {
    domain::EnrollmentSettings s;
    s.birthday = domain::FieldMode::required;
    s.birthday_offer = "Dessert on us";
    BOOST_REQUIRE(
        store->set_program_enrollment(without.id, json::serialize(domain::enrollment_to_json(
                                                      s, domain::SettingsJson::storage))) ==
        storage::StoreStatus::ok);
    auto c = card("1990-06-01", without.id);
    auto untouched = card("1990-06-01", program("third").id);
    const auto r = run(2026y / June / 1);
    BOOST_TEST(r.programs == 2);
    BOOST_TEST(r.cards == 1);
    const auto after = reload(c);
    BOOST_TEST(after.offer == "Dessert on us");
    BOOST_TEST(after.balance == 0);
    BOOST_TEST(after.update_seq > c.update_seq);
    BOOST_TEST(store->list_transactions(c.id, 10, INT64_MAX).empty());
    BOOST_TEST(reload(untouched).offer == "");
    BOOST_TEST(birthday_year(untouched) == 0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(http_client)

BOOST_AUTO_TEST_CASE(posts_body_and_headers_and_returns_the_answer) {
    OneShotServer server(201, R"({"id":"m-1"})");
    http_server::OutgoingRequest r;
    r.url = server.url("/hook/path?a=1&b=two");
    r.body = R"({"hello":"world"})";
    r.headers = {{"Content-Type", "application/json"}, {"X-Test", "yes"}};
    const auto res = fetch(r);
    BOOST_TEST(res.status == 201);
    BOOST_TEST(res.body == R"({"id":"m-1"})");
    const auto& seen = server.seen();
    BOOST_TEST(seen.method == "POST");
    BOOST_TEST(seen.target == "/hook/path?a=1&b=two");
    BOOST_TEST(seen.body == r.body);
    BOOST_TEST(seen.headers.at("content-type") == "application/json");
    BOOST_TEST(seen.headers.at("x-test") == "yes");
    BOOST_TEST(seen.headers.at("content-length") == std::to_string(r.body.size()));
    BOOST_TEST(seen.headers.at("host").starts_with("127.0.0.1:"));
}

BOOST_AUTO_TEST_CASE(an_error_status_is_an_answer) {
    OneShotServer server(500, "broken");
    http_server::OutgoingRequest r;
    r.method = http::verb::get;
    r.url = server.url("");
    const auto res = fetch(r);
    BOOST_TEST(res.status == 500);
    BOOST_TEST(res.body == "broken");
    BOOST_TEST(server.seen().method == "GET");
    BOOST_TEST(server.seen().target == "/");
}

BOOST_AUTO_TEST_CASE(connection_refused_throws) {
    unsigned short port = 0;
    {
        net::io_context ioc;
        tcp::acceptor probe(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
        port = probe.local_endpoint().port();
    }  // closed: nobody listens there now
    http_server::OutgoingRequest r;
    r.url = "http://127.0.0.1:" + std::to_string(port) + "/";
    BOOST_CHECK_EXCEPTION(fetch(r), boost::system::system_error, [](const auto& e) {
        return has_code(e, net::error::connection_refused);
    });
}

BOOST_AUTO_TEST_CASE(a_silent_server_hits_the_timeout) {
    OneShotServer server(200, "too late", true);
    http_server::OutgoingRequest r;
    r.url = server.url("/slow");
    r.timeout = std::chrono::milliseconds(300);
    const auto start = std::chrono::steady_clock::now();
    BOOST_CHECK_EXCEPTION(fetch(r), boost::system::system_error,
                          [](const auto& e) { return has_code(e, beast::error::timeout); });
    const auto took = std::chrono::steady_clock::now() - start;
    BOOST_TEST(took >= std::chrono::milliseconds(250));
    BOOST_TEST(took < std::chrono::seconds(3));
    BOOST_TEST(server.seen().target == "/slow");  // the request did arrive
}

BOOST_AUTO_TEST_CASE(bad_urls_throw) {
    for (const char* url : {"ftp://127.0.0.1/", "not a url", "http:///path", ""}) {
        http_server::OutgoingRequest r;
        r.url = url;
        BOOST_CHECK_THROW(fetch(r), boost::system::system_error);
    }
}

BOOST_AUTO_TEST_CASE(https_checks_the_certificate) {
    auto& pki = test::DevPki::shared();
    net::ssl::context server_tls(net::ssl::context::tls_server);
    server_tls.use_certificate_chain_file((pki.dir.path() / "server.pem").string());
    server_tls.use_private_key_file((pki.dir.path() / "server.key").string(),
                                    net::ssl::context::pem);
    {
        OneShotServer server(200, "secure", false, &server_tls);
        http_server::OutgoingRequest r;
        r.url = server.url("/tls", true);
        r.body = "over tls";
        auto client_tls = http_server::make_client_tls(pki.root());
        const auto res = fetch(r, client_tls);
        BOOST_TEST(res.status == 200);
        BOOST_TEST(res.body == "secure");
        BOOST_TEST(server.seen().body == "over tls");
    }
    {
        // The system trust store does not know the test root: the handshake fails.
        OneShotServer server(200, "secure", false, &server_tls);
        http_server::OutgoingRequest r;
        r.url = server.url("/tls", true);
        auto system_tls = http_server::make_client_tls("");
        BOOST_CHECK_THROW(fetch(r, system_tls), boost::system::system_error);
        BOOST_TEST(server.seen().body.empty());
    }
}

BOOST_AUTO_TEST_SUITE_END()
