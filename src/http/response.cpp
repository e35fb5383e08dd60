#include "http/response.hpp"

#include <boost/json/serialize.hpp>
#include <utility>

namespace cardsmith::http_server {

Response json_response(http::status status, const boost::json::value& body, unsigned version) {
    Response res{status, version};
    res.set(http::field::content_type, "application/json");
    res.body() = boost::json::serialize(body);
    res.prepare_payload();
    return res;
}

Response error_response(http::status status, std::string_view code, std::string_view message,
                        unsigned version) {
    boost::json::object error;
    error["code"] = code;
    error["message"] = message;
    boost::json::object body;
    body["error"] = std::move(error);
    return json_response(status, body, version);
}

Response bytes_response(http::status status, std::string content_type, std::string body,
                        unsigned version) {
    Response res{status, version};
    res.set(http::field::content_type, content_type);
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
}

}  // namespace cardsmith::http_server
