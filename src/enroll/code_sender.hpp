#pragma once
// Delivering a one-time code (issue 4): the program's provider decides how.
//   log      development: the code is written to the server log (and only there)
//   webhook  a POST of JSON to the merchant's SMS/email gateway, signed with
//            HMAC-SHA256 in the Cardsmith-Signature header (docs/api.md "Verification")
#include <boost/asio/ssl/context.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "common/net.hpp"
#include "crypto/secret_box.hpp"
#include "domain/enrollment.hpp"
#include "domain/models.hpp"

namespace cardsmith::enroll {

struct CodeMessage {
    std::string program_slug, program_name, language;  // language: "en" or "ru"
    std::string channel;                               // "phone" or "email"
    std::string destination;                           // normalised
    std::string code;
    std::int64_t expires_at_ms = 0;
    int ttl_seconds = 600;
};

// What the customer reads: "Bean: your code is 123456. It expires in 10 minutes."
[[nodiscard]] std::string code_text(const CodeMessage& m);
// The webhook's JSON body.
[[nodiscard]] std::string webhook_body(const CodeMessage& m, std::int64_t now_ms);
// "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>".
[[nodiscard]] std::string webhook_signature(std::string_view secret, std::int64_t unix_seconds,
                                            std::string_view body);
// Associated data the program's webhook secret is sealed with (SecretBox).
[[nodiscard]] std::string webhook_secret_context(ProgramId program);

class CodeSender {
public:
    // `secrets` opens the programs' sealed webhook secrets; `tls` checks the gateways'
    // certificates. Both must outlive the sender.
    CodeSender(const crypto::SecretBox* secrets, net::ssl::context& tls)
        : secrets_(secrets), tls_(tls) {}

    // nullopt when the code is on its way; otherwise why not (for the log: no secrets).
    [[nodiscard]] net::awaitable<std::optional<std::string>> async_send(
        const domain::Program& program, const CodeMessage& message) const;

private:
    const crypto::SecretBox* secrets_;
    net::ssl::context& tls_;
};

}  // namespace cardsmith::enroll
