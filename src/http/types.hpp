#pragma once
// Request/response types shared by the server, the router and the handlers.
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/net.hpp"

namespace cardsmith::http_server {

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// What a handler sees of one request. Lives for the duration of the handler call.
struct RequestContext {
    Request& request;
    std::unordered_map<std::string, std::string> params;  // path template captures
    std::string request_id;                               // also in the access log
    tcp::endpoint remote;
    // Query parameters of the target, percent-decoded; last one wins.
    std::unordered_map<std::string, std::string> query;

    [[nodiscard]] const std::string& param(const std::string& name) const {
        return params.at(name);
    }
};

using Handler = std::function<net::awaitable<Response>(RequestContext&)>;

}  // namespace cardsmith::http_server
