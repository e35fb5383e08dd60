#pragma once
// Helpers shared by the handlers: authentication by bearer key, whole numbers from the
// path and the query, JSON body parsing with typed field access that reports the JSON
// path at fault, and response shorthands.
#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/api_context.hpp"
#include "api/api_error.hpp"
#include "domain/models.hpp"

namespace cardsmith::api {

// The caller's principal from `Authorization: Bearer <key>`.
[[nodiscard]] net::awaitable<Result<domain::Principal>> async_authenticate(
    ApiContext& ctx, const http_server::Request& request);

// The program named in the path, if the caller may touch it (another merchant's answers
// not_found, like a missing one).
[[nodiscard]] net::awaitable<Result<domain::Program>> async_own_program(
    ApiContext& ctx, const domain::Principal& who, const std::string& slug);

// The same for a request: authenticates it and takes the program from the {slug} param.
[[nodiscard]] net::awaitable<Result<domain::Program>> async_own_program(
    ApiContext& ctx, http_server::RequestContext& rc);

// The whole of `text` as a decimal whole number (a leading '-' allowed; no '+', spaces or
// anything after the digits); nullopt otherwise, also when it does not fit 64 bits.
[[nodiscard]] std::optional<std::int64_t> parse_int(std::string_view text);

// The {name} path parameter as an id: a whole number above 0. Anything else answers like an
// id that matches nothing: not_found(what) (404 "<what> not found"; `what` defaults to
// `name`).
[[nodiscard]] Result<std::int64_t> path_id(const http_server::RequestContext& rc,
                                           const std::string& name, std::string what = {});

// ?name= as a whole number from `lo` to `hi`; absent or empty: `fallback`. Anything else is
// a validation error naming the parameter (422 "<name>: must be a whole number from <lo> to
// <hi>").
[[nodiscard]] Result<std::int64_t> query_int(const http_server::RequestContext& rc,
                                             const std::string& name, std::int64_t lo,
                                             std::int64_t hi, std::int64_t fallback);

// The body as a JSON object: Content-Type must be JSON (or absent), the text valid JSON,
// at most 32 levels deep, and an object.
[[nodiscard]] Result<boost::json::object> parse_json_object(const http_server::Request& request);

// Rejects properties not in `allowed` (typos should not pass silently).
[[nodiscard]] std::optional<ApiError> reject_unknown(
    const boost::json::object& o, std::initializer_list<std::string_view> allowed,
    const std::string& path = "");
// Typed getters: absent → nullopt, wrong type → ApiError naming `path + key`.
[[nodiscard]] Result<std::optional<std::string>> get_string(const boost::json::object& o,
                                                            std::string_view key,
                                                            const std::string& path = "");
[[nodiscard]] Result<std::optional<std::int64_t>> get_int(const boost::json::object& o,
                                                          std::string_view key,
                                                          const std::string& path = "");

// A request's validation problems as one error: the first names the field and the
// message, every one is listed in "problems" ([{"field", "message"}...]). `problems` must
// not be empty.
[[nodiscard]] ApiError invalid(const std::vector<domain::Problem>& problems);

[[nodiscard]] http_server::Response json_ok(http::status status, const boost::json::value& body,
                                            const http_server::Request& request);
[[nodiscard]] http_server::Response fail(const ApiError& e, const http_server::Request& request);

}  // namespace cardsmith::api
