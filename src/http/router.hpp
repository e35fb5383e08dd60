#pragma once
// Method + path template ("/api/v1/cards/{cardNumber}") → handler. Built at start-up,
// then read-only: match() is thread-safe. Repeated slashes in the request path are
// collapsed before matching (apple-wallet.md pitfall 16). A path that matches a template
// with another method gives 405; no match gives 404.
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "http/types.hpp"

namespace cardsmith::http_server {

struct RouteOptions {
    std::size_t body_limit = 0;  // 0: the server's default
    // false: the path is a capability (a card's page and pass are reached by their
    // unguessable serial alone), so the access log shows the route template instead.
    bool log_path = true;
};

class Router {
public:
    // `name` labels metrics and the access log (e.g. "GET /api/v1/cards/{cardNumber}").
    void add(http::verb method, std::string pattern, Handler handler, RouteOptions options = {});

    // Replaces every handler added so far with what `wrap` makes of it (route pattern,
    // method, the handler): middleware such as the abuse limits, applied once at start-up
    // after the routes are added and before the server starts (not thread-safe).
    using Wrapper = std::function<Handler(const std::string& pattern, http::verb, Handler)>;
    void wrap(const Wrapper& wrap);

    struct Match {
        const Handler* handler = nullptr;        // null: see status
        http::status status = http::status::ok;  // not_found / method_not_allowed when no handler
        std::string route;                       // the pattern, or "unmatched"
        std::unordered_map<std::string, std::string> params;
        std::size_t body_limit = 0;
        bool log_path = true;  // RouteOptions::log_path
        std::string allow;     // for 405: the methods the path accepts, e.g. "GET, HEAD, POST"
    };
    // `path` is the encoded path of the target (a query string is ignored). A HEAD request
    // matches a GET route when no HEAD route matches.
    [[nodiscard]] Match match(http::verb method, std::string_view path) const;

private:
    struct Route {
        http::verb method;
        std::string pattern;
        std::vector<std::string> segments;  // "{name}" segments capture
        Handler handler;
        RouteOptions options;
    };
    std::vector<Route> routes_;
};

}  // namespace cardsmith::http_server
