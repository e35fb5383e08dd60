#pragma once
// The abuse limits in front of every route (issue 8; docs/security.md "Limits"):
//
//   route                          limit, by the client address (X-Forwarded-For's last entry
//                                  when server.trust_forwarded_for) or the API key
//   /healthz, /readyz, /metrics,   none (monitoring; Google's callbacks are signed)
//   /google/callback
//   /api/...                       with a key: per key (its SHA-256); without: per address.
//                                  An address whose authentications failed too often (401)
//                                  is refused unless it shows a key that worked recently.
//   Apple's web service            failed authentications only (401 and 404 for a token or
//                                  serial that does not exist): devices behind one carrier
//                                  NAT share addresses by the thousand, so a plain rate per
//                                  address would delay real updates after every push.
//   pages (join, card, passes,     per address; POST /join/{slug} also counts against the
//   poster, images, console)       joins-per-hour limit (codes have their own, in the store)
//
// A refusal is 429 with Retry-After (whole seconds, rounded up) before the handler runs,
// so it touches neither the database nor the signer, and is counted in
// cardsmith_rate_limited_total{limit}. The buckets live in this process (each instance
// allows the configured rate) and are bounded in memory (common/rate_limiter.hpp).
#include <memory>
#include <string>

#include "api/api_context.hpp"
#include "common/lru_cache.hpp"
#include "common/rate_limiter.hpp"
#include "config/config.hpp"
#include "http/router.hpp"

namespace cardsmith::api {

class AbuseLimits {
public:
    AbuseLimits(const config::LimitsConfig& limits, ApiContext& ctx);

    // Wraps every route of `router` (call after all routes are added).
    void protect(http_server::Router& router);

    enum class Kind { exempt, api, device, page, join };
    [[nodiscard]] static Kind classify(std::string_view pattern, http::verb method);

    // The guard itself (public for protect()'s wrappers).
    net::awaitable<http_server::Response> guard(Kind kind, const http_server::Handler& inner,
                                                http_server::RequestContext& rc);

private:
    [[nodiscard]] bool known_good(const std::string& credential) const;
    [[nodiscard]] http_server::Response refuse(Kind kind, const char* limit,
                                               std::chrono::milliseconds retry_after,
                                               const http_server::RequestContext& rc) const;

    ApiContext& ctx_;
    std::unique_ptr<RateLimiter> per_ip_, per_key_, auth_failures_, joins_;
    // Credentials (digests) that authenticated recently: they pass an address's failed-auth
    // block, so a till behind the same NAT as an attacker keeps working.
    mutable LruCache<std::string, bool> good_;
};

}  // namespace cardsmith::api
