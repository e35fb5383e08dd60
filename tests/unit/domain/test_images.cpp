#include <boost/test/unit_test.hpp>
#include <string>

#include "domain/images.hpp"

using namespace cardsmith::domain;

namespace {
// A PNG header with the given IHDR size (enough for png_size; the rest is not parsed).
std::string fake_png(std::uint32_t w, std::uint32_t h) {
    std::string s("\x89PNG\r\n\x1a\n", 8);
    s += std::string("\0\0\0\x0d", 4) + "IHDR";
    for (std::uint32_t v : {w, h}) {
        for (int shift = 24; shift >= 0; shift -= 8) {
            s += static_cast<char>((v >> shift) & 0xFF);
        }
    }
    s += std::string("\x08\x06\0\0\0", 5) + std::string(4, '\0');
    return s;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(images)

BOOST_AUTO_TEST_CASE(png_size_reads_ihdr) {
    auto s = png_size(fake_png(58, 58));
    BOOST_REQUIRE(s.has_value());
    BOOST_TEST(s->width == 58u);
    BOOST_TEST(!png_size("GIF89a..............................."));
    BOOST_TEST(!png_size(""));
}

BOOST_AUTO_TEST_CASE(sizes_per_name_and_scale) {
    BOOST_TEST(check_image("icon", fake_png(29, 29)).empty());
    BOOST_TEST(check_image("icon@3x", fake_png(87, 87)).empty());
    BOOST_TEST(!check_image("icon@2x", fake_png(29, 29)).empty());
    BOOST_TEST(check_image("logo@2x", fake_png(300, 100)).empty());
    BOOST_TEST(!check_image("logo", fake_png(161, 50)).empty());
    BOOST_TEST(check_image("strip@3x", fake_png(1125, 432)).empty());
    BOOST_TEST(!check_image("strip", fake_png(375, 200)).empty());
    BOOST_TEST(!check_image("background", fake_png(180, 220)).empty());  // not a store-card image
    BOOST_TEST(!check_image("../icon", fake_png(29, 29)).empty());
    BOOST_TEST(!check_image("icon", "not a png").empty());
}

BOOST_AUTO_TEST_SUITE_END()
