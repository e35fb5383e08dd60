#include "artwork.hpp"

#include "beauty_artwork.hpp"
#include "coffee_artwork.hpp"

namespace cardsmith::imagegen {

std::optional<Artwork> find_artwork(std::string_view name) {
    for (const Artwork& artwork : {coffee_artwork(), beauty_artwork()}) {
        if (artwork.name == name) {
            return artwork;
        }
    }
    return std::nullopt;
}

void draw_emblem(Canvas& canvas, Box where, void (*emblem)(Canvas&)) {
    const Canvas::Transform saved = canvas.transform();
    canvas.set_transform({{where.left, where.top}, where.width() / 29.0});
    emblem(canvas);
    canvas.set_transform(saved);
}

void draw_logo_layout(Canvas& canvas, const LogoStyle& style) {
    // A light rim keeps the badge distinct on a pass background of a similar colour.
    const Box badge{3.0, 4.0, 45.0, 46.0};
    canvas.fill(Shape::rect(badge.expanded(0.8),
                            CornerRadii::all(kBadgeRadius * badge.width() / 29.0 + 0.8))
                    .outlined(1.0),
                Paint::solid(style.primary_bar.with_alpha(0.55)));
    draw_emblem(canvas, badge, style.emblem);
    canvas.fill(
        Shape::rect({55.0, 12.0, 136.0, 23.0}, CornerRadii::all(5.5)),
        Paint::linear({55.0, 0.0}, {136.0, 0.0},
                      {{0.0, style.primary_bar}, {1.0, style.primary_bar.with_alpha(0.75)}}));
    canvas.fill(Shape::rect({55.0, 29.0, 106.0, 36.0}, CornerRadii::all(3.5)),
                Paint::solid(style.secondary_bar));
    for (unsigned i = 0; i < 3; ++i) {
        style.accent(canvas, {115.0 + 10.5 * static_cast<double>(i), 32.5}, 8.0, i);
    }
}

double hash01(unsigned index, unsigned salt) {
    // SplitMix32-style integer hash.
    std::uint32_t h = index * 0x9E3779B9U + salt * 0x85EBCA6BU + 0x165667B1U;
    h ^= h >> 16U;
    h *= 0x7FEB352DU;
    h ^= h >> 15U;
    h *= 0x846CA68BU;
    h ^= h >> 16U;
    return static_cast<double>(h) / 4294967296.0;
}

}  // namespace cardsmith::imagegen
