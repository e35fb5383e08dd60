#pragma once
// QR codes for enrollment links (ISO/IEC 18004:2015): encoding with libqrencode at error
// correction level M in byte mode, rendered as SVG or PNG with the 4-module quiet zone the
// standard requires. Pure functions; thread-safe (Debian's libqrencode is built with pthread
// support and guards its shared tables).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cardsmith::qr {

// The most bytes one QR code holds in 8-bit mode at level M (version 40).
inline constexpr std::size_t kMaxBytes = 2331;
// The modules of white border on each side of a rendered code (the quiet zone).
inline constexpr int kQuietZone = 4;
// The range to_png clamps its `pixels` argument into.
inline constexpr int kMinPngPixels = 64;
inline constexpr int kMaxPngPixels = 4096;

// A QR symbol without its quiet zone: `size` x `size` modules (21 for version 1, 177 for
// version 40), row-major, 1 = dark. A value; cheap to move.
struct Matrix {
    int size = 0;
    std::vector<std::uint8_t> dark;

    // Whether the module in column x, row y is dark; out of range is a bug and aborts.
    [[nodiscard]] bool at(int x, int y) const;
};

// The smallest QR code holding `text` as bytes, error correction M, 8-bit mode (URLs).
// Throws std::invalid_argument if `text` is empty or longer than kMaxBytes ("too long for a
// QR code"), std::bad_alloc if out of memory.
[[nodiscard]] Matrix encode(std::string_view text);

// An SVG document: a white background rect and one <path> of the dark modules (horizontal
// runs merged per row), quiet zone of 4 modules, viewBox in modules, shape-rendering
// "crispEdges". `pixels` > 0 sets width and height; 0 leaves them out so the page scales the
// code freely. `dark` is the colour of the dark modules as "#RRGGBB". Throws
// std::invalid_argument for a negative `pixels` or a malformed `dark`.
[[nodiscard]] std::string to_svg(const Matrix& m, int pixels = 0,
                                 std::string_view dark = "#000000");

// A 1-bit grayscale PNG, black on white, quiet zone of 4 modules. `pixels` is clamped to
// [kMinPngPixels, kMaxPngPixels]; each module is then the largest whole number of pixels
// (at least 1) for which the image is not wider than `pixels`, so a large code asked for at
// a small size comes out larger than asked (177 + 8 modules at 1 px each for version 40).
// Returns the PNG bytes.
[[nodiscard]] std::string to_png(const Matrix& m, int pixels);

}  // namespace cardsmith::qr
