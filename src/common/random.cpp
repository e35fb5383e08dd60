#include "common/random.hpp"

#include <openssl/rand.h>

#include <limits>
#include <stdexcept>
#include <vector>

#include "common/hex.hpp"

namespace cardsmith::random {

void fill(void* out, std::size_t n) {
    if (RAND_bytes(static_cast<unsigned char*>(out), static_cast<int>(n)) != 1) {
        throw std::runtime_error("RAND_bytes failed");
    }
}

std::uint64_t uniform(std::uint64_t bound) {
    if (bound <= 1) {
        return 0;
    }
    const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() -
                                std::numeric_limits<std::uint64_t>::max() % bound;
    for (;;) {
        std::uint64_t v = 0;
        fill(&v, sizeof v);
        if (v < limit) {
            return v % bound;
        }
    }
}

std::string base64url(std::size_t bytes) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::vector<unsigned char> buf(bytes);
    fill(buf.data(), buf.size());
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (unsigned char b : buf) {
        acc = (acc << 8) | b;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out += kAlphabet[(acc >> bits) & 0x3F];
        }
    }
    if (bits > 0) {
        out += kAlphabet[(acc << (6 - bits)) & 0x3F];
    }
    return out;
}

std::string code(std::size_t length) {
    // No 0/o, 1/l/i: codes are read out and typed by people.
    static constexpr std::string_view kAlphabet = "abcdefghjkmnpqrstuvwxyz23456789";
    std::string out(length, 'a');
    for (auto& c : out) {
        c = kAlphabet[uniform(kAlphabet.size())];
    }
    return out;
}

std::string hex(std::size_t bytes) {
    std::vector<unsigned char> buf(bytes);
    fill(buf.data(), buf.size());
    return to_hex(buf.data(), buf.size());
}

}  // namespace cardsmith::random
