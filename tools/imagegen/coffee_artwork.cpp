#include "coffee_artwork.hpp"

#include <cmath>
#include <vector>

namespace cardsmith::imagegen {
namespace {

constexpr Color kEspresso = Color::hex(0x2B1810);
constexpr Color kRoast = Color::hex(0x3B2418);
constexpr Color kMocha = Color::hex(0x8A5A3B);
constexpr Color kCoffee = Color::hex(0x5A3522);
constexpr Color kCaramel = Color::hex(0xC8925F);
constexpr Color kLabel = Color::hex(0xE8C39E);
constexpr Color kCream = Color::hex(0xF5E6D3);
constexpr Color kFoam = Color::hex(0xFFF8EE);

// A wavy line rising from `bottom` to `top` around x = `x`, for steam.
std::vector<Vec2> steam_path(double x, double bottom, double top, double phase) {
    constexpr int kSteps = 24;
    std::vector<Vec2> points;
    for (int k = 0; k <= kSteps; ++k) {
        const double t = static_cast<double>(k) / kSteps;
        points.push_back({x + 0.8 * std::sin(2.0 * kPi * t + phase), bottom + (top - bottom) * t});
    }
    return points;
}

// The cup, drawn in a 29 x 29 box.
void draw_cup_emblem(Canvas& canvas) {
    canvas.fill(Shape::rect({0.0, 0.0, 29.0, 29.0}, CornerRadii::all(kBadgeRadius)),
                Paint::linear({0.0, 0.0}, {0.0, 29.0}, {{0.0, kMocha}, {1.0, kRoast}}));

    const Paint steam = Paint::solid(kFoam.with_alpha(0.8));
    canvas.fill(Shape::stroke(steam_path(10.9, 9.4, 4.6, 0.0), 1.2), steam);
    canvas.fill(Shape::stroke(steam_path(14.0, 9.4, 3.2, kPi), 1.2), steam);
    canvas.fill(Shape::stroke(steam_path(17.1, 9.4, 4.6, 0.0), 1.2), steam);

    canvas.fill(Shape::ellipse({14.6, 23.6}, {9.2, 1.9}),
                Paint::linear({0.0, 21.7}, {0.0, 25.5}, {{0.0, kCream}, {1.0, kLabel}}));
    canvas.fill(Shape::circle({20.4, 16.4}, 2.9).outlined(1.6), Paint::solid(Color::hex(0xE9D3B9)));
    const Shape body =
        Shape::ellipse({14.0, 11.6}, {6.8, 13.2}).intersected(Shape::rect({5.0, 12.0, 23.0, 22.8}));
    canvas.fill(body, Paint::linear({7.2, 0.0}, {20.8, 0.0},
                                    {{0.0, kFoam}, {0.6, kCream}, {1.0, Color::hex(0xE2C4A4)}}));
    canvas.fill(Shape::ellipse({14.0, 12.0}, {6.8, 1.55}), Paint::solid(kFoam));
    canvas.fill(Shape::ellipse({14.0, 12.1}, {5.7, 1.0}),
                Paint::linear({8.3, 0.0}, {19.7, 0.0}, {{0.0, kCoffee}, {1.0, kRoast}}));
}

// One bean lying along +x, centred on the origin: an ellipse with its S-shaped crease cut
// out.
Shape bean(double rx) {
    const double ry = rx * 0.66;
    std::vector<Vec2> crease;
    constexpr int kSteps = 16;
    for (int k = 0; k <= kSteps; ++k) {
        const double u = -0.78 * rx + 1.56 * rx * static_cast<double>(k) / kSteps;
        crease.push_back({u, 0.2 * ry * std::sin(kPi * u / (0.78 * rx))});
    }
    return Shape::ellipse({0.0, 0.0}, {rx, ry}).subtracted(Shape::stroke(crease, 0.2 * ry));
}

// A bean of half-length `rx` at `center`, turned by `angle`, lit from the top left.
void draw_bean(Canvas& canvas, Vec2 center, double rx, double angle, Color light, Color dark) {
    const Vec2 highlight = center + rotate({-0.3 * rx, -0.35 * rx}, angle);
    canvas.fill(bean(rx).rotated({}, angle).translated(center),
                Paint::radial(highlight, rx * 1.6, {{0.0, light}, {1.0, dark}}));
}

void draw_icon(Canvas& canvas) { draw_emblem(canvas, canvas.bounds_points(), draw_cup_emblem); }

void draw_logo_bean(Canvas& canvas, Vec2 center, double size, unsigned index) {
    draw_bean(canvas, center, size * 0.55, degrees(-35.0 + 25.0 * index), kCream, kCaramel);
}

void draw_logo(Canvas& canvas) {
    draw_logo_layout(canvas, {draw_cup_emblem, kCream, kLabel, draw_logo_bean});
}

void draw_strip(Canvas& canvas) {
    const double w = canvas.width_points();
    const double h = canvas.height_points();
    canvas.fill_all(Paint::linear(
        {0.0, 0.0}, {w, 0.0},
        {{0.0, kEspresso}, {0.5, Color::hex(0x5C3A24)}, {1.0, Color::hex(0x9A6540)}}));
    canvas.fill_all(
        Paint::radial({w * 0.85, h * 0.1}, 220.0,
                      {{0.0, Color::hex(0xE8A86A, 0.35)}, {1.0, Color::hex(0xE8A86A, 0.0)}}));

    // Beans on a jittered, staggered grid, thinning out towards the left.
    constexpr double kCell = 31.0;
    unsigned index = 0;
    for (int row = -1; row <= 5; ++row) {
        for (int col = -1; col <= 13; ++col) {
            ++index;
            const double stagger = (row % 2 == 0) ? 0.0 : kCell / 2.0;
            const Vec2 center{col * kCell + stagger + (hash01(index, 1) - 0.5) * 12.0,
                              row * kCell + (hash01(index, 2) - 0.5) * 12.0};
            if (hash01(index, 3) > 0.25 + 0.75 * (center.x / w)) {
                continue;
            }
            const double rx = 7.5 + 3.5 * hash01(index, 4);
            const double angle = degrees(360.0 * hash01(index, 5));
            canvas.fill(bean(rx).rotated({}, angle).translated(center + Vec2{1.2, 2.0}),
                        Paint::solid(Color::hex(0x000000, 0.35)), 2.5);
            draw_bean(canvas, center, rx, angle, Color::hex(0x8A5634), Color::hex(0x3A2114));
        }
    }
    // Darken the left, where Wallet prints the primary field over the strip.
    canvas.fill_all(Paint::linear({0.0, 0.0}, {w * 0.7, 0.0},
                                  {{0.0, kEspresso.with_alpha(0.6)},
                                   {0.35, kEspresso.with_alpha(0.35)},
                                   {0.7, kEspresso.with_alpha(0.1)},
                                   {1.0, kEspresso.with_alpha(0.0)}}));
}

}  // namespace

Artwork coffee_artwork() { return {"coffee", draw_icon, draw_logo, draw_strip}; }

}  // namespace cardsmith::imagegen
