#include "api/abuse_limits.hpp"

#include <algorithm>

#include "api/join_forms.hpp"
#include "crypto/hash.hpp"
#include "http/response.hpp"

namespace cardsmith::api {
namespace {

std::unique_ptr<RateLimiter> per_minute(int per_minute, int burst) {
    if (per_minute <= 0) {
        return nullptr;
    }
    return std::make_unique<RateLimiter>(per_minute / 60.0, static_cast<double>(burst));
}

std::size_t one(const bool&) { return 1; }

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

AbuseLimits::AbuseLimits(const config::LimitsConfig& limits, ApiContext& ctx)
    : ctx_(ctx),
      per_ip_(per_minute(limits.ip_per_minute, limits.ip_burst)),
      per_key_(per_minute(limits.key_per_minute, limits.key_burst)),
      auth_failures_(limits.auth_failures > 0
                         ? std::make_unique<RateLimiter>(limits.auth_failures_per_minute / 60.0,
                                                         static_cast<double>(limits.auth_failures))
                         : nullptr),
      joins_(limits.joins_per_hour > 0
                 ? std::make_unique<RateLimiter>(limits.joins_per_hour / 3600.0,
                                                 static_cast<double>(limits.join_burst))
                 : nullptr),
      good_(50'000, one) {}

AbuseLimits::Kind AbuseLimits::classify(std::string_view pattern, http::verb method) {
    if (pattern == "/healthz" || pattern == "/readyz" || pattern == "/metrics" ||
        pattern == "/google/callback") {
        return Kind::exempt;
    }
    if (starts_with(pattern, "/api/")) {
        return Kind::api;
    }
    if (pattern.find("/v1/") != std::string_view::npos) {
        return Kind::device;  // Apple's web service (and the wallets that speak it)
    }
    if (method == http::verb::post && starts_with(pattern, "/join/") &&
        pattern.find('/', 6) == std::string_view::npos) {
        return Kind::join;  // POST /join/{slug}: a card, or a code sent
    }
    return Kind::page;
}

void AbuseLimits::protect(http_server::Router& router) {
    router.wrap([this](const std::string& pattern, http::verb method,
                       http_server::Handler inner) -> http_server::Handler {
        const Kind kind = classify(pattern, method);
        if (kind == Kind::exempt) {
            return inner;
        }
        return [this, kind, handler = std::move(inner)](http_server::RequestContext& rc) {
            return guard(kind, handler, rc);
        };
    });
}

bool AbuseLimits::known_good(const std::string& credential) const {
    return !credential.empty() && good_.get(credential) != nullptr;
}

http_server::Response AbuseLimits::refuse(Kind kind, const char* limit,
                                          std::chrono::milliseconds retry_after,
                                          const http_server::RequestContext& rc) const {
    ctx_.metrics.counter_add("cardsmith_rate_limited_total",
                             "Requests refused with 429 by an abuse limit", {{"limit", limit}});
    const auto seconds = std::max<std::int64_t>(1, (retry_after.count() + 999) / 1000);
    const std::string wait = std::to_string(seconds);
    const unsigned version = rc.request.version();
    http_server::Response res =
        kind == Kind::page || kind == Kind::join
            ? http_server::bytes_response(
                  http::status::too_many_requests, "text/plain; charset=utf-8",
                  "Too many requests from your address. Please try again in " + wait +
                      " seconds.\n",
                  version)
            : http_server::error_response(http::status::too_many_requests, "rate_limited",
                                          std::string("too many requests (") + limit +
                                              " limit); retry after " + wait + " s",
                                          version);
    res.set(http::field::retry_after, wait);
    res.set(http::field::cache_control, "no-store");
    return res;
}

net::awaitable<http_server::Response> AbuseLimits::guard(Kind kind,
                                                         const http_server::Handler& inner,
                                                         http_server::RequestContext& rc) {
    const std::string address = client_address(ctx_, rc);
    const auto now = RateLimiter::Clock::now();
    if (kind == Kind::page || kind == Kind::join) {
        if (per_ip_) {
            const auto d = per_ip_->take(address, now);
            if (!d.allowed) {
                co_return refuse(kind, "address", d.retry_after, rc);
            }
        }
        if (kind == Kind::join && joins_) {
            const auto d = joins_->take(address, now);
            if (!d.allowed) {
                co_return refuse(kind, "join", d.retry_after, rc);
            }
        }
        http_server::Response res = co_await inner(rc);
        co_return res;
    }

    // The API and Apple's web service: credentials. Only a digest is kept in memory.
    const std::string_view authorization = rc.request[http::field::authorization];
    const std::string credential =
        authorization.empty() ? std::string() : crypto::sha256_hex(authorization);
    // Looked up once: a key that worked recently passes the failed-auth throttle, and is
    // not put back into the cache after it works again.
    const bool was_good = !credential.empty() && known_good(credential);
    if (auth_failures_ && !was_good) {
        const auto d = auth_failures_->peek(address, now);
        if (!d.allowed) {
            co_return refuse(kind, "auth", d.retry_after, rc);
        }
    }
    if (kind == Kind::api) {
        const bool by_key = !credential.empty();
        RateLimiter* limiter = by_key ? per_key_.get() : per_ip_.get();
        if (limiter != nullptr) {
            const auto d = limiter->take(by_key ? credential : address, now);
            if (!d.allowed) {
                co_return refuse(kind, by_key ? "key" : "address", d.retry_after, rc);
            }
        }
    }
    http_server::Response res = co_await inner(rc);
    const auto status = res.result();
    const bool failed =
        !credential.empty() && (status == http::status::unauthorized ||
                                (kind == Kind::device && status == http::status::not_found));
    if (failed) {
        if (auth_failures_) {
            (void)auth_failures_->take(address, now);
        }
        if (was_good) {
            good_.erase(credential);  // revoked or expired: it proves nothing any more
        }
    } else if (!credential.empty() && !was_good) {
        good_.put(credential, std::make_shared<const bool>(true));
    }
    co_return res;
}

}  // namespace cardsmith::api
