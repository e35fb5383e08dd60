#include "google/token_source.hpp"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include "common/log.hpp"

namespace cardsmith::google {
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {
constexpr auto kEarly = std::chrono::minutes(5);  // refresh this long before expiry
constexpr auto kQuiet = std::chrono::seconds(5);  // after a failure, fail fast this long
}  // namespace

TokenAnswer read_token_answer(int status, std::string_view body) {
    TokenAnswer out;
    error_code ec;
    auto v = json::parse(body, ec);
    const auto* o = !ec ? v.if_object() : nullptr;
    const auto* access = o != nullptr ? o->if_contains("access_token") : nullptr;
    const auto* expires = o != nullptr ? o->if_contains("expires_in") : nullptr;
    if (status == 200 && access != nullptr && access->is_string()) {
        out.token = std::string(access->as_string());
        if (expires != nullptr && expires->is_int64()) {
            out.lifetime = std::chrono::seconds(expires->as_int64());
        }
        return out;
    }
    const auto* e = o != nullptr ? o->if_contains("error_description") : nullptr;
    out.failure = "token endpoint answered " + std::to_string(status) +
                  (e != nullptr && e->is_string() ? ": " + std::string(e->as_string()) : "");
    return out;
}

Clock::time_point refresh_time(Clock::time_point now, std::chrono::seconds lifetime) {
    auto at = now + lifetime - kEarly;
    if (at <= now) {
        at = now + lifetime / 2;
    }
    return at;
}

TokenSource::TokenSource(net::any_io_executor executor, const ServiceAccount& account,
                         RestClient& client, std::string token_url)
    : strand_(net::make_strand(executor)),
      account_(account),
      client_(client),
      token_url_(std::move(token_url)) {
    auto parsed = boost::urls::parse_absolute_uri(token_url_);
    token_path_ = parsed ? std::string(parsed->encoded_path()) : "/token";
    if (token_path_.empty()) token_path_ = "/";
}

std::size_t TokenSource::refreshes() const { return refreshes_; }

TokenSource::Health TokenSource::health() const {
    std::lock_guard lock(health_mutex_);
    return health_;
}

void TokenSource::invalidate(const std::string& token) {
    net::post(strand_, [this, token] {
        if (token_ == token) {
            token_.clear();
        }
    });
}

net::awaitable<std::string> TokenSource::async_token() {
    // The state lives on the strand: a coroutine of the strand's own reads and writes it,
    // and its I/O completes there too. The caller resumes on its own executor.
    co_return co_await net::co_spawn(strand_, on_strand(), net::use_awaitable);
}

net::awaitable<std::string> TokenSource::on_strand() {
    std::string token;
    std::string failure;
    for (;;) {
        if (!token_.empty() && Clock::now() < refresh_at_) {
            token = token_;
            break;
        }
        if (!failure_.empty() && Clock::now() - failed_at_ < kQuiet) {
            failure = failure_;
            break;
        }
        if (!refreshing_) {
            co_await refresh();  // on the strand; wakes the waiters
            continue;
        }
        net::steady_timer wait(strand_, Clock::time_point::max());
        waiters_.push_back(&wait);
        error_code ec;
        co_await wait.async_wait(net::redirect_error(net::use_awaitable, ec));
        std::erase(waiters_, &wait);
    }
    if (!failure.empty()) {
        throw TokenError(failure);
    }
    co_return token;
}

net::awaitable<void> TokenSource::refresh() {
    refreshing_ = true;
    ++refreshes_;
    const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
    const std::string body =
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=" +
        token_assertion(account_, token_url_, now_s);
    const std::vector<std::pair<std::string, std::string>> headers{
        {"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
    std::string failure;
    try {
        auto res = co_await client_.async_request(http::verb::post, token_path_, body, headers);
        // Google's error text (invalid_grant: clock, signature, deleted key) helps the
        // operator.
        TokenAnswer answer = read_token_answer(res.status, res.body);
        if (!answer.token.empty()) {
            token_ = std::move(answer.token);
            refresh_at_ = refresh_time(Clock::now(), answer.lifetime);
            failure_.clear();
        } else {
            failure = std::move(answer.failure);
        }
    } catch (const boost::system::system_error& e) {
        failure = std::string("token endpoint unreachable: ") + e.code().message();
    }
    if (!failure.empty()) {
        log::error("google: no access token", {{"reason", failure}});
        failure_ = failure;
        failed_at_ = Clock::now();
        token_.clear();
    }
    {
        std::lock_guard lock(health_mutex_);
        health_.state = failure.empty() ? "ok" : "failing";
        health_.error = failure;
    }
    refreshing_ = false;
    for (auto* w : waiters_) {
        w->cancel();
    }
}

}  // namespace cardsmith::google
