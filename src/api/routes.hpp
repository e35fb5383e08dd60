#pragma once
// The route table of the merchant API, the system endpoints and the pass download
// (CONTRACT §3). `ctx` must outlive the router.
#include "api/api_context.hpp"
#include "http/router.hpp"

namespace cardsmith::api {

void register_routes(http_server::Router& router, ApiContext& ctx);

}  // namespace cardsmith::api
