#pragma once
// Lowercase hex encoding and the value of one hex digit, shared by hashing, the server
// key file and URL percent-decoding.
#include <cstddef>
#include <string>

namespace cardsmith {

[[nodiscard]] inline std::string to_hex(const unsigned char* data, std::size_t size) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(size * 2);
    for (std::size_t i = 0; i < size; ++i) {
        out += kHex[data[i] >> 4];
        out += kHex[data[i] & 0x0F];
    }
    return out;
}

// 0-15 for 0-9, a-f, A-F; -1 otherwise.
[[nodiscard]] constexpr int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

}  // namespace cardsmith
