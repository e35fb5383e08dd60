#pragma once
// A straight (not premultiplied) sRGB colour with alpha, each channel in [0, 1].
// Value type; thread-safe.
#include <algorithm>
#include <cstdint>

namespace cardsmith::imagegen {

struct Color {
    double r = 0.0;
    double g = 0.0;
    double b = 0.0;
    double a = 1.0;

    // From 0xRRGGBB, as written in template.json and design notes.
    static constexpr Color hex(std::uint32_t rgb, double alpha = 1.0) {
        return {static_cast<double>((rgb >> 16U) & 0xFFU) / 255.0,
                static_cast<double>((rgb >> 8U) & 0xFFU) / 255.0,
                static_cast<double>(rgb & 0xFFU) / 255.0, alpha};
    }

    [[nodiscard]] constexpr Color with_alpha(double alpha) const { return {r, g, b, alpha}; }
};

// Linear interpolation from `from` (t = 0) to `to` (t = 1), premultiplied so that a fade
// to transparent keeps its hue.
inline Color mix(const Color& from, const Color& to, double t) {
    t = std::clamp(t, 0.0, 1.0);
    const double a = from.a + (to.a - from.a) * t;
    if (a <= 0.0) {
        return {0.0, 0.0, 0.0, 0.0};
    }
    auto channel = [&](double c0, double c1) {
        return (c0 * from.a + (c1 * to.a - c0 * from.a) * t) / a;
    };
    return {channel(from.r, to.r), channel(from.g, to.g), channel(from.b, to.b), a};
}

}  // namespace cardsmith::imagegen
