#include "qr/qr.hpp"

#include <qrencode.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>

#include "common/check.hpp"
#include "qr/png.hpp"

namespace cardsmith::qr {
namespace {

struct QrCodeDeleter {
    void operator()(QRcode* code) const { QRcode_free(code); }
};
using QrCodePtr = std::unique_ptr<QRcode, QrCodeDeleter>;

// Versions 1..40 are 21..177 modules wide in steps of 4.
constexpr int kMinSize = 21;
constexpr int kMaxSize = 177;

std::invalid_argument too_long(std::size_t bytes) {
    return std::invalid_argument("qr: text too long for a QR code (" + std::to_string(bytes) +
                                 " bytes; at most " + std::to_string(kMaxBytes) +
                                 " in 8-bit mode at error correction level M)");
}

// A Matrix that encode() could have made; anything else is a caller's bug.
void check_matrix(const Matrix& m) {
    CARDSMITH_CHECK(m.size >= kMinSize && m.size <= kMaxSize && (m.size - kMinSize) % 4 == 0);
    CARDSMITH_CHECK(m.dark.size() ==
                    static_cast<std::size_t>(m.size) * static_cast<std::size_t>(m.size));
}

bool is_hex_colour(std::string_view s) {
    return s.size() == 7 && s[0] == '#' && std::all_of(s.begin() + 1, s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
           });
}

// SVG path data: one closed rectangle per horizontal run of dark modules.
std::string dark_runs_path(const Matrix& m) {
    std::string d;
    for (int y = 0; y < m.size; ++y) {
        for (int x = 0; x < m.size;) {
            if (!m.at(x, y)) {
                ++x;
                continue;
            }
            const int start = x;
            while (x < m.size && m.at(x, y)) {
                ++x;
            }
            const std::string run = std::to_string(x - start);
            d += 'M' + std::to_string(start + kQuietZone) + ',' + std::to_string(y + kQuietZone) +
                 'h' + run + "v1h-" + run + 'z';
        }
    }
    return d;
}

}  // namespace

bool Matrix::at(int x, int y) const {
    CARDSMITH_CHECK(x >= 0 && x < size && y >= 0 && y < size);
    const auto index =
        static_cast<std::size_t>(y) * static_cast<std::size_t>(size) + static_cast<std::size_t>(x);
    CARDSMITH_CHECK(index < dark.size());
    return dark[index] != 0;
}

Matrix encode(std::string_view text) {
    if (text.empty()) {
        throw std::invalid_argument("qr: empty text");
    }
    if (text.size() > kMaxBytes) {
        throw too_long(text.size());
    }
    // QRcode_encodeData, unlike QRcode_encodeString8bit, takes a length: 8-bit mode for any
    // bytes, NUL included. Version 0 lets libqrencode pick the smallest version that fits.
    errno = 0;
    const QrCodePtr code{QRcode_encodeData(static_cast<int>(text.size()),
                                           reinterpret_cast<const unsigned char*>(text.data()), 0,
                                           QR_ECLEVEL_M)};
    if (!code) {
        const int error = errno;
        if (error == ERANGE) {
            throw too_long(text.size());
        }
        if (error == ENOMEM) {
            throw std::bad_alloc();
        }
        throw std::runtime_error(std::string("qr: libqrencode failed: ") + std::strerror(error));
    }
    Matrix m;
    m.size = code->width;
    m.dark.resize(static_cast<std::size_t>(m.size) * static_cast<std::size_t>(m.size));
    check_matrix(m);
    // Bit 0 of each libqrencode module byte is the colour; the other bits say what the
    // module is part of (finder, timing, data...).
    for (std::size_t i = 0; i < m.dark.size(); ++i) {
        m.dark[i] = code->data[i] & 1u;
    }
    return m;
}

std::string to_svg(const Matrix& m, int pixels, std::string_view dark) {
    check_matrix(m);
    if (pixels < 0) {
        throw std::invalid_argument("qr: negative SVG size " + std::to_string(pixels));
    }
    if (!is_hex_colour(dark)) {
        throw std::invalid_argument("qr: dark colour must be #RRGGBB, got \"" + std::string(dark) +
                                    '"');
    }
    const std::string side = std::to_string(m.size + 2 * kQuietZone);
    std::string svg =
        R"(<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 )" + side + ' ' + side + '"';
    if (pixels > 0) {
        const std::string px = std::to_string(pixels);
        svg += R"( width=")" + px + R"(" height=")" + px + '"';
    }
    svg += R"( shape-rendering="crispEdges"><rect width=")" + side + R"(" height=")" + side +
           R"(" fill="#ffffff"/><path fill=")" + std::string(dark) + R"(" d=")" +
           dark_runs_path(m) + R"("/></svg>)";
    return svg;
}

std::string to_png(const Matrix& m, int pixels) {
    check_matrix(m);
    const auto modules = static_cast<std::size_t>(m.size + 2 * kQuietZone);
    const auto wanted = static_cast<std::size_t>(std::clamp(pixels, kMinPngPixels, kMaxPngPixels));
    const std::size_t scale = std::max<std::size_t>(1, wanted / modules);
    const std::size_t side = modules * scale;

    BitImage image;
    image.width = static_cast<std::uint32_t>(side);
    image.height = static_cast<std::uint32_t>(side);
    const std::size_t stride = image.stride();
    // All white (set bits); dark modules clear theirs.
    image.rows.assign(side * stride, 0xff);
    const auto quiet = static_cast<std::size_t>(kQuietZone);
    for (int y = 0; y < m.size; ++y) {
        std::uint8_t* first_row =
            image.rows.data() + (static_cast<std::size_t>(y) + quiet) * scale * stride;
        for (int x = 0; x < m.size; ++x) {
            if (!m.at(x, y)) {
                continue;
            }
            const std::size_t left = (static_cast<std::size_t>(x) + quiet) * scale;
            for (std::size_t px = left; px < left + scale; ++px) {
                first_row[px / 8] &= static_cast<std::uint8_t>(~(0x80u >> (px % 8)));
            }
        }
        // The other pixel rows of this module row are copies of the first.
        for (std::size_t r = 1; r < scale; ++r) {
            std::copy_n(first_row, stride, first_row + r * stride);
        }
    }
    return encode_png(image);
}

}  // namespace cardsmith::qr
