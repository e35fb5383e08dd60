#include "qr/png.hpp"

#include <zlib.h>

#include <new>
#include <string_view>

#include "common/check.hpp"

namespace cardsmith::qr {
namespace {

constexpr std::string_view kSignature{"\x89PNG\r\n\x1a\n", 8};
// The largest chunk length PNG allows (section 5.3).
constexpr std::size_t kMaxChunkLength = 0x7fffffff;

void put_u32(std::string& out, std::uint32_t v) {
    out.push_back(static_cast<char>((v >> 24) & 0xff));
    out.push_back(static_cast<char>((v >> 16) & 0xff));
    out.push_back(static_cast<char>((v >> 8) & 0xff));
    out.push_back(static_cast<char>(v & 0xff));
}

// length, type, data, CRC-32 of type and data (section 5.3).
void put_chunk(std::string& out, std::string_view type, std::string_view data) {
    CARDSMITH_CHECK(type.size() == 4 && data.size() <= kMaxChunkLength);
    put_u32(out, static_cast<std::uint32_t>(data.size()));
    const std::size_t start = out.size();
    out.append(type);
    out.append(data);
    const auto* bytes = reinterpret_cast<const Bytef*>(out.data() + start);
    put_u32(out, static_cast<std::uint32_t>(crc32_z(0, bytes, out.size() - start)));
}

std::string ihdr(const BitImage& image) {
    std::string data;
    put_u32(data, image.width);
    put_u32(data, image.height);
    data.push_back(1);  // bit depth
    data.push_back(0);  // colour type: grayscale
    data.push_back(0);  // compression method: deflate
    data.push_back(0);  // filter method: adaptive, every row uses filter type 0 (None)
    data.push_back(0);  // interlace method: none
    return data;
}

// The zlib stream of the scanlines, each preceded by its filter-type byte.
std::string idat(const BitImage& image) {
    const std::size_t stride = image.stride();
    std::string raw;
    raw.reserve(std::size_t{image.height} * (stride + 1));
    for (std::size_t y = 0; y < image.height; ++y) {
        raw.push_back(0);
        raw.append(reinterpret_cast<const char*>(image.rows.data() + y * stride), stride);
    }
    uLongf size = compressBound(raw.size());
    std::string out(size, '\0');
    const int rc = compress2(reinterpret_cast<Bytef*>(out.data()), &size,
                             reinterpret_cast<const Bytef*>(raw.data()), raw.size(), 9);
    if (rc == Z_MEM_ERROR) {
        throw std::bad_alloc();
    }
    // Z_BUF_ERROR cannot happen with a compressBound buffer, Z_STREAM_ERROR not at level 9.
    CARDSMITH_CHECK(rc == Z_OK);
    out.resize(size);
    return out;
}

}  // namespace

std::string encode_png(const BitImage& image) {
    CARDSMITH_CHECK(image.width > 0 && image.height > 0);
    CARDSMITH_CHECK(image.rows.size() == std::size_t{image.height} * image.stride());
    const std::string compressed = idat(image);
    std::string out;
    out.reserve(kSignature.size() + compressed.size() + 64);
    out.append(kSignature);
    put_chunk(out, "IHDR", ihdr(image));
    put_chunk(out, "IDAT", compressed);
    put_chunk(out, "IEND", {});
    return out;
}

}  // namespace cardsmith::qr
