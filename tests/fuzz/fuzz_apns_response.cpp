// Fuzz target: APNs answers. The input is the response's :status header value, a newline,
// then its body, read as detail::Connection reads a finished stream: the status with
// from_chars, the error body `{"reason", "timestamp"}` with parse_error_body when it is not
// 200, then the one table that decides what the dispatcher does (classify). Properties: an
// unreadable body leaves the result as it was; a 200 is always `done`.
#include <charconv>

#include "apns/push.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace cardsmith;
    const std::string_view text = fuzz::text_of(data, size);
    const auto newline = text.find('\n');
    const std::string_view status_text = text.substr(0, newline);
    const std::string_view body =
        newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    unsigned status = 0;
    (void)std::from_chars(status_text.data(), status_text.data() + status_text.size(), status);
    if (status == 0) {
        return 0;  // no :status: the stream ends without a result
    }
    apns::PushResult result{status, {}, {}, "0f6e3a5c-7d3b-4c1e-9a2f-5b8d7e6c4a31"};
    if (status != 200) {
        const apns::PushResult before = result;
        if (!apns::parse_error_body(body, result)) {
            FUZZ_EXPECT(result.reason == before.reason &&
                        result.timestamp_ms == before.timestamp_ms);
        }
    }
    const auto action = apns::classify(result);
    FUZZ_EXPECT(!apns::to_string(action).empty());
    FUZZ_EXPECT(status != 200 || action == apns::Action::done);
    (void)apns::token_prefix(body);
    return 0;
}
