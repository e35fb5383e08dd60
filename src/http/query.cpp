#include "http/query.hpp"

#include <boost/url/parse.hpp>

namespace cardsmith::http_server {

Params parse_query(std::string_view target) {
    Params out;
    auto url = boost::urls::parse_origin_form(target);
    if (!url) {
        return out;
    }
    for (const auto& param : url->params()) {
        out[std::string(param.key)] = param.has_value ? std::string(param.value) : std::string();
    }
    return out;
}

Params parse_form(std::string_view body) { return parse_query("/?" + std::string(body)); }

}  // namespace cardsmith::http_server
