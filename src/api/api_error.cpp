#include "api/api_error.hpp"

#include <boost/json.hpp>
#include <stdexcept>

#include "http/response.hpp"

namespace cardsmith::api {
namespace {
struct Row {
    ApiErrc code;
    http::status status;
    const char* name;
};
// The error-to-status table.
constexpr Row kTable[] = {
    {ApiErrc::invalid_json, http::status::bad_request, "invalid_json"},
    {ApiErrc::validation_failed, http::status::unprocessable_entity, "validation_failed"},
    {ApiErrc::unauthorized, http::status::unauthorized, "unauthorized"},
    {ApiErrc::forbidden, http::status::forbidden, "forbidden"},
    {ApiErrc::not_found, http::status::not_found, "not_found"},
    {ApiErrc::conflict, http::status::conflict, "conflict"},
    {ApiErrc::insufficient_balance, http::status::conflict, "insufficient_balance"},
    {ApiErrc::idempotency_key_reused, http::status::conflict, "idempotency_key_reused"},
    {ApiErrc::unsupported_media_type, http::status::unsupported_media_type,
     "unsupported_media_type"},
    {ApiErrc::unavailable, http::status::service_unavailable, "unavailable"},
    {ApiErrc::lint_failed, http::status::unprocessable_entity, "lint_failed"},
    {ApiErrc::limit_reached, http::status::forbidden, "limit_reached"},
    {ApiErrc::internal, http::status::internal_server_error, "internal_error"},
};
}  // namespace

http_server::Response error_to_response(const ApiError& e, unsigned version) {
    for (const auto& row : kTable) {
        if (row.code == e.code) {
            boost::json::object err{{"code", row.name}, {"message", e.message}};
            if (!e.field.empty()) {
                err["field"] = e.field;
            }
            for (const auto& [k, v] : e.details) {
                err[k] = v;
            }
            auto res = http_server::json_response(row.status, boost::json::object{{"error", err}},
                                                  version);
            if (e.code == ApiErrc::unauthorized) {
                res.set(http::field::www_authenticate, "Bearer");
            }
            return res;
        }
    }
    return http_server::error_response(http::status::internal_server_error, "internal_error",
                                       "internal error", version);
}

void throw_exception_from_error(const ApiError& e, const boost::source_location&) {
    throw std::logic_error("unchecked ApiError: " + e.message);
}

}  // namespace cardsmith::api
