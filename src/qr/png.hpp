#pragma once
// A minimal PNG encoder for 1-bit grayscale images (PNG spec, ISO/IEC 15948:2004, sections
// 5 "Datastream structure", 11.2.2 IHDR, 11.2.4 IDAT, 11.2.5 IEND). We write our own because
// libpng is not in our dependency list (scripts/deps.sh) and a black-and-white PNG of a QR
// code needs only a signature, three chunks, zlib's deflate and crc32. Pure functions;
// thread-safe.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cardsmith::qr {

// A 1-bit grayscale image: `height` rows of `stride()` bytes, pixels packed most significant
// bit first, a set bit is white (PNG grayscale: 0 = black). Padding bits at the end of a row
// are ignored by decoders.
struct BitImage {
    std::uint32_t width = 0;
    std::uint32_t height = 0;
    std::vector<std::uint8_t> rows;

    [[nodiscard]] std::size_t stride() const { return (std::size_t{width} + 7) / 8; }
};

// The PNG bytes of `image` (filter type 0 on every row, non-interlaced). The image must be
// non-empty with rows.size() == height * stride(); anything else is a bug and aborts.
// Throws std::bad_alloc if zlib runs out of memory.
[[nodiscard]] std::string encode_png(const BitImage& image);

}  // namespace cardsmith::qr
