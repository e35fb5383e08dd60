#pragma once
// Building responses: JSON bodies and the CONTRACT §3 error shape
// {"error":{"code":"snake_case","message":"..."}}.
#include <boost/json/value.hpp>
#include <string>
#include <string_view>

#include "http/types.hpp"

namespace cardsmith::http_server {

[[nodiscard]] Response json_response(http::status status, const boost::json::value& body,
                                     unsigned version = 11);
[[nodiscard]] Response error_response(http::status status, std::string_view code,
                                      std::string_view message, unsigned version = 11);
[[nodiscard]] Response bytes_response(http::status status, std::string content_type,
                                      std::string body, unsigned version = 11);

}  // namespace cardsmith::http_server
