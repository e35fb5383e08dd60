#include "http/router.hpp"

#include <algorithm>
#include <optional>
#include <utility>

#include "common/check.hpp"
#include "common/hex.hpp"

namespace cardsmith::http_server {
namespace {

// "/a//b/" → "/a/b/" (apple-wallet.md pitfall 16: devices send doubled slashes).
std::string collapse_slashes(std::string_view path) {
    std::string out;
    out.reserve(path.size());
    for (char c : path) {
        if (c == '/' && !out.empty() && out.back() == '/') {
            continue;
        }
        out += c;
    }
    return out;
}

// "/a/b" → {"a", "b"}; "/" → {""}; "/a/" → {"a", ""} (so a trailing slash never matches).
std::vector<std::string_view> split_segments(std::string_view path) {
    std::vector<std::string_view> segments;
    std::string_view rest = path.substr(1);
    for (;;) {
        const auto slash = rest.find('/');
        segments.push_back(rest.substr(0, slash));
        if (slash == std::string_view::npos) {
            break;
        }
        rest.remove_prefix(slash + 1);
    }
    return segments;
}

// Percent-decodes one path segment ('+' stays literal in paths); nullopt if malformed.
std::optional<std::string> decode_segment(std::string_view segment) {
    std::string out;
    out.reserve(segment.size());
    for (std::size_t i = 0; i < segment.size(); ++i) {
        if (segment[i] != '%') {
            out += segment[i];
            continue;
        }
        if (i + 2 >= segment.size()) {
            return std::nullopt;
        }
        const int hi = hex_value(segment[i + 1]);
        const int lo = hex_value(segment[i + 2]);
        if (hi < 0 || lo < 0) {
            return std::nullopt;
        }
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

bool is_capture(std::string_view segment) {
    return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// Matches decoded request segments against a template; fills `params` on success.
bool match_segments(const std::vector<std::string>& pattern,
                    const std::vector<std::optional<std::string>>& request,
                    std::unordered_map<std::string, std::string>* params) {
    if (pattern.size() != request.size()) {
        return false;
    }
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        if (!request[i]) {
            return false;
        }
        if (is_capture(pattern[i])) {
            if (request[i]->empty()) {
                return false;
            }
        } else if (pattern[i] != *request[i]) {
            return false;
        }
    }
    if (params != nullptr) {
        for (std::size_t i = 0; i < pattern.size(); ++i) {
            if (is_capture(pattern[i])) {
                params->emplace(pattern[i].substr(1, pattern[i].size() - 2), *request[i]);
            }
        }
    }
    return true;
}

std::string allow_header(std::vector<http::verb> methods) {
    if (std::find(methods.begin(), methods.end(), http::verb::get) != methods.end()) {
        methods.push_back(http::verb::head);
    }
    std::sort(methods.begin(), methods.end(),
              [](http::verb a, http::verb b) { return http::to_string(a) < http::to_string(b); });
    methods.erase(std::unique(methods.begin(), methods.end()), methods.end());
    std::string out;
    for (http::verb m : methods) {
        if (!out.empty()) {
            out += ", ";
        }
        out += http::to_string(m);
    }
    return out;
}

}  // namespace

void Router::add(http::verb method, std::string pattern, Handler handler, RouteOptions options) {
    CARDSMITH_CHECK(!pattern.empty() && pattern.front() == '/');
    CARDSMITH_CHECK(handler != nullptr);
    Route route{method, std::move(pattern), {}, std::move(handler), options};
    for (std::string_view segment : split_segments(route.pattern)) {
        route.segments.emplace_back(segment);
    }
    routes_.push_back(std::move(route));
}

void Router::wrap(const Wrapper& wrap) {
    for (Route& route : routes_) {
        route.handler = wrap(route.pattern, route.method, std::move(route.handler));
        CARDSMITH_CHECK(route.handler != nullptr);
    }
}

Router::Match Router::match(http::verb method, std::string_view path) const {
    Match result;
    result.route = "unmatched";
    result.status = http::status::not_found;
    path = path.substr(0, path.find('?'));
    if (path.empty() || path.front() != '/') {
        return result;
    }
    const std::string collapsed = collapse_slashes(path);
    std::vector<std::optional<std::string>> decoded;
    for (std::string_view segment : split_segments(collapsed)) {
        decoded.push_back(decode_segment(segment));
    }

    const Route* exact = nullptr;
    const Route* head_as_get = nullptr;
    std::vector<http::verb> allowed;
    for (const Route& route : routes_) {
        if (!match_segments(route.segments, decoded, nullptr)) {
            continue;
        }
        allowed.push_back(route.method);
        if (route.method == method) {
            exact = &route;
            break;
        }
        if (method == http::verb::head && route.method == http::verb::get && !head_as_get) {
            head_as_get = &route;
        }
    }
    const Route* chosen = exact != nullptr ? exact : head_as_get;
    if (chosen != nullptr) {
        match_segments(chosen->segments, decoded, &result.params);
        result.handler = &chosen->handler;
        result.status = http::status::ok;
        result.route = chosen->pattern;
        result.body_limit = chosen->options.body_limit;
        result.log_path = chosen->options.log_path;
        return result;
    }
    if (!allowed.empty()) {
        result.status = http::status::method_not_allowed;
        result.allow = allow_header(std::move(allowed));
    }
    return result;
}

}  // namespace cardsmith::http_server
