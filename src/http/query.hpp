#pragma once
// Query strings and HTML form bodies (application/x-www-form-urlencoded): percent-decoded,
// '+' as space; the last value of a key wins.
#include <string>
#include <string_view>
#include <unordered_map>

namespace cardsmith::http_server {

using Params = std::unordered_map<std::string, std::string>;

// The query of a request target ("/join/x?src=poster").
[[nodiscard]] Params parse_query(std::string_view target);
// A form body ("name=Anna&consent=on").
[[nodiscard]] Params parse_form(std::string_view body);

}  // namespace cardsmith::http_server
