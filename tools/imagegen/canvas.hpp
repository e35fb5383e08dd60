#pragma once
// A drawing surface of width x height design points rendered at `scale` pixels per point,
// so every Wallet resolution (1x/2x/3x, docs/apple-wallet.md §1.5) is drawn from the same
// vector shapes rather than upscaled. Fills are anti-aliased from the shapes' signed
// distances and composited source-over in premultiplied floating point. Owned by one
// caller; not thread-safe.
#include <cstddef>
#include <vector>

#include "geometry.hpp"
#include "image.hpp"
#include "paint.hpp"
#include "shape.hpp"

namespace cardsmith::imagegen {

class Canvas {
public:
    // Maps drawing coordinates into canvas points: canvas = origin + zoom * drawing. Lets
    // one piece of artwork (an emblem) be drawn at any place and size.
    struct Transform {
        Vec2 origin;
        double zoom = 1.0;
    };

    Canvas(double width_points, double height_points, unsigned scale);

    [[nodiscard]] double width_points() const { return width_points_; }
    [[nodiscard]] double height_points() const { return height_points_; }
    [[nodiscard]] Box bounds_points() const { return {0.0, 0.0, width_points_, height_points_}; }

    [[nodiscard]] const Transform& transform() const { return transform_; }
    void set_transform(const Transform& transform) { transform_ = transform; }

    // Paints `shape` with `paint`. `feather` (points) widens the anti-aliasing ramp for
    // soft shadows and glows; 0 gives a crisp one-pixel edge.
    void fill(const Shape& shape, const Paint& paint, double feather = 0.0);
    void fill_all(const Paint& paint);

    [[nodiscard]] Image to_image() const;

private:
    double width_points_;
    double height_points_;
    double scale_;
    std::size_t width_px_;
    std::size_t height_px_;
    Transform transform_;
    std::vector<double> pixels_;  // premultiplied RGBA, 4 per pixel
};

}  // namespace cardsmith::imagegen
