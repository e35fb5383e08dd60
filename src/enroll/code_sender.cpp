#include "enroll/code_sender.hpp"

#include <boost/json.hpp>
#include <chrono>

#include "common/log.hpp"
#include "crypto/hash.hpp"
#include "enroll/codes.hpp"
#include "http/client.hpp"

namespace cardsmith::enroll {
namespace json = boost::json;

std::string code_text(const CodeMessage& m) {
    const int minutes = std::max(1, m.ttl_seconds / 60);
    if (m.language == "ru") {
        return m.program_name + ": ваш код " + m.code + ". Он действует " +
               std::to_string(minutes) + " мин.";
    }
    return m.program_name + ": your code is " + m.code + ". It expires in " +
           std::to_string(minutes) + (minutes == 1 ? " minute." : " minutes.");
}

std::string webhook_body(const CodeMessage& m, std::int64_t now_ms) {
    return json::serialize(json::object{
        {"type", "verification.code"},
        {"program", m.program_slug},
        {"channel", m.channel == "phone" ? "sms" : "email"},
        {"to", m.destination},
        {"code", m.code},
        {"text", code_text(m)},
        {"language", m.language},
        {"expiresAt", m.expires_at_ms / 1000},
        {"sentAt", now_ms / 1000},
    });
}

std::string webhook_signature(std::string_view secret, std::int64_t unix_seconds,
                              std::string_view body) {
    const std::string t = std::to_string(unix_seconds);
    std::string signed_text = t;
    signed_text += '.';
    signed_text += body;
    return "t=" + t + ",v1=" + crypto::hmac_sha256_hex(secret, signed_text);
}

std::string webhook_secret_context(ProgramId program) {
    return "verification-webhook:" + std::to_string(program.value());
}

net::awaitable<std::optional<std::string>> CodeSender::async_send(
    const domain::Program& program, const CodeMessage& message) const {
    const auto& v = program.enrollment.verification;
    if (v.provider == domain::CodeProvider::log) {
        // The development provider: the log is the delivery channel, so the code is in it.
        log::info("verification code (log provider)",
                  {{"program", program.slug},
                   {"to", mask_destination(message.destination)},
                   {"code", message.code}});
        co_return std::nullopt;
    }
    if (secrets_ == nullptr) {
        co_return "no server key to open the webhook secret";
    }
    const auto secret = secrets_->open(v.webhook_secret_sealed, webhook_secret_context(program.id));
    if (!secret) {
        co_return "the webhook secret cannot be opened (server key changed?)";
    }
    const auto now = std::chrono::system_clock::now();
    const auto now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    http_server::OutgoingRequest request;
    request.url = v.webhook_url;
    request.body = webhook_body(message, now_ms);
    request.headers = {
        {"Content-Type", "application/json"},
        {"Cardsmith-Event", "verification.code"},
        {"Cardsmith-Signature", webhook_signature(*secret, now_ms / 1000, request.body)}};
    request.timeout = std::chrono::seconds(10);
    std::optional<std::string> failure;
    try {
        auto res = co_await http_server::async_fetch(request, tls_);
        if (res.status < 200 || res.status > 299) {
            failure = "the gateway answered " + std::to_string(res.status);
        }
    } catch (const boost::system::system_error& e) {
        failure = std::string("the gateway cannot be reached: ") + e.code().message();
    }
    co_return failure;
}

}  // namespace cardsmith::enroll
