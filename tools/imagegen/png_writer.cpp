#include "png_writer.hpp"

#include <zlib.h>

#include <array>
#include <cstdlib>
#include <span>
#include <string_view>

namespace cardsmith::imagegen {
namespace {

constexpr std::size_t kBytesPerPixel = 4;
constexpr std::array<std::uint8_t, 8> kSignature{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
    out.push_back(static_cast<std::uint8_t>(v >> 24U));
    out.push_back(static_cast<std::uint8_t>(v >> 16U));
    out.push_back(static_cast<std::uint8_t>(v >> 8U));
    out.push_back(static_cast<std::uint8_t>(v));
}

// Appends length, type, data and the CRC of type + data.
void put_chunk(std::vector<std::uint8_t>& out, std::string_view type,
               std::span<const std::uint8_t> data) {
    put_u32(out, static_cast<std::uint32_t>(data.size()));
    const std::size_t type_at = out.size();
    out.insert(out.end(), type.begin(), type.end());
    out.insert(out.end(), data.begin(), data.end());
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, &out[type_at], static_cast<uInt>(out.size() - type_at));
    put_u32(out, static_cast<std::uint32_t>(crc));
}

std::uint8_t paeth(int a, int b, int c) {
    const int p = a + b - c;
    const int pa = std::abs(p - a);
    const int pb = std::abs(p - b);
    const int pc = std::abs(p - c);
    if (pa <= pb && pa <= pc) {
        return static_cast<std::uint8_t>(a);
    }
    return static_cast<std::uint8_t>(pb <= pc ? b : c);
}

// Filters one row with filter type `type` (0 none, 1 sub, 2 up, 3 average, 4 Paeth) into
// `out`; `prev` is the previous raw row (all zero for the first row).
void filter_row(int type, std::span<const std::uint8_t> row, std::span<const std::uint8_t> prev,
                std::vector<std::uint8_t>& out) {
    out.resize(row.size());
    for (std::size_t i = 0; i < row.size(); ++i) {
        const int a = i >= kBytesPerPixel ? row[i - kBytesPerPixel] : 0;
        const int b = prev[i];
        const int c = i >= kBytesPerPixel ? prev[i - kBytesPerPixel] : 0;
        int predictor = 0;
        switch (type) {
            case 1:
                predictor = a;
                break;
            case 2:
                predictor = b;
                break;
            case 3:
                predictor = (a + b) / 2;
                break;
            case 4:
                predictor = paeth(a, b, c);
                break;
            default:
                break;
        }
        out[i] = static_cast<std::uint8_t>(row[i] - predictor);
    }
}

// The heuristic recommended by the PNG spec (§12.8): treat filtered bytes as signed and
// pick the filter with the smallest sum of magnitudes.
std::uint64_t cost(const std::vector<std::uint8_t>& filtered) {
    std::uint64_t sum = 0;
    for (const std::uint8_t v : filtered) {
        sum += v < 128 ? v : 256U - v;
    }
    return sum;
}

std::vector<std::uint8_t> filtered_scanlines(const Image& image) {
    const std::size_t stride = std::size_t{image.width} * kBytesPerPixel;
    std::vector<std::uint8_t> out;
    out.reserve((stride + 1) * image.height);
    const std::vector<std::uint8_t> zero_row(stride, 0);
    std::vector<std::uint8_t> candidate;
    std::vector<std::uint8_t> best;
    for (std::size_t y = 0; y < image.height; ++y) {
        const std::span<const std::uint8_t> row(&image.rgba[y * stride], stride);
        const std::span<const std::uint8_t> prev =
            y == 0 ? std::span<const std::uint8_t>(zero_row)
                   : std::span<const std::uint8_t>(&image.rgba[(y - 1) * stride], stride);
        int best_type = 0;
        std::uint64_t best_cost = 0;
        for (int type = 0; type <= 4; ++type) {
            filter_row(type, row, prev, candidate);
            const std::uint64_t c = cost(candidate);
            if (type == 0 || c < best_cost) {
                best_type = type;
                best_cost = c;
                best.swap(candidate);
            }
        }
        out.push_back(static_cast<std::uint8_t>(best_type));
        out.insert(out.end(), best.begin(), best.end());
    }
    return out;
}

}  // namespace

std::optional<std::vector<std::uint8_t>> encode_png(const Image& image) {
    const std::vector<std::uint8_t> raw = filtered_scanlines(image);
    uLongf compressed_size = compressBound(static_cast<uLong>(raw.size()));
    std::vector<std::uint8_t> compressed(compressed_size);
    if (compress2(compressed.data(), &compressed_size, raw.data(), static_cast<uLong>(raw.size()),
                  Z_BEST_COMPRESSION) != Z_OK) {
        return std::nullopt;
    }
    compressed.resize(compressed_size);

    std::vector<std::uint8_t> png(kSignature.begin(), kSignature.end());
    std::vector<std::uint8_t> header;
    put_u32(header, image.width);
    put_u32(header, image.height);
    // Bit depth 8, colour type 6 (RGBA), compression 0, filter method 0, no interlace.
    header.insert(header.end(), {8, 6, 0, 0, 0});
    put_chunk(png, "IHDR", header);
    put_chunk(png, "IDAT", compressed);
    put_chunk(png, "IEND", {});
    return png;
}

}  // namespace cardsmith::imagegen
