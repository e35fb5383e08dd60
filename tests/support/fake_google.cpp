#include "fake_google.hpp"

#include <openssl/rand.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <utility>

#include "jwt_check.hpp"

namespace cardsmith::test {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace json = boost::json;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using SysClock = std::chrono::system_clock;
using Request = http::request<http::string_body>;

constexpr std::size_t kBodyLimit = 4 * 1024 * 1024;
constexpr auto kHandshakeTimeout = std::chrono::seconds(10);
constexpr auto kIdleTimeout = std::chrono::seconds(120);
constexpr auto kWriteTimeout = std::chrono::seconds(30);
constexpr auto kShutdownTimeout = std::chrono::seconds(2);
constexpr std::int64_t kSkewSeconds = 300;
constexpr std::int64_t kMaxLifetime = 3600;
constexpr std::string_view kShortLived =
    "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable "
    "timeframe. Check your iat and exp values in the JWT claim.";
// Fields a client must never send (read-only or deprecated, google-wallet.md §2/§3): not
// stored. notifyPreference is valid for its one request only (§6).
constexpr std::array<std::string_view, 7> kNotStored = {
    "classReference", "hasUsers", "hasLinkedDevice", "kind",
    "version",        "review",   "notifyPreference"};
constexpr std::array<std::string_view, 4> kStates = {"ACTIVE", "COMPLETED", "EXPIRED", "INACTIVE"};
constexpr std::array<std::string_view, 3> kMessageTypes = {"TEXT", "TEXT_AND_NOTIFY",
                                                           "EXPIRATION_NOTIFICATION"};

// --- small helpers ------------------------------------------------------------------------

struct Answer {
    unsigned status = 200;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
};

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && lower(s.substr(0, prefix.size())) == lower(prefix);
}

bool is_api_path(std::string_view path) {
    const std::string_view api = FakeGoogle::kApiPath;
    return path == api ||
           (path.starts_with(api) && path.size() > api.size() && path[api.size()] == '/');
}

std::string_view status_name(unsigned code) {
    switch (code) {
        case 400:
            return "INVALID_ARGUMENT";
        case 401:
            return "UNAUTHENTICATED";
        case 403:
            return "PERMISSION_DENIED";
        case 404:
            return "NOT_FOUND";
        case 405:
            return "METHOD_NOT_ALLOWED";
        case 409:
            return "ALREADY_EXISTS";
        case 429:
            return "RESOURCE_EXHAUSTED";
        case 500:
            return "INTERNAL";
        case 503:
            return "UNAVAILABLE";
        case 504:
            return "DEADLINE_EXCEEDED";
        default:
            return "UNKNOWN";
    }
}

Answer json_answer(unsigned status, const json::value& v) {
    return Answer{status, json::serialize(v), {}};
}

// Google's JSON error envelope (google-wallet.md §5).
Answer google_error(unsigned code, std::string_view reason, std::string_view message,
                    std::string_view domain = "walletobjects") {
    json::object detail{{"domain", domain}, {"reason", reason}, {"message", message}};
    json::object error{{"code", code},
                       {"message", message},
                       {"errors", json::array{std::move(detail)}},
                       {"status", status_name(code)}};
    return json_answer(code, json::object{{"error", std::move(error)}});
}

Answer invalid(std::string_view message) { return google_error(400, "invalid", message); }

Answer invalid_resource(std::string_view message) {
    return google_error(400, "invalidResource", message);
}

Answer unauthenticated() {
    Answer a = google_error(
        401, "authError",
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
        "cookie or other valid authentication credential.",
        "global");
    a.headers.emplace_back("WWW-Authenticate", R"(Bearer realm="https://accounts.google.com/")");
    return a;
}

// RFC 6749 §5.2 error (what Google's token endpoint answers).
Answer oauth_error(std::string_view error, std::string_view description, unsigned status = 400) {
    return json_answer(status, json::object{{"error", error}, {"error_description", description}});
}

std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '%') {
            if (i + 2 >= s.size()) {
                return std::nullopt;
            }
            const auto hex = [](char h) -> int {
                if (h >= '0' && h <= '9') return h - '0';
                if (h >= 'a' && h <= 'f') return h - 'a' + 10;
                if (h >= 'A' && h <= 'F') return h - 'A' + 10;
                return -1;
            };
            const int hi = hex(s[i + 1]);
            const int lo = hex(s[i + 2]);
            if (hi < 0 || lo < 0) {
                return std::nullopt;
            }
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return out;
}

// application/x-www-form-urlencoded (also query strings); the first value of a name wins.
std::optional<std::map<std::string, std::string>> parse_form(std::string_view text) {
    std::map<std::string, std::string> out;
    while (!text.empty()) {
        const std::size_t amp = text.find('&');
        const std::string_view pair = text.substr(0, amp);
        text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
        if (pair.empty()) {
            continue;
        }
        const std::size_t eq = pair.find('=');
        auto name = percent_decode(pair.substr(0, eq), true);
        auto value = percent_decode(
            eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
        if (!name || !value) {
            return std::nullopt;
        }
        out.emplace(std::move(*name), std::move(*value));
    }
    return out;
}

// ^[0-9]+\.[A-Za-z0-9._-]+$ (google-wallet.md §1, pitfall 3)
bool valid_id_syntax(std::string_view id) {
    const std::size_t dot = id.find('.');
    if (dot == 0 || dot == std::string_view::npos || dot + 1 == id.size()) {
        return false;
    }
    for (std::size_t i = 0; i < dot; ++i) {
        if (id[i] < '0' || id[i] > '9') {
            return false;
        }
    }
    for (std::size_t i = dot + 1; i < id.size(); ++i) {
        const char c = id[i];
        const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                        (c >= 'A' && c <= 'Z') || c == '.' || c == '_' || c == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

std::string random_hex(std::size_t bytes) {
    std::vector<unsigned char> raw(bytes);
    if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) {
        throw std::runtime_error("fake Google: RAND_bytes failed");
    }
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (const unsigned char b : raw) {
        out.push_back(kDigits[b >> 4]);
        out.push_back(kDigits[b & 15]);
    }
    return out;
}

const json::string* string_field(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? &v->as_string() : nullptr;
}

std::optional<std::int64_t> integer_field(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (v->is_int64()) {
        return v->as_int64();
    }
    if (v->is_uint64() && v->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
        return static_cast<std::int64_t>(v->as_uint64());
    }
    return std::nullopt;
}

template <std::size_t N>
bool one_of(std::string_view v, const std::array<std::string_view, N>& values) {
    return std::find(values.begin(), values.end(), v) != values.end();
}

bool has_scope(std::string_view scopes, std::string_view want) {
    while (!scopes.empty()) {
        const std::size_t sp = scopes.find(' ');
        if (scopes.substr(0, sp) == want) {
            return true;
        }
        scopes = sp == std::string_view::npos ? std::string_view() : scopes.substr(sp + 1);
    }
    return false;
}

std::int64_t unix_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(SysClock::now().time_since_epoch())
        .count();
}

// --- state --------------------------------------------------------------------------------

enum class Kind { klass, object };

struct Resource {
    json::object data;
    std::vector<GoogleNotification> notes;
};

struct FailRule {
    std::string prefix;  // empty: any API call
    unsigned status = 500;
    unsigned remaining = 1;
};

// Everything the connections and the test thread share, behind one mutex.
struct State {
    State(const FakeGoogleOptions& o, std::string key_pem, std::string email, std::string aud)
        : public_key_pem(std::move(key_pem)),
          client_email(std::move(email)),
          audience(std::move(aud)),
          issuer_id(o.issuer_id),
          notify_limit(o.notify_limit),
          notify_window(o.notify_window),
          max_messages(o.max_messages),
          retry_after(o.retry_after_seconds),
          reject_duplicate_message_ids(o.reject_duplicate_message_ids),
          expires_in(o.expires_in),
          quota_status(o.quota_status) {}

    const std::string public_key_pem;
    const std::string client_email;
    const std::string audience;
    const std::string issuer_id;
    const unsigned notify_limit;
    const std::chrono::seconds notify_window;
    const std::size_t max_messages;
    const unsigned retry_after;
    const bool reject_duplicate_message_ids;

    mutable std::mutex mu;
    mutable std::condition_variable cv;
    std::uint64_t version = 0;  // bumped on every answered request
    std::int64_t expires_in;
    unsigned quota_status;
    std::chrono::milliseconds delay{0};
    std::deque<FailRule> failures;
    std::unordered_map<std::string, Clock::time_point> tokens;  // token -> expiry
    std::size_t token_requests = 0;
    std::size_t tokens_issued = 0;
    std::map<std::string, Resource> classes;
    std::map<std::string, Resource> objects;
    std::vector<GoogleCall> calls;

    std::chrono::milliseconds current_delay() const {
        std::lock_guard lock(mu);
        return delay;
    }

    Answer handle(const Request& req, std::uint64_t connection) {
        const std::string target(req.target());
        const std::size_t q = target.find('?');
        const std::string path = target.substr(0, q);
        const std::string query = q == std::string::npos ? std::string() : target.substr(q + 1);
        std::lock_guard lock(mu);
        Answer a;
        try {
            if (path == FakeGoogle::kTokenPath) {
                ++token_requests;
            }
            if (auto scripted = take_failure(path)) {
                a = std::move(*scripted);
            } else if (path == FakeGoogle::kTokenPath) {
                a = token(req);
            } else if (is_api_path(path)) {
                a = api(req, std::string_view(path).substr(FakeGoogle::kApiPath.size()), query);
            } else {
                a = google_error(404, "notFound", "Not found: " + path, "global");
            }
        } catch (const std::exception& e) {
            a = google_error(500, "backendError", std::string("fake Google: ") + e.what(),
                             "global");
        }
        record(req, target, path, a, connection);
        return a;
    }

    static json::object stored_form(Kind kind, json::object body) {
        for (const std::string_view key : kNotStored) {
            body.erase(key);
        }
        if (kind == Kind::klass) {
            body["reviewStatus"] = "APPROVED";  // Google approves UNDER_REVIEW at once (§1)
        }
        return body;
    }

    json::object view(Kind kind, const Resource& r) const {
        json::object out = r.data;
        if (kind == Kind::object) {
            if (const auto* class_id = string_field(r.data, "classId")) {
                const auto it = classes.find(std::string(*class_id));
                if (it != classes.end()) {
                    out["classReference"] = it->second.data;
                }
            }
        }
        return out;
    }

    static void seed(std::map<std::string, Resource>& into, Kind kind, json::object resource) {
        const auto* id = string_field(resource, "id");
        if (id == nullptr) {
            throw std::invalid_argument("fake Google: a seeded resource needs a string id");
        }
        std::string key(*id);
        into[key].data = stored_form(kind, std::move(resource));
    }

private:
    void record(const Request& req, const std::string& target, const std::string& path,
                const Answer& a, std::uint64_t connection) {
        GoogleCall call;
        call.method = std::string(req.method_string());
        call.target = target;
        call.path = path;
        for (const auto& field : req) {
            call.headers[lower(field.name_string())] = std::string(field.value());
        }
        call.body = req.body();
        call.status = a.status;
        call.response_body = a.body;
        call.connection = connection;
        call.at = Clock::now();
        calls.push_back(std::move(call));
        ++version;
        cv.notify_all();
    }

    std::optional<Answer> take_failure(const std::string& path) {
        for (auto it = failures.begin(); it != failures.end(); ++it) {
            const bool match =
                it->prefix.empty() ? is_api_path(path) : path.starts_with(it->prefix);
            if (!match) {
                continue;
            }
            const unsigned status = it->status;
            if (--it->remaining == 0) {
                failures.erase(it);
            }
            return scripted_answer(status, path == FakeGoogle::kTokenPath);
        }
        return std::nullopt;
    }

    Answer scripted_answer(unsigned status, bool token_path) const {
        std::string_view reason = "scriptedFailure";
        std::string_view message = "Scripted failure.";
        switch (status) {
            case 401:
                return token_path ? oauth_error("invalid_client", "Scripted failure.", 401)
                                  : unauthenticated();
            case 403:
                reason = "permissionDenied";
                message = "Permission denied.";
                break;
            case 429:
                reason = "rateLimitExceeded";
                message = "Quota exceeded: too many requests (scripted).";
                break;
            case 500:
                reason = "backendError";
                message = "Internal error encountered.";
                break;
            case 503:
                reason = "backendError";
                message = "The service is currently unavailable.";
                break;
            default:
                break;
        }
        Answer a = token_path ? oauth_error(lower(status_name(status)), message, status)
                              : google_error(status, reason, message, "global");
        if (status == 429 && retry_after > 0) {
            a.headers.emplace_back("Retry-After", std::to_string(retry_after));
        }
        return a;
    }

    // --- POST /token (google-wallet.md §4) -------------------------------------------------

    Answer token(const Request& req) {
        if (req.method() != http::verb::post) {
            Answer a = oauth_error("invalid_request", "Use POST.", 405);
            a.headers.emplace_back("Allow", "POST");
            return a;
        }
        if (!istarts_with(req[http::field::content_type], "application/x-www-form-urlencoded")) {
            return oauth_error("invalid_request",
                               "Content-Type must be application/x-www-form-urlencoded.");
        }
        const auto form = parse_form(req.body());
        if (!form) {
            return oauth_error("invalid_request", "Malformed form body.");
        }
        const auto grant = form->find("grant_type");
        if (grant == form->end()) {
            return oauth_error("invalid_request", "Missing required parameter: grant_type");
        }
        if (grant->second != FakeGoogle::kGrantType) {
            return oauth_error("unsupported_grant_type", "Invalid grant_type: " + grant->second);
        }
        const auto assertion = form->find("assertion");
        if (assertion == form->end() || assertion->second.empty()) {
            return oauth_error("invalid_request", "Missing required parameter: assertion");
        }
        const JwtCheck jwt = check_rs256_jwt(assertion->second, public_key_pem);
        switch (jwt.status) {
            case JwtStatus::ok:
                break;
            case JwtStatus::bad_signature:
                return oauth_error("invalid_grant", "Invalid JWT Signature.");
            case JwtStatus::unsupported_alg:
                return oauth_error("invalid_grant", "Invalid JWT: alg must be RS256.");
            case JwtStatus::malformed:
                return oauth_error("invalid_grant", "Invalid JWT: " + jwt.error + ".");
        }
        const json::object& claims = jwt.claims;
        const auto* iss = string_field(claims, "iss");
        if (iss == nullptr || *iss != client_email) {
            return oauth_error("invalid_grant", "Invalid email or User ID");
        }
        const auto* aud = string_field(claims, "aud");
        if (aud == nullptr || *aud != audience) {
            return oauth_error(
                "invalid_grant",
                "Invalid JWT: Failed audience check. The right audience is " + audience + ".");
        }
        const auto* scope = string_field(claims, "scope");
        if (scope == nullptr || !has_scope(*scope, FakeGoogle::kScope)) {
            return oauth_error("invalid_scope",
                               "Invalid OAuth scope or ID token audience provided.");
        }
        const auto iat = integer_field(claims, "iat");
        const auto exp = integer_field(claims, "exp");
        const std::int64_t now = unix_seconds();
        if (!iat || !exp || *iat < now - kSkewSeconds || *iat > now + kSkewSeconds || *exp <= now ||
            *exp <= *iat || *exp - *iat > kMaxLifetime) {
            return oauth_error("invalid_grant", kShortLived);
        }
        std::string access_token = "fake-" + random_hex(24);
        tokens[access_token] = Clock::now() + std::chrono::seconds(expires_in);
        ++tokens_issued;
        return json_answer(200, json::object{{"access_token", access_token},
                                             {"expires_in", expires_in},
                                             {"token_type", "Bearer"}});
    }

    bool authorized(std::string_view header) const {
        constexpr std::string_view kBearer = "bearer ";
        if (!istarts_with(header, kBearer)) {
            return false;
        }
        std::string_view token = header.substr(kBearer.size());
        while (!token.empty() && token.front() == ' ') {
            token.remove_prefix(1);
        }
        while (!token.empty() && token.back() == ' ') {
            token.remove_suffix(1);
        }
        const auto it = tokens.find(std::string(token));
        return it != tokens.end() && Clock::now() < it->second;
    }

    // --- REST (google-wallet.md §5) --------------------------------------------------------

    Answer api(const Request& req, std::string_view rel, const std::string& query) {
        if (!authorized(req[http::field::authorization])) {
            return unauthenticated();
        }
        std::vector<std::string_view> segments;
        while (!rel.empty()) {
            rel.remove_prefix(1);  // the '/'
            const std::size_t slash = rel.find('/');
            segments.push_back(rel.substr(0, slash));
            rel = slash == std::string_view::npos ? std::string_view() : rel.substr(slash);
        }
        const auto not_found = [] {
            return google_error(404, "notFound", "Method not found.", "global");
        };
        if (segments.empty() || (segments[0] != "loyaltyClass" && segments[0] != "loyaltyObject")) {
            return not_found();
        }
        const Kind kind = segments[0] == "loyaltyClass" ? Kind::klass : Kind::object;
        const http::verb method = req.method();
        const auto not_allowed = [](std::string_view allow) {
            Answer a = google_error(405, "methodNotAllowed", "Method not allowed.", "global");
            a.headers.emplace_back("Allow", std::string(allow));
            return a;
        };
        if (segments.size() == 1) {
            if (method == http::verb::post) {
                return insert(kind, req);
            }
            if (method == http::verb::get) {
                return list(kind, query);
            }
            return not_allowed("GET, POST");
        }
        const auto id = percent_decode(segments[1], false);
        if (!id) {
            return invalid_resource("Invalid resource ID: bad percent-encoding.");
        }
        if (segments.size() == 2) {
            switch (method) {
                case http::verb::get:
                    return get(kind, *id);
                case http::verb::put:
                    return replace(kind, *id, req);
                case http::verb::patch:
                    return patch(kind, *id, req);
                default:
                    return not_allowed("GET, PUT, PATCH");
            }
        }
        if (segments.size() == 3 && segments[2] == "addMessage") {
            return method == http::verb::post ? add_message(kind, *id, req) : not_allowed("POST");
        }
        return not_found();
    }

    std::map<std::string, Resource>& store(Kind kind) {
        return kind == Kind::klass ? classes : objects;
    }

    static std::string_view noun(Kind kind) {
        return kind == Kind::klass ? "LoyaltyClass" : "LoyaltyObject";
    }

    std::optional<Answer> check_id(std::string_view id) const {
        if (!valid_id_syntax(id)) {
            return invalid_resource("Invalid resource ID: \"" + std::string(id) +
                                    "\" (expected <issuerId>.<suffix>, suffix of "
                                    "[A-Za-z0-9._-]).");
        }
        if (id.substr(0, id.find('.')) != issuer_id) {
            return invalid_resource("Invalid resource ID: \"" + std::string(id) +
                                    "\" does not start with issuer id " + issuer_id + ".");
        }
        return std::nullopt;
    }

    static std::optional<Answer> parse_body(const Request& req, json::object& out) {
        if (!istarts_with(req[http::field::content_type], "application/json")) {
            return invalid("Content-Type must be application/json.");
        }
        boost::system::error_code ec;
        json::value v = json::parse(req.body(), ec);
        if (ec || !v.is_object()) {
            return google_error(400, "parseError", "Invalid JSON payload received.");
        }
        out = std::move(v.as_object());
        return std::nullopt;
    }

    Answer not_found_resource(Kind kind, std::string_view id) const {
        return google_error(404, "resourceNotFound",
                            "Requested entity was not found: " + std::string(noun(kind)) + " " +
                                std::string(id) + ".");
    }

    Answer class_not_found(std::string_view class_id) const {
        return google_error(
            404, "classNotFound",
            "IssuerClassNotFoundException: class " + std::string(class_id) + " not found.");
    }

    // Field rules shared by insert/replace (`full`) and patch. `path_id`: the id in the URL
    // (empty for insert).
    std::optional<Answer> check_fields(Kind kind, const json::object& body, bool full,
                                       std::string_view path_id) const {
        if (const auto* id = body.if_contains("id")) {
            if (!id->is_string()) {
                return invalid_resource("Invalid resource ID: id must be a string.");
            }
            if (!path_id.empty() && id->as_string() != path_id) {
                return invalid_resource(
                    "Invalid resource ID: the id in the body does not "
                    "match the URL.");
            }
            if (auto bad = check_id(id->as_string())) {
                return bad;
            }
        } else if (path_id.empty()) {
            return invalid_resource("Invalid resource ID: id is required.");
        }
        if (kind == Kind::klass) {
            const auto* review = string_field(body, "reviewStatus");
            if (review == nullptr || *review != "UNDER_REVIEW") {
                return invalid(
                    "Class writes must set \"reviewStatus\": \"UNDER_REVIEW\" (an approved "
                    "class cannot be updated otherwise).");
            }
        } else {
            if (const auto* class_id = body.if_contains("classId")) {
                if (!class_id->is_string()) {
                    return invalid_resource("Invalid resource ID: classId must be a string.");
                }
                if (auto bad = check_id(class_id->as_string())) {
                    return bad;
                }
            } else if (full) {
                return invalid("classId is required.");
            }
            if (const auto* state = body.if_contains("state")) {
                if (!state->is_string() || !one_of(state->as_string(), kStates)) {
                    return invalid(
                        "state must be one of ACTIVE, COMPLETED, EXPIRED, INACTIVE (upper "
                        "case).");
                }
            } else if (full) {
                return invalid("state is required.");
            }
        }
        if (const auto* messages = body.if_contains("messages")) {
            if (!messages->is_array()) {
                return invalid("messages must be an array.");
            }
            if (messages->as_array().size() > max_messages) {
                return invalid("Too many messages: at most " + std::to_string(max_messages) +
                               " are allowed.");
            }
        }
        if (const auto* pref = body.if_contains("notifyPreference"); pref && !pref->is_string()) {
            return invalid("notifyPreference must be a string.");
        }
        return std::nullopt;
    }

    static bool wants_notification(const json::object& body) {
        const auto* pref = string_field(body, "notifyPreference");
        return pref != nullptr && *pref == "NOTIFY_ON_UPDATE";
    }

    std::optional<Answer> check_budget(const Resource& r) const {
        const auto since = SysClock::now() - notify_window;
        const auto recent = std::count_if(r.notes.begin(), r.notes.end(),
                                          [since](const auto& n) { return n.at > since; });
        if (static_cast<std::size_t>(recent) < notify_limit) {
            return std::nullopt;
        }
        return google_error(quota_status, "QuotaExceededException",
                            "QuotaExceededException: at most " + std::to_string(notify_limit) +
                                " notifications per pass in " +
                                std::to_string(notify_window.count() / 3600) + " hours.");
    }

    Answer insert(Kind kind, const Request& req) {
        json::object body;
        if (auto bad = parse_body(req, body)) {
            return std::move(*bad);
        }
        if (auto bad = check_fields(kind, body, true, {})) {
            return std::move(*bad);
        }
        const std::string id(body.at("id").as_string());
        auto& items = store(kind);
        if (items.contains(id)) {
            return google_error(409, "duplicate",
                                "AlreadyExistsException: resource " + id + " already exists.");
        }
        if (kind == Kind::object) {
            const std::string class_id(body.at("classId").as_string());
            if (!classes.contains(class_id)) {
                return class_not_found(class_id);
            }
        }
        Resource& r = items[id];
        r.data = stored_form(kind, std::move(body));
        return json_answer(200, view(kind, r));
    }

    Answer get(Kind kind, const std::string& id) {
        if (auto bad = check_id(id)) {
            return std::move(*bad);
        }
        const auto& items = store(kind);
        const auto it = items.find(id);
        if (it == items.end()) {
            return not_found_resource(kind, id);
        }
        return json_answer(200, view(kind, it->second));
    }

    Answer list(Kind kind, const std::string& query) {
        const auto params = parse_form(query);
        if (!params) {
            return invalid("Malformed query string.");
        }
        json::array resources;
        if (kind == Kind::klass) {
            const auto issuer = params->find("issuerId");
            if (issuer == params->end()) {
                return invalid("issuerId is required.");
            }
            if (issuer->second != issuer_id) {
                return google_error(403, "permissionDenied", "Permission denied.");
            }
            for (const auto& [id, r] : classes) {
                resources.push_back(view(kind, r));
            }
        } else {
            const auto class_id = params->find("classId");
            if (class_id == params->end()) {
                return invalid("classId is required.");
            }
            if (auto bad = check_id(class_id->second)) {
                return std::move(*bad);
            }
            if (!classes.contains(class_id->second)) {
                return class_not_found(class_id->second);
            }
            for (const auto& [id, r] : objects) {
                const auto* of = string_field(r.data, "classId");
                if (of != nullptr && *of == class_id->second) {
                    resources.push_back(view(kind, r));
                }
            }
        }
        const std::size_t n = resources.size();
        return json_answer(
            200, json::object{{"resources", std::move(resources)},
                              {"pagination", json::object{{"kind", "walletobjects#pagination"},
                                                          {"resultsPerPage", n}}}});
    }

    // PUT: the body replaces the whole resource.
    Answer replace(Kind kind, const std::string& id, const Request& req) {
        if (auto bad = check_id(id)) {
            return std::move(*bad);
        }
        json::object body;
        if (auto bad = parse_body(req, body)) {
            return std::move(*bad);
        }
        auto& items = store(kind);
        const auto it = items.find(id);
        if (it == items.end()) {
            return not_found_resource(kind, id);
        }
        if (auto bad = check_fields(kind, body, true, id)) {
            return std::move(*bad);
        }
        if (kind == Kind::object) {
            const std::string class_id(body.at("classId").as_string());
            if (!classes.contains(class_id)) {
                return class_not_found(class_id);
            }
        }
        Resource& r = it->second;
        const bool notify = wants_notification(body);
        if (notify) {
            if (auto over = check_budget(r)) {
                return std::move(*over);
            }
        }
        body["id"] = id;
        r.data = stored_form(kind, std::move(body));
        if (notify) {
            r.notes.push_back({GoogleNotification::Kind::field_update, {}, SysClock::now()});
        }
        return json_answer(200, view(kind, r));
    }

    // PATCH: top-level fields of the body replace the stored ones (arrays and sub-objects
    // wholesale); JSON null removes a field.
    Answer patch(Kind kind, const std::string& id, const Request& req) {
        if (auto bad = check_id(id)) {
            return std::move(*bad);
        }
        json::object body;
        if (auto bad = parse_body(req, body)) {
            return std::move(*bad);
        }
        auto& items = store(kind);
        const auto it = items.find(id);
        if (it == items.end()) {
            return not_found_resource(kind, id);
        }
        if (auto bad = check_fields(kind, body, false, id)) {
            return std::move(*bad);
        }
        if (const auto* class_id = string_field(body, "classId");
            kind == Kind::object && class_id != nullptr &&
            !classes.contains(std::string(*class_id))) {
            return class_not_found(*class_id);
        }
        Resource& r = it->second;
        const bool notify = wants_notification(body);
        if (notify) {
            if (auto over = check_budget(r)) {
                return std::move(*over);
            }
        }
        json::object merged = r.data;
        for (const auto& [key, value] : body) {
            if (value.is_null()) {
                merged.erase(key);
            } else {
                merged[key] = value;
            }
        }
        merged["id"] = id;
        r.data = stored_form(kind, std::move(merged));
        if (notify) {
            r.notes.push_back({GoogleNotification::Kind::field_update, {}, SysClock::now()});
        }
        return json_answer(200, view(kind, r));
    }

    Answer add_message(Kind kind, const std::string& id, const Request& req) {
        if (auto bad = check_id(id)) {
            return std::move(*bad);
        }
        json::object body;
        if (auto bad = parse_body(req, body)) {
            return std::move(*bad);
        }
        auto& items = store(kind);
        const auto it = items.find(id);
        if (it == items.end()) {
            return not_found_resource(kind, id);
        }
        const auto* message = body.if_contains("message");
        if (message == nullptr || !message->is_object()) {
            return invalid("message is required and must be an object.");
        }
        const json::object& m = message->as_object();
        std::string_view type = "TEXT";
        if (const auto* t = m.if_contains("messageType")) {
            if (!t->is_string() || !one_of(t->as_string(), kMessageTypes)) {
                return invalid(
                    "messageType must be TEXT, TEXT_AND_NOTIFY or EXPIRATION_NOTIFICATION.");
            }
            type = t->as_string();
        }
        Resource& r = it->second;
        json::value* stored = r.data.if_contains("messages");
        json::array* messages =
            stored != nullptr && stored->is_array() ? &stored->as_array() : nullptr;
        if (messages != nullptr && messages->size() >= max_messages) {
            return invalid("Too many messages: at most " + std::to_string(max_messages) +
                           " are allowed; remove some with a PATCH first.");
        }
        const auto* message_id = string_field(m, "id");
        if (reject_duplicate_message_ids && message_id != nullptr && messages != nullptr) {
            for (const auto& existing : *messages) {
                const auto* other =
                    existing.is_object() ? string_field(existing.as_object(), "id") : nullptr;
                if (other != nullptr && *other == *message_id) {
                    return google_error(
                        409, "duplicate",
                        "A message with id " + std::string(*message_id) + " already exists.");
                }
            }
        }
        const bool notify = type == "TEXT_AND_NOTIFY";
        if (notify) {
            if (auto over = check_budget(r)) {
                return std::move(*over);
            }
        }
        if (messages == nullptr) {
            messages = &(r.data["messages"] = json::array()).as_array();
        }
        std::string note_id = message_id != nullptr ? std::string(*message_id) : std::string();
        messages->push_back(m);
        if (notify) {
            r.notes.push_back(
                {GoogleNotification::Kind::message, std::move(note_id), SysClock::now()});
        }
        return json_answer(200, json::object{{"resource", view(kind, r)}});
    }
};

// --- one HTTPS connection ----------------------------------------------------------------

using TlsStream = ssl::stream<beast::tcp_stream>;

// HTTP/1.1 with keep-alive; every member is touched only on the fake's single io thread.
class Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(tcp::socket socket, ssl::context& tls, std::shared_ptr<State> state,
               std::uint64_t id)
        : stream_(std::move(socket), tls),
          timer_(stream_.get_executor()),
          state_(std::move(state)),
          id_(id) {}

    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    void start() {
        beast::error_code ec;
        beast::get_lowest_layer(stream_).socket().set_option(tcp::no_delay(true), ec);
        beast::get_lowest_layer(stream_).expires_after(kHandshakeTimeout);
        stream_.async_handshake(
            ssl::stream_base::server,
            [self = shared_from_this()](beast::error_code e) { self->on_handshake(e); });
    }

    void close() {
        if (closed_) {
            return;
        }
        closed_ = true;
        timer_.cancel();
        beast::error_code ec;
        auto& lowest = beast::get_lowest_layer(stream_);
        lowest.socket().shutdown(tcp::socket::shutdown_both, ec);
        lowest.close();
    }

private:
    void on_handshake(beast::error_code ec) {
        if (ec || closed_) {
            close();
            return;
        }
        do_read();
    }

    void do_read() {
        parser_.emplace();
        parser_->body_limit(kBodyLimit);
        beast::get_lowest_layer(stream_).expires_after(kIdleTimeout);
        http::async_read(
            stream_, buffer_, *parser_,
            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec) {
        if (closed_) {
            return;
        }
        if (ec == http::error::end_of_stream) {
            shutdown();
            return;
        }
        if (ec) {
            close();
            return;
        }
        request_ = parser_->release();
        parser_.reset();
        const auto delay = state_->current_delay();
        if (delay.count() <= 0) {
            respond();
            return;
        }
        beast::get_lowest_layer(stream_).expires_never();
        timer_.expires_after(delay);
        timer_.async_wait([self = shared_from_this()](beast::error_code e) {
            if (e || self->closed_) {
                self->close();
                return;
            }
            self->respond();
        });
    }

    void respond() {
        Answer a = state_->handle(request_, id_);
        response_ = {};
        response_.version(request_.version());
        response_.result(a.status);
        response_.set(http::field::server, "fake-google");
        response_.set(http::field::content_type, "application/json; charset=UTF-8");
        for (const auto& [name, value] : a.headers) {
            response_.set(name, value);
        }
        response_.keep_alive(request_.keep_alive());
        response_.body() = std::move(a.body);
        response_.prepare_payload();
        beast::get_lowest_layer(stream_).expires_after(kWriteTimeout);
        http::async_write(
            stream_, response_,
            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
    }

    void on_write(beast::error_code ec) {
        if (ec || closed_) {
            close();
            return;
        }
        if (!response_.keep_alive()) {
            shutdown();
            return;
        }
        do_read();
    }

    void shutdown() {
        if (closed_) {
            return;
        }
        beast::get_lowest_layer(stream_).expires_after(kShutdownTimeout);
        stream_.async_shutdown([self = shared_from_this()](beast::error_code) { self->close(); });
    }

    TlsStream stream_;
    net::steady_timer timer_;
    std::shared_ptr<State> state_;
    const std::uint64_t id_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    Request request_;
    http::response<http::string_body> response_;
    bool closed_ = false;
};

// ALPN: HTTP/1.1 when the client offers it; no ALPN answer otherwise (never h2).
int select_http11(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                  unsigned int inlen, void*) {
    static constexpr unsigned char kHttp11[] = {'h', 't', 't', 'p', '/', '1', '.', '1'};
    for (unsigned int i = 0; i < inlen;) {
        const unsigned int len = in[i];
        if (i + 1 + len > inlen) {
            break;
        }
        if (len == sizeof kHttp11 && std::equal(kHttp11, kHttp11 + sizeof kHttp11, in + i + 1)) {
            *out = in + i + 1;
            *outlen = static_cast<unsigned char>(len);
            return SSL_TLSEXT_ERR_OK;
        }
        i += 1 + len;
    }
    return SSL_TLSEXT_ERR_NOACK;
}

ssl::context make_tls(const FakeGoogleOptions& o) {
    if (o.cert_file.empty() || o.key_file.empty()) {
        throw std::runtime_error("fake Google: cert_file and key_file are required");
    }
    ssl::context ctx(ssl::context::tls_server);
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                    ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    ctx.use_certificate_chain_file(o.cert_file);
    ctx.use_private_key_file(o.key_file, ssl::context::pem);
    SSL_CTX_set_alpn_select_cb(ctx.native_handle(), select_http11, nullptr);
    return ctx;
}

}  // namespace

// --- FakeGoogle ---------------------------------------------------------------------------

struct FakeGoogle::Impl {
    explicit Impl(const FakeGoogleOptions& o) : tls(make_tls(o)), acceptor(ioc) {
        const tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), 0);
        acceptor.open(endpoint.protocol());
        acceptor.set_option(tcp::acceptor::reuse_address(true));
        acceptor.bind(endpoint);
        acceptor.listen(net::socket_base::max_listen_connections);
        port = acceptor.local_endpoint().port();
        const std::string origin = "https://127.0.0.1:" + std::to_string(port);
        base_url = origin + std::string(kApiPath);
        token_url = origin + std::string(kTokenPath);

        std::string key_pem;
        std::string email = o.client_email;
        if (!o.service_account_file.empty()) {
            const ServiceAccount sa = load_service_account(o.service_account_file);
            key_pem = public_key_pem(sa.private_key);
            if (email.empty()) {
                email = sa.client_email;
            }
        } else if (!o.public_key_pem.empty()) {
            key_pem = public_key_pem(o.public_key_pem);
        } else {
            throw std::runtime_error("fake Google: need service_account_file or public_key_pem");
        }
        if (email.empty()) {
            throw std::runtime_error("fake Google: need the service account's client_email");
        }
        std::string audience = o.token_audience.empty() ? token_url : o.token_audience;
        state =
            std::make_shared<State>(o, std::move(key_pem), std::move(email), std::move(audience));
    }

    void do_accept() {
        acceptor.async_accept(
            [this](beast::error_code ec, tcp::socket socket) { on_accept(ec, std::move(socket)); });
    }

    void on_accept(beast::error_code ec, tcp::socket socket) {
        if (ec == net::error::operation_aborted || !acceptor.is_open()) {
            return;
        }
        if (!ec) {
            accepted.fetch_add(1);
            std::erase_if(connections, [](const auto& w) { return w.expired(); });
            auto c = std::make_shared<Connection>(std::move(socket), tls, state, ++next_id);
            connections.push_back(c);
            c->start();
        }
        do_accept();
    }

    void close_all() {
        beast::error_code ec;
        acceptor.close(ec);
        for (auto& weak : connections) {
            if (auto c = weak.lock()) {
                c->close();
            }
        }
    }

    ssl::context tls;  // outlives everything that uses it
    net::io_context ioc{1};
    tcp::acceptor acceptor;
    std::uint16_t port = 0;
    std::string base_url, token_url;
    std::shared_ptr<State> state;
    std::vector<std::weak_ptr<Connection>> connections;  // io thread only
    std::uint64_t next_id = 0;                           // io thread only
    std::atomic<std::size_t> accepted{0};
    std::thread thread;
};

FakeGoogle::FakeGoogle(FakeGoogleOptions options) : impl_(std::make_unique<Impl>(options)) {
    impl_->do_accept();
    impl_->thread = std::thread([io = &impl_->ioc] { io->run(); });
}

FakeGoogle::~FakeGoogle() {
    Impl& impl = *impl_;
    net::post(impl.ioc, [&impl] { impl.close_all(); });
    // Without pending work run() returns by itself; stop() bounds a straggler.
    const auto deadline = Clock::now() + std::chrono::seconds(3);
    while (!impl.ioc.stopped() && Clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    impl.ioc.stop();
    impl.thread.join();
}

std::uint16_t FakeGoogle::port() const { return impl_->port; }
std::string FakeGoogle::base_url() const { return impl_->base_url; }
std::string FakeGoogle::token_url() const { return impl_->token_url; }
const std::string& FakeGoogle::audience() const { return impl_->state->audience; }
const std::string& FakeGoogle::client_email() const { return impl_->state->client_email; }
const std::string& FakeGoogle::issuer_id() const { return impl_->state->issuer_id; }

std::size_t FakeGoogle::token_requests() const {
    std::lock_guard lock(impl_->state->mu);
    return impl_->state->token_requests;
}

std::size_t FakeGoogle::tokens_issued() const {
    std::lock_guard lock(impl_->state->mu);
    return impl_->state->tokens_issued;
}

void FakeGoogle::revoke_tokens() {
    std::lock_guard lock(impl_->state->mu);
    impl_->state->tokens.clear();
}

void FakeGoogle::set_expires_in(std::int64_t seconds) {
    std::lock_guard lock(impl_->state->mu);
    impl_->state->expires_in = seconds;
}

void FakeGoogle::fail_next(std::string path_prefix, unsigned status, unsigned count) {
    if (count == 0) {
        return;
    }
    if (path_prefix == "*") {
        path_prefix.clear();
    }
    std::lock_guard lock(impl_->state->mu);
    impl_->state->failures.push_back(FailRule{std::move(path_prefix), status, count});
}

void FakeGoogle::clear_failures() {
    std::lock_guard lock(impl_->state->mu);
    impl_->state->failures.clear();
}

void FakeGoogle::set_delay(std::chrono::milliseconds delay) {
    std::lock_guard lock(impl_->state->mu);
    impl_->state->delay = delay;
}

void FakeGoogle::set_quota_status(unsigned status) {
    std::lock_guard lock(impl_->state->mu);
    impl_->state->quota_status = status;
}

void FakeGoogle::age_notifications(std::chrono::seconds by) {
    std::lock_guard lock(impl_->state->mu);
    for (auto* items : {&impl_->state->classes, &impl_->state->objects}) {
        for (auto& [id, r] : *items) {
            for (auto& n : r.notes) {
                n.at -= by;
            }
        }
    }
}

std::optional<boost::json::object> FakeGoogle::object(const std::string& id) const {
    std::lock_guard lock(impl_->state->mu);
    const auto it = impl_->state->objects.find(id);
    if (it == impl_->state->objects.end()) {
        return std::nullopt;
    }
    return it->second.data;
}

std::optional<boost::json::object> FakeGoogle::klass(const std::string& id) const {
    std::lock_guard lock(impl_->state->mu);
    const auto it = impl_->state->classes.find(id);
    if (it == impl_->state->classes.end()) {
        return std::nullopt;
    }
    return it->second.data;
}

std::vector<std::string> FakeGoogle::object_ids() const {
    std::lock_guard lock(impl_->state->mu);
    std::vector<std::string> out;
    for (const auto& [id, r] : impl_->state->objects) {
        out.push_back(id);
    }
    return out;
}

std::vector<std::string> FakeGoogle::class_ids() const {
    std::lock_guard lock(impl_->state->mu);
    std::vector<std::string> out;
    for (const auto& [id, r] : impl_->state->classes) {
        out.push_back(id);
    }
    return out;
}

void FakeGoogle::seed_class(boost::json::object resource) {
    std::lock_guard lock(impl_->state->mu);
    State::seed(impl_->state->classes, Kind::klass, std::move(resource));
}

void FakeGoogle::seed_object(boost::json::object resource) {
    std::lock_guard lock(impl_->state->mu);
    State::seed(impl_->state->objects, Kind::object, std::move(resource));
}

std::vector<GoogleNotification> FakeGoogle::notifications(const std::string& object_id) const {
    std::lock_guard lock(impl_->state->mu);
    const auto it = impl_->state->objects.find(object_id);
    return it == impl_->state->objects.end() ? std::vector<GoogleNotification>{} : it->second.notes;
}

std::vector<GoogleNotification> FakeGoogle::class_notifications(const std::string& class_id) const {
    std::lock_guard lock(impl_->state->mu);
    const auto it = impl_->state->classes.find(class_id);
    return it == impl_->state->classes.end() ? std::vector<GoogleNotification>{} : it->second.notes;
}

std::vector<GoogleCall> FakeGoogle::calls() const {
    std::lock_guard lock(impl_->state->mu);
    return impl_->state->calls;
}

void FakeGoogle::clear_calls() {
    std::lock_guard lock(impl_->state->mu);
    impl_->state->calls.clear();
}

bool FakeGoogle::wait_for(const std::function<bool()>& predicate,
                          std::chrono::milliseconds timeout) const {
    const auto deadline = Clock::now() + timeout;
    State& s = *impl_->state;
    for (;;) {
        std::uint64_t seen = 0;
        {
            std::lock_guard lock(s.mu);
            seen = s.version;
        }
        if (predicate()) {
            return true;
        }
        const auto now = Clock::now();
        if (now >= deadline) {
            return false;
        }
        std::unique_lock lock(s.mu);
        s.cv.wait_until(lock, std::min(deadline, now + std::chrono::milliseconds(50)),
                        [&s, seen] { return s.version != seen; });
    }
}

bool FakeGoogle::wait_for_calls(std::size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(impl_->state->mu);
    return impl_->state->cv.wait_for(lock, timeout,
                                     [this, n] { return impl_->state->calls.size() >= n; });
}

std::size_t FakeGoogle::connections_accepted() const { return impl_->accepted.load(); }

}  // namespace cardsmith::test
