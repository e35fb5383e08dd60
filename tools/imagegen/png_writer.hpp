#pragma once
// Encodes an Image as a PNG file: signature, IHDR (8-bit RGBA, no interlace), one IDAT
// compressed with zlib, IEND, each chunk with its CRC-32 (PNG spec, ISO/IEC 15948 §5,
// §11). Each row gets the filter (§9) that minimises the sum of absolute filtered bytes.
// Stateless; thread-safe.
#include <cstdint>
#include <optional>
#include <vector>

#include "image.hpp"

namespace cardsmith::imagegen {

// The PNG bytes, or nullopt when zlib fails (out of memory).
[[nodiscard]] std::optional<std::vector<std::uint8_t>> encode_png(const Image& image);

}  // namespace cardsmith::imagegen
