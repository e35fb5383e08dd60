#pragma once
// API failures and the one table that turns them into HTTP responses (STYLE.md
// "Errors"; CONTRACT §3 error shape). Handlers return result<T, ApiError>.
#include <boost/json/object.hpp>
#include <boost/system/result.hpp>
#include <string>

#include "http/types.hpp"

namespace cardsmith::api {

enum class ApiErrc {
    invalid_json,            // body is not JSON, or not the expected JSON shape
    validation_failed,       // a value breaks a rule; `field` names it
    unauthorized,            // no or unknown API key
    forbidden,               // key valid but the action is admin-only
    not_found,               // no such resource, or not the caller's (tenant isolation)
    conflict,                // unique value taken (slug), or state forbids it
    insufficient_balance,    // a redemption would take the balance below zero
    idempotency_key_reused,  // the Idempotency-Key was used before with another request
    unsupported_media_type,  // wrong Content-Type
    unavailable,             // a dependency is down (storage)
    lint_failed,             // a design or message would break lock-screen messages
    limit_reached,           // a configured maximum (cards per program) is reached
    internal,                // a bug or unexpected failure; details only in the log
};

struct ApiError {
    ApiErrc code;
    std::string message;
    std::string field;                 // optional: the JSON path at fault
    boost::json::object details = {};  // optional: more members of the error object
};

template <typename T>
using Result = boost::system::result<T, ApiError>;

[[nodiscard]] http_server::Response error_to_response(const ApiError& error, unsigned version);

// Shorthands.
[[nodiscard]] inline ApiError not_found(std::string what) {
    return {ApiErrc::not_found, std::move(what) + " not found", {}};
}
[[nodiscard]] inline ApiError invalid(std::string field, std::string message) {
    return {ApiErrc::validation_failed, field + ": " + message, field};
}

// For boost::system::result<T, ApiError>::value() (only reached on a bug).
[[noreturn]] void throw_exception_from_error(const ApiError& e, const boost::source_location& loc);

}  // namespace cardsmith::api
