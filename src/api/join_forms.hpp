#pragma once
// What the enrollment handlers (join_handlers.cpp) share: the double-submit cookie and
// its CSRF token, the join and code pages with their cookie, the client's address for
// the code limits, and the applicant kept while a code is on its way.
#include <map>
#include <optional>
#include <string>

#include "api/api_context.hpp"
#include "http/query.hpp"
#include "http/types.hpp"

namespace cardsmith::api {

// The form as typed, with its messages, and the link tags carried along.
struct FormState {
    std::map<std::string, std::string> values;
    std::map<std::string, std::string> errors;
    std::string src, ref;
};

// A validated applicant: what the card is issued with once the code (if any) is right.
struct Applicant {
    domain::Holder holder;
    std::string birthday, src, ref;
};
[[nodiscard]] std::string applicant_to_json(const Applicant& a);
[[nodiscard]] std::optional<Applicant> applicant_from_json(std::string_view json);

// The page language: the enrollment setting, else the design's locale.
[[nodiscard]] std::string page_lang(const domain::Program& p);

// A `src`/`ref` tag from a query or form, or empty when absent or malformed.
[[nodiscard]] std::string link_tag(const http_server::Params& m, const char* key);

// True when the form's csrf field is the HMAC of this browser's cs_join cookie.
[[nodiscard]] bool csrf_ok(const ApiContext& ctx, const http_server::RequestContext& rc,
                           const http_server::Params& form, std::string_view slug);

// The join form (fresh or kept cookie nonce; sets the cookie).
[[nodiscard]] http_server::Response join_page(const ApiContext& ctx,
                                              const http_server::RequestContext& rc,
                                              const domain::Program& p, http::status status,
                                              const FormState& state);

struct CodeStep {
    std::string pending_id, destination;
    std::map<std::string, std::string> errors;  // "code" → key; others on top
    std::string notice_key;                     // e.g. "verify.resent"
};
[[nodiscard]] http_server::Response verify_page(const ApiContext& ctx,
                                                const http_server::RequestContext& rc,
                                                const domain::Program& p, http::status status,
                                                const CodeStep& step);

// The client's IP address: the socket's peer, or X-Forwarded-For's last entry when the
// server is configured to sit behind a proxy.
[[nodiscard]] std::string client_address(const ApiContext& ctx,
                                         const http_server::RequestContext& rc);

}  // namespace cardsmith::api
