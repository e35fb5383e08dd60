#pragma once
// One starter template's pass images (docs/apple-wallet.md §1.5): how to draw its icon,
// logo and strip on a canvas of the right size in points. The same functions run at every
// scale. Plain table of function pointers; thread-safe.
#include <optional>
#include <string_view>

#include "canvas.hpp"
#include "color.hpp"

namespace cardsmith::imagegen {

// Corner radius of the emblems' rounded-square badge, in the 29 x 29 emblem box.
inline constexpr double kBadgeRadius = 6.5;

struct Artwork {
    std::string_view name;               // template folder name, e.g. "coffee"
    void (*draw_icon)(Canvas& canvas);   // 29 x 29 points
    void (*draw_logo)(Canvas& canvas);   // 160 x 50 points, transparent background
    void (*draw_strip)(Canvas& canvas);  // 375 x 144 points
};

// The artwork for template `name`, if there is one.
[[nodiscard]] std::optional<Artwork> find_artwork(std::string_view name);

// Draws `emblem` (designed in a 29 x 29 box, like the icon) into `where` on `canvas`.
void draw_emblem(Canvas& canvas, Box where, void (*emblem)(Canvas&));

// The shared logo layout: the emblem at the left, then two abstract "wordmark" bars and
// three small accents (no text: logoText carries the name).
struct LogoStyle {
    void (*emblem)(Canvas&);
    Color primary_bar;
    Color secondary_bar;
    // Draws accent `index` (0..2) centred on `center`, about `size` points across.
    void (*accent)(Canvas& canvas, Vec2 center, double size, unsigned index);
};
void draw_logo_layout(Canvas& canvas, const LogoStyle& style);

// A deterministic pseudo-random number in [0, 1) for `index` and `salt`: artwork must be
// identical on every run and platform, so no std:: distributions.
[[nodiscard]] double hash01(unsigned index, unsigned salt);

}  // namespace cardsmith::imagegen
