#include "beauty_artwork.hpp"

#include <cmath>

namespace cardsmith::imagegen {
namespace {

constexpr Color kDeepPlum = Color::hex(0x2E0F2A);
constexpr Color kPlum = Color::hex(0x4A1942);
constexpr Color kBerry = Color::hex(0x9B3D78);
constexpr Color kRose = Color::hex(0xE47FAE);
constexpr Color kPink = Color::hex(0xF4A6C6);
constexpr Color kBlush = Color::hex(0xFAD2E1);
constexpr Color kPetalWhite = Color::hex(0xFFF3F8);
constexpr Color kGold = Color::hex(0xF3C98B);

// A cherry-blossom petal pointing along +x from the origin, `size` long, with the notch
// at its tip.
Shape petal(double size) {
    const double rx = size / 2.0;
    return Shape::ellipse({rx, 0.0}, {rx, rx * 0.72})
        .subtracted(Shape::circle({size + 0.08 * size, 0.0}, 0.16 * size));
}

// A five-petal blossom of radius `radius` around `center`, first petal at `rotation`.
void draw_blossom(Canvas& canvas, Vec2 center, double radius, double rotation) {
    const Paint petal_paint =
        Paint::radial(center, radius, {{0.0, kPetalWhite}, {0.4, kBlush}, {1.0, kRose}});
    for (int k = 0; k < 5; ++k) {
        const double angle = rotation + degrees(72.0 * k);
        const Shape p = petal(radius).translated({radius * 0.06, 0.0}).rotated({}, angle);
        canvas.fill(p.translated(center), petal_paint);
        canvas.fill(p.translated(center).outlined(radius * 0.04),
                    Paint::solid(kBerry.with_alpha(0.35)));
    }
    // Stamens between the petals, then the centre.
    for (int k = 0; k < 5; ++k) {
        const Vec2 tip = center + rotate({radius * 0.36, 0.0}, rotation + degrees(36.0 + 72.0 * k));
        canvas.fill(Shape::stroke({center, tip}, radius * 0.04), Paint::solid(kGold));
        canvas.fill(Shape::circle(tip, radius * 0.065), Paint::solid(kGold));
    }
    canvas.fill(Shape::circle(center, radius * 0.17), Paint::solid(kGold));
}

// The blossom on its badge, drawn in a 29 x 29 box.
void draw_blossom_emblem(Canvas& canvas) {
    canvas.fill(Shape::rect({0.0, 0.0, 29.0, 29.0}, CornerRadii::all(kBadgeRadius)),
                Paint::linear({0.0, 0.0}, {0.0, 29.0}, {{0.0, kBerry}, {1.0, kPlum}}));
    draw_blossom(canvas, {14.5, 15.0}, 10.6, degrees(-90.0));
}

void draw_icon(Canvas& canvas) { draw_emblem(canvas, canvas.bounds_points(), draw_blossom_emblem); }

void draw_logo_petal(Canvas& canvas, Vec2 center, double size, unsigned index) {
    const double angle = degrees(-60.0 + 40.0 * index);
    const Shape shape =
        petal(size * 1.1).translated({-size * 0.55, 0.0}).rotated({}, angle).translated(center);
    canvas.fill(shape, Paint::radial(center, size * 0.6, {{0.0, kPetalWhite}, {1.0, kPink}}));
}

void draw_logo(Canvas& canvas) {
    draw_logo_layout(canvas, {draw_blossom_emblem, kBlush, kPink, draw_logo_petal});
}

void draw_strip(Canvas& canvas) {
    const double w = canvas.width_points();
    const double h = canvas.height_points();
    canvas.fill_all(Paint::linear(
        {0.0, 0.0}, {w, 0.0},
        {{0.0, kDeepPlum}, {0.55, Color::hex(0x7A2D62)}, {1.0, Color::hex(0xD9789F)}}));

    // Soft bokeh circles.
    for (unsigned i = 0; i < 18; ++i) {
        const Vec2 center{w * hash01(i, 11), h * hash01(i, 12)};
        const double r = 10.0 + 26.0 * hash01(i, 13);
        canvas.fill(Shape::circle(center, r),
                    Paint::solid(kPetalWhite.with_alpha(0.05 + 0.1 * hash01(i, 14))), 4.0);
    }

    // Falling petals, more of them to the right, and two blossoms.
    for (unsigned i = 0; i < 34; ++i) {
        const double x = w * (0.15 + 0.85 * std::sqrt(hash01(i, 21)));
        const Vec2 center{x, h * (hash01(i, 22) * 1.1 - 0.05)};
        const double size = 9.0 + 7.0 * hash01(i, 23);
        const double angle = degrees(360.0 * hash01(i, 24));
        const Shape shape = petal(size).translated({-size / 2.0, 0.0}).rotated({}, angle);
        canvas.fill(shape.translated(center + Vec2{1.0, 2.0}),
                    Paint::solid(kDeepPlum.with_alpha(0.3)), 2.5);
        canvas.fill(shape.translated(center),
                    Paint::linear(center + rotate({-size / 2.0, 0.0}, angle),
                                  center + rotate({size / 2.0, 0.0}, angle),
                                  {{0.0, kPetalWhite}, {1.0, kPink}}));
    }
    draw_blossom(canvas, {w * 0.80, h * 0.42}, 30.0, degrees(-80.0));
    draw_blossom(canvas, {w * 0.94, h * 0.86}, 20.0, degrees(-50.0));

    // Darken the left, where Wallet prints the primary field over the strip.
    canvas.fill_all(Paint::linear({0.0, 0.0}, {w * 0.7, 0.0},
                                  {{0.0, kDeepPlum.with_alpha(0.55)},
                                   {0.35, kDeepPlum.with_alpha(0.3)},
                                   {0.7, kDeepPlum.with_alpha(0.08)},
                                   {1.0, kDeepPlum.with_alpha(0.0)}}));
}

}  // namespace

Artwork beauty_artwork() { return {"beauty", draw_icon, draw_logo, draw_strip}; }

}  // namespace cardsmith::imagegen
