#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "qr/png.hpp"
#include "qr/qr.hpp"

using namespace cardsmith;
namespace fs = std::filesystem;

namespace {

const std::string kQueryUrl = "https://cards.example.com/e/bakery-bonjour?src=poster&ref=AB12";

// ~300 characters: needs version 13, 69 modules.
std::string long_url() {
    std::string url = "https://cards.example.com/enroll/bakery-bonjour-rue-de-la-paix/";
    for (int i = 0; url.size() < 280; ++i) {
        url += "seg" + std::to_string(i * 7919 % 1000) + "-";
    }
    url += "?src=poster&ref=AB12&t=xyz";
    return url;
}

std::vector<std::string> sample_urls() {
    return {"https://example.com", kQueryUrl, "https://c.example.org/e/42?utm_source=qr#join",
            long_url()};
}

bool all_dark(const qr::Matrix& m, int x0, int y0, int w, int h) {
    for (int y = y0; y < y0 + h; ++y) {
        for (int x = x0; x < x0 + w; ++x) {
            if (!m.at(x, y)) {
                return false;
            }
        }
    }
    return true;
}

// A finder pattern (ISO/IEC 18004) with its top left corner at (x0, y0): a dark
// 7x7 ring, a light 5x5 ring, a dark 3x3 centre.
bool is_finder(const qr::Matrix& m, int x0, int y0) {
    for (int y = 0; y < 7; ++y) {
        for (int x = 0; x < 7; ++x) {
            const bool ring = x == 0 || y == 0 || x == 6 || y == 6;
            const bool centre = x >= 2 && x <= 4 && y >= 2 && y <= 4;
            if (m.at(x0 + x, y0 + y) != (ring || centre)) {
                return false;
            }
        }
    }
    return true;
}

std::uint32_t be32(const std::string& s, std::size_t at) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(s[at])) << 24 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 1])) << 16 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 2])) << 8 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 3]));
}

// A PNG read back by hand: chunks with CRCs checked, the IDAT inflated, 1 = white.
struct DecodedPng {
    std::uint32_t width = 0;
    std::uint32_t height = 0;
    std::vector<std::vector<bool>> white;  // [y][x]
};

DecodedPng decode_png(const std::string& png) {
    BOOST_REQUIRE(png.compare(0, 8, std::string("\x89PNG\r\n\x1a\n", 8)) == 0);
    DecodedPng out;
    std::string idat;
    std::vector<std::string> types;
    for (std::size_t at = 8; at < png.size();) {
        BOOST_REQUIRE(at + 12 <= png.size());
        const std::size_t length = be32(png, at);
        BOOST_REQUIRE(at + 12 + length <= png.size());
        const std::string type = png.substr(at + 4, 4);
        const std::string data = png.substr(at + 8, length);
        const auto* crc_bytes = reinterpret_cast<const Bytef*>(png.data() + at + 4);
        BOOST_TEST(be32(png, at + 8 + length) == crc32_z(0, crc_bytes, length + 4), type);
        types.push_back(type);
        if (type == "IHDR") {
            BOOST_REQUIRE(length == 13u);
            out.width = be32(data, 0);
            out.height = be32(data, 4);
            BOOST_TEST(data.substr(8) == std::string("\x01\x00\x00\x00\x00", 5));
        } else if (type == "IDAT") {
            idat += data;
        }
        at += 12 + length;
    }
    BOOST_TEST((types == std::vector<std::string>{"IHDR", "IDAT", "IEND"}));
    const std::size_t stride = (out.width + 7) / 8;
    std::string raw(out.height * (stride + 1), '\0');
    uLongf raw_size = raw.size();
    BOOST_REQUIRE(uncompress(reinterpret_cast<Bytef*>(raw.data()), &raw_size,
                             reinterpret_cast<const Bytef*>(idat.data()), idat.size()) == Z_OK);
    BOOST_REQUIRE(raw_size == raw.size());
    for (std::size_t y = 0; y < out.height; ++y) {
        const std::size_t row = y * (stride + 1);
        BOOST_REQUIRE(raw[row] == 0);  // filter type None
        std::vector<bool> line(out.width);
        for (std::size_t x = 0; x < out.width; ++x) {
            const auto byte = static_cast<unsigned char>(raw[row + 1 + x / 8]);
            line[x] = ((byte >> (7 - x % 8)) & 1u) != 0;
        }
        out.white.push_back(std::move(line));
    }
    return out;
}

// The PNG with every pixel doubled in both directions (nearest neighbour).
std::string enlarged_x2(const std::string& png) {
    const auto small = decode_png(png);
    qr::BitImage big;
    big.width = small.width * 2;
    big.height = small.height * 2;
    big.rows.assign(big.height * big.stride(), 0);
    for (std::size_t y = 0; y < big.height; ++y) {
        for (std::size_t x = 0; x < big.width; ++x) {
            if (small.white[y / 2][x / 2]) {
                big.rows[y * big.stride() + x / 8] |= static_cast<std::uint8_t>(0x80u >> (x % 8));
            }
        }
    }
    return qr::encode_png(big);
}

// Paints the SVG path's "M x,y h n v1 h-n z" runs onto a grid of `side` modules.
std::vector<std::vector<bool>> paint_svg_path(const std::string& d, int side) {
    std::vector<std::vector<bool>> dark(static_cast<std::size_t>(side),
                                        std::vector<bool>(static_cast<std::size_t>(side)));
    std::istringstream in(d);
    char m = 0, comma = 0, h = 0, v = 0, h2 = 0, z = 0;
    int x = 0, y = 0, n = 0, one = 0, back = 0;
    while (in >> m >> x >> comma >> y >> h >> n >> v >> one >> h2 >> back >> z) {
        BOOST_REQUIRE(m == 'M' && comma == ',' && h == 'h' && v == 'v' && one == 1 && h2 == 'h' &&
                      back == -n && z == 'z');
        BOOST_REQUIRE(n > 0 && x >= 0 && x + n <= side && y >= 0 && y < side);
        for (int i = x; i < x + n; ++i) {
            BOOST_REQUIRE(!dark[static_cast<std::size_t>(y)][static_cast<std::size_t>(i)]);
            dark[static_cast<std::size_t>(y)][static_cast<std::size_t>(i)] = true;
        }
    }
    BOOST_REQUIRE(in.eof());
    return dark;
}

std::string attribute(const std::string& tag, const std::string& name) {
    const std::string key = ' ' + name + "=\"";
    const auto at = tag.find(key);
    if (at == std::string::npos) {
        return {};
    }
    const auto start = at + key.size();
    return tag.substr(start, tag.find('"', start) - start);
}

// Decodes a PNG file with zbar's command-line reader, an implementation independent of ours.
// zbarimg must be installed (scripts/deps.sh installs zbar-tools): a missing reader fails.
std::string zbarimg(const fs::path& file) {
    // --nodbus: zbar would otherwise try the system bus and log connection errors.
    const std::string command = "zbarimg --nodbus --raw -q '" + file.string() + "'";
    FILE* pipe = ::popen(command.c_str(), "r");
    BOOST_REQUIRE_MESSAGE(pipe != nullptr, "popen failed for: " << command);
    std::string out;
    char buffer[4096];
    for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) {
        out.append(buffer, n);
    }
    const int status = ::pclose(pipe);
    BOOST_REQUIRE_MESSAGE(WIFEXITED(status) && WEXITSTATUS(status) != 127,
                          "zbarimg not found: run scripts/deps.sh (installs zbar-tools)");
    BOOST_REQUIRE_MESSAGE(WEXITSTATUS(status) == 0,
                          "zbarimg exited with " << WEXITSTATUS(status) << " for " << file);
    if (!out.empty() && out.back() == '\n') {
        out.pop_back();
    }
    return out;
}

// A directory of its own per test process, removed afterwards.
struct TempDir {
    fs::path path = fs::temp_directory_path() / ("cardsmith-test-qr-" + std::to_string(::getpid()));
    TempDir() { fs::create_directories(path); }
    ~TempDir() {
        std::error_code ignored;
        fs::remove_all(path, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(qr_encode)

BOOST_AUTO_TEST_CASE(picks_the_smallest_version_at_level_m) {
    // 8-bit capacity at M: version 1 holds 14 bytes, version 2 holds 26, version 13 holds 331.
    BOOST_TEST(qr::encode(std::string(14, 'a')).size == 21);
    BOOST_TEST(qr::encode(std::string(15, 'a')).size == 25);
    BOOST_TEST(qr::encode("https://example.com").size == 25);
    BOOST_TEST(qr::encode(std::string(26, 'a')).size == 25);
    BOOST_TEST(qr::encode(std::string(27, 'a')).size == 29);
    BOOST_TEST(qr::encode(long_url()).size == 69);
}

BOOST_AUTO_TEST_CASE(has_finder_and_timing_patterns) {
    for (const auto& url : sample_urls()) {
        const auto m = qr::encode(url);
        BOOST_TEST_CONTEXT(url) {
            BOOST_TEST(m.dark.size() == static_cast<std::size_t>(m.size * m.size));
            BOOST_TEST(is_finder(m, 0, 0));
            BOOST_TEST(is_finder(m, m.size - 7, 0));
            BOOST_TEST(is_finder(m, 0, m.size - 7));
            // No finder in the bottom right corner.
            BOOST_TEST(!all_dark(m, m.size - 7, m.size - 7, 7, 1));
            // Timing patterns alternate dark/light along row 6 and column 6.
            for (int i = 8; i < m.size - 8; ++i) {
                BOOST_TEST(m.at(i, 6) == (i % 2 == 0));
                BOOST_TEST(m.at(6, i) == (i % 2 == 0));
            }
            // The always-dark module beside the bottom left finder, at (8, 4 * version + 9).
            BOOST_TEST(m.at(8, m.size - 8));
        }
    }
}

BOOST_AUTO_TEST_CASE(accepts_up_to_2331_bytes_and_rejects_more) {
    BOOST_TEST(qr::encode(std::string(qr::kMaxBytes, 'a')).size == 177);
    BOOST_CHECK_EXCEPTION(qr::encode(std::string(qr::kMaxBytes + 1, 'a')), std::invalid_argument,
                          [](const std::invalid_argument& e) {
                              return std::string(e.what()).find("too long for a QR code") !=
                                     std::string::npos;
                          });
    BOOST_CHECK_THROW(qr::encode(std::string(10000, 'a')), std::invalid_argument);
    BOOST_CHECK_THROW(qr::encode(""), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(encodes_arbitrary_bytes) {
    // 8-bit mode takes any bytes, NUL included, and the same input gives the same symbol.
    const std::string bytes("a\0b\xff", 4);
    BOOST_TEST(qr::encode(bytes).size == 21);
    BOOST_TEST((qr::encode(bytes).dark == qr::encode(bytes).dark));
    BOOST_TEST((qr::encode(bytes).dark != qr::encode("a").dark));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(qr_svg)

BOOST_AUTO_TEST_CASE(is_one_path_on_a_white_background_with_a_quiet_zone) {
    const auto m = qr::encode(kQueryUrl);
    const auto svg = qr::to_svg(m);
    const int side = m.size + 8;
    const std::string open = svg.substr(0, svg.find('>') + 1);
    BOOST_TEST(svg.rfind("<svg ", 0) == 0u);
    BOOST_TEST(svg.size() > 13u);
    BOOST_TEST(svg.substr(svg.size() - 6) == "</svg>");
    BOOST_TEST(attribute(open, "xmlns") == "http://www.w3.org/2000/svg");
    BOOST_TEST(attribute(open, "viewBox") ==
               "0 0 " + std::to_string(side) + ' ' + std::to_string(side));
    BOOST_TEST(attribute(open, "shape-rendering") == "crispEdges");
    BOOST_TEST(open.find(" width=") == std::string::npos);
    BOOST_TEST(open.find(" height=") == std::string::npos);
    BOOST_TEST(svg.find(R"(<rect width=")" + std::to_string(side) + R"(" height=")" +
                        std::to_string(side) + R"(" fill="#ffffff"/>)") != std::string::npos);

    // Exactly one path, whose runs paint exactly the dark modules inside the quiet zone.
    const auto path_at = svg.find("<path ");
    BOOST_REQUIRE(path_at != std::string::npos);
    BOOST_TEST(svg.find("<path ", path_at + 1) == std::string::npos);
    const std::string path = svg.substr(path_at, svg.find("/>", path_at) - path_at);
    BOOST_TEST(attribute(path, "fill") == "#000000");
    const auto painted = paint_svg_path(attribute(path, "d"), side);
    for (int y = 0; y < side; ++y) {
        for (int x = 0; x < side; ++x) {
            const bool inside = x >= 4 && y >= 4 && x < side - 4 && y < side - 4;
            const bool want = inside && m.at(x - 4, y - 4);
            BOOST_TEST(painted[static_cast<std::size_t>(y)][static_cast<std::size_t>(x)] == want,
                       "module " << x << ',' << y);
        }
    }
    // Runs are merged: the top row of the top left finder is one run of 7.
    BOOST_TEST(attribute(path, "d").rfind("M4,4h7v1h-7z", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(sets_size_and_colour) {
    const auto m = qr::encode("https://example.com");
    const auto svg = qr::to_svg(m, 256, "#1A2b3C");
    const std::string open = svg.substr(0, svg.find('>') + 1);
    BOOST_TEST(attribute(open, "width") == "256");
    BOOST_TEST(attribute(open, "height") == "256");
    BOOST_TEST(attribute(open, "viewBox") == "0 0 33 33");
    BOOST_TEST(svg.find(R"(<path fill="#1A2b3C" d=")") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(rejects_bad_colours_and_sizes) {
    const auto m = qr::encode("https://example.com");
    for (const char* colour :
         {"", "#", "#12345", "#1234567", "red", "#GG0000", "000000", "#00000\"", "#000 00"}) {
        BOOST_CHECK_THROW(static_cast<void>(qr::to_svg(m, 0, colour)), std::invalid_argument);
    }
    BOOST_CHECK_THROW(static_cast<void>(qr::to_svg(m, -1)), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(qr_png)

BOOST_AUTO_TEST_CASE(scales_modules_to_the_largest_fit) {
    const auto m = qr::encode("https://example.com");  // 25 + 8 = 33 modules
    struct Case {
        int pixels;
        std::uint32_t width;
    };
    for (const auto [pixels, width] :
         {Case{64, 33}, Case{65, 33}, Case{66, 66}, Case{256, 231}, Case{1000, 990}, Case{0, 33},
          Case{-5, 33}, Case{4096, 4092}, Case{1000000, 4092}}) {
        const auto png = qr::to_png(m, pixels);
        BOOST_TEST_CONTEXT("pixels " << pixels) {
            BOOST_REQUIRE(png.size() > 33u);
            BOOST_TEST(png.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
            BOOST_TEST(png.substr(12, 4) == "IHDR");
            BOOST_TEST(be32(png, 16) == width);
            BOOST_TEST(be32(png, 20) == width);
        }
    }
    // A big code asked for small keeps 1 px per module.
    BOOST_TEST(be32(qr::to_png(qr::encode(std::string(qr::kMaxBytes, 'a')), 64), 16) == 185u);
}

BOOST_AUTO_TEST_CASE(pixels_match_the_modules) {
    for (const int pixels : {64, 256, 1000}) {
        const auto m = qr::encode(kQueryUrl);
        const auto image = decode_png(qr::to_png(m, pixels));
        const auto modules = static_cast<std::uint32_t>(m.size + 8);
        const std::uint32_t scale = std::max(1u, static_cast<std::uint32_t>(pixels) / modules);
        BOOST_REQUIRE(image.width == modules * scale);
        BOOST_REQUIRE(image.height == modules * scale);
        std::size_t wrong = 0;
        for (std::uint32_t y = 0; y < image.height; ++y) {
            for (std::uint32_t x = 0; x < image.width; ++x) {
                const auto mx = static_cast<int>(x / scale) - 4;
                const auto my = static_cast<int>(y / scale) - 4;
                const bool inside = mx >= 0 && my >= 0 && mx < m.size && my < m.size;
                const bool dark = inside && m.at(mx, my);
                wrong += image.white[y][x] == dark ? 1u : 0u;
            }
        }
        BOOST_TEST(wrong == 0u, "pixels " << pixels);
    }
}

BOOST_AUTO_TEST_CASE(zbarimg_reads_back_every_url_at_every_size) {
    const TempDir dir;
    for (const auto& url : sample_urls()) {
        const auto m = qr::encode(url);
        for (const int pixels : {64, 256, 1000}) {
            BOOST_TEST_CONTEXT("pixels " << pixels << ", url " << url) {
                std::string png = qr::to_png(m, pixels);
                if (decode_png(png).width == static_cast<std::uint32_t>(m.size + 8)) {
                    // 1 px per module (any URL at 64 px): zbar 0.23's scanner needs 2 px per
                    // module (it read 12 of 58 such codes, and 58 of 58 at 2 px), so it reads
                    // the image enlarged x2 as a page would show it; pixels_match_the_modules
                    // checks this image pixel by pixel.
                    png = enlarged_x2(png);
                }
                const fs::path file = dir.path / "code.png";
                {
                    std::ofstream out(file, std::ios::binary);
                    out << png;
                    BOOST_REQUIRE(out.good());
                }
                BOOST_TEST(zbarimg(file) == url);
            }
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
