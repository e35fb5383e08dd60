#include "enroll/codes.hpp"

#include <algorithm>

#include "common/random.hpp"
#include "crypto/hash.hpp"

namespace cardsmith::enroll {

std::string new_code() {
    std::string code(kCodeDigits, '0');
    for (auto& c : code) {
        c = static_cast<char>('0' + random::uniform(10));
    }
    return code;
}

std::string code_hash(std::string_view key, std::string_view id, std::string_view code) {
    std::string data(id);
    data += '|';
    data += code;
    return crypto::hmac_sha256_hex(key, data);
}

bool is_code_format(std::string_view code) {
    return code.size() == kCodeDigits &&
           std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string mask_destination(std::string_view d) {
    if (const auto at = d.find('@'); at != std::string_view::npos) {
        return std::string(d.substr(0, std::min<std::size_t>(at, 1))) + "…" +
               std::string(d.substr(at));
    }
    if (d.size() <= 6) {
        return std::string(d.substr(0, 1)) + "…";
    }
    return std::string(d.substr(0, d.size() - 6 > 6 ? 6 : d.size() - 6)) + "…" +
           std::string(d.substr(d.size() - 2));
}

}  // namespace cardsmith::enroll
