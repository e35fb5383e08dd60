#pragma once
// One-time codes of the enrollment's verification step (issue 4): six random digits, kept
// only as an HMAC bound to the verification's id, and the masked destination the code
// page shows.
#include <string>
#include <string_view>

namespace cardsmith::enroll {

inline constexpr int kCodeDigits = 6;

// Six digits, uniformly random (leading zeros kept).
[[nodiscard]] std::string new_code();
// HMAC-SHA256(key, id "|" code) in hex: a leaked table reveals no code, and a code is only
// good for its own verification.
[[nodiscard]] std::string code_hash(std::string_view key, std::string_view id,
                                    std::string_view code);
// True for exactly six ASCII digits.
[[nodiscard]] bool is_code_format(std::string_view code);
// "+49151…89" for a phone, "a…@example.com" for an email: enough to recognise, not to read
// off.
[[nodiscard]] std::string mask_destination(std::string_view destination);

}  // namespace cardsmith::enroll
