#include "apns/push.hpp"

#include <boost/json.hpp>

namespace cardsmith::apns {
namespace {

constexpr std::size_t kTokenPrefix = 8;

bool one_of(std::string_view reason, std::initializer_list<std::string_view> names) {
    for (auto name : names) {
        if (reason == name) {
            return true;
        }
    }
    return false;
}

Action classify_400(std::string_view reason) {
    if (one_of(reason, {"BadDeviceToken", "DeviceTokenNotForTopic"})) {
        return Action::drop_token;
    }
    if (one_of(reason, {"TopicDisallowed", "BadTopic", "MissingTopic"})) {
        return Action::stop_identity;
    }
    if (reason == "IdleTimeout") {
        return Action::retry_later;
    }
    return Action::our_bug;
}

}  // namespace

Action classify(const PushResult& result) {
    const unsigned s = result.status;
    if (s == 200) {
        return Action::done;
    }
    if (s == 0 || s == 429 || s >= 500) {
        return Action::retry_later;
    }
    if (s == 400) {
        return classify_400(result.reason);
    }
    if (s == 403) {
        // BadCertificate(Environment), Forbidden, *ProviderToken*: all credentials.
        return Action::stop_identity;
    }
    if (s == 410) {
        return Action::drop_token;
    }
    return Action::our_bug;  // 404, 405, 413 and anything else we sent wrong
}

std::string_view to_string(Action action) {
    switch (action) {
        case Action::done:
            return "done";
        case Action::drop_token:
            return "drop_token";
        case Action::retry_later:
            return "retry_later";
        case Action::stop_identity:
            return "stop_identity";
        case Action::our_bug:
            return "our_bug";
    }
    return "?";
}

std::string token_prefix(std::string_view token) {
    if (token.size() <= kTokenPrefix) {
        return std::string(token.substr(0, token.size() / 2)) + "...";
    }
    return std::string(token.substr(0, kTokenPrefix)) + "...";
}

bool parse_error_body(std::string_view body, PushResult& out) {
    if (body.empty()) {
        return false;
    }
    boost::system::error_code ec;
    const boost::json::value value = boost::json::parse(body, ec);
    if (ec || !value.is_object()) {
        return false;
    }
    const auto& object = value.get_object();
    if (const auto* reason = object.if_contains("reason"); reason && reason->is_string()) {
        out.reason = std::string(reason->get_string());
    }
    // Milliseconds since the epoch. A number beyond int64 (an unsigned one above its maximum,
    // a double out of range, where the conversion is undefined) is no time: ignored.
    if (const auto* ts = object.if_contains("timestamp")) {
        constexpr double kLimit = 9.2e18;  // below 2^63, so the conversion is defined
        if (ts->is_int64()) {
            out.timestamp_ms = ts->get_int64();
        } else if (ts->is_double() && ts->get_double() > -kLimit && ts->get_double() < kLimit) {
            out.timestamp_ms = static_cast<std::int64_t>(ts->get_double());
        }
    }
    return true;
}

}  // namespace cardsmith::apns
