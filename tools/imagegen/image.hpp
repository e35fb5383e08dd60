#pragma once
// A finished raster: 8-bit straight RGBA, rows top to bottom, no padding. Value type.
#include <cstdint>
#include <vector>

namespace cardsmith::imagegen {

struct Image {
    std::uint32_t width = 0;
    std::uint32_t height = 0;
    std::vector<std::uint8_t> rgba;  // width * height * 4 bytes
};

}  // namespace cardsmith::imagegen
