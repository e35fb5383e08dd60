#include "canvas.hpp"

#include <algorithm>
#include <cmath>

namespace cardsmith::imagegen {
namespace {

std::size_t to_pixels(double points, double scale) {
    return static_cast<std::size_t>(std::lround(points * scale));
}

std::uint8_t to_byte(double v) {
    return static_cast<std::uint8_t>(std::lround(std::clamp(v, 0.0, 1.0) * 255.0));
}

}  // namespace

Canvas::Canvas(double width_points, double height_points, unsigned scale)
    : width_points_(width_points),
      height_points_(height_points),
      scale_(static_cast<double>(scale)),
      width_px_(to_pixels(width_points, scale_)),
      height_px_(to_pixels(height_points, scale_)),
      pixels_(width_px_ * height_px_ * 4, 0.0) {}

void Canvas::fill(const Shape& shape, const Paint& paint, double feather) {
    const double zoom = transform_.zoom;
    const Vec2 origin = transform_.origin;
    // Pixels per drawing unit, and the ramp width in pixels (at least one pixel).
    const double px_per_unit = zoom * scale_;
    const double ramp = std::max(1.0, feather * zoom * scale_);

    const Box b = shape.bounds();
    const double margin = ramp / scale_;
    const double left = (origin.x + b.left * zoom) - margin;
    const double top = (origin.y + b.top * zoom) - margin;
    const double right = (origin.x + b.right * zoom) + margin;
    const double bottom = (origin.y + b.bottom * zoom) + margin;
    auto clamp_px = [](double v, std::size_t limit) {
        return static_cast<std::size_t>(std::clamp(v, 0.0, static_cast<double>(limit)));
    };
    const std::size_t x0 = clamp_px(std::floor(left * scale_), width_px_);
    const std::size_t y0 = clamp_px(std::floor(top * scale_), height_px_);
    const std::size_t x1 = clamp_px(std::ceil(right * scale_), width_px_);
    const std::size_t y1 = clamp_px(std::ceil(bottom * scale_), height_px_);

    for (std::size_t y = y0; y < y1; ++y) {
        for (std::size_t x = x0; x < x1; ++x) {
            // Pixel centre, in canvas points, then in drawing units.
            const Vec2 canvas_point{(static_cast<double>(x) + 0.5) / scale_,
                                    (static_cast<double>(y) + 0.5) / scale_};
            const Vec2 p = (canvas_point - origin) * (1.0 / zoom);
            const double distance_px = shape.distance(p) * px_per_unit;
            const double coverage = std::clamp(0.5 - distance_px / ramp, 0.0, 1.0);
            if (coverage <= 0.0) {
                continue;
            }
            const Color c = paint.at(p);
            const double a = c.a * coverage;
            double* dst = &pixels_[(y * width_px_ + x) * 4];
            dst[0] = c.r * a + dst[0] * (1.0 - a);
            dst[1] = c.g * a + dst[1] * (1.0 - a);
            dst[2] = c.b * a + dst[2] * (1.0 - a);
            dst[3] = a + dst[3] * (1.0 - a);
        }
    }
}

void Canvas::fill_all(const Paint& paint) {
    const Transform saved = transform_;
    transform_ = {};
    fill(Shape::rect(bounds_points().expanded(1.0)), paint);
    transform_ = saved;
}

Image Canvas::to_image() const {
    Image image;
    image.width = static_cast<std::uint32_t>(width_px_);
    image.height = static_cast<std::uint32_t>(height_px_);
    image.rgba.resize(width_px_ * height_px_ * 4);
    for (std::size_t i = 0; i < width_px_ * height_px_; ++i) {
        const double* src = &pixels_[i * 4];
        const double a = src[3];
        // Un-premultiply; fully transparent pixels become transparent black, which also
        // compresses best.
        const double k = a > 0.0 ? 1.0 / a : 0.0;
        image.rgba[i * 4 + 0] = to_byte(src[0] * k);
        image.rgba[i * 4 + 1] = to_byte(src[1] * k);
        image.rgba[i * 4 + 2] = to_byte(src[2] * k);
        image.rgba[i * 4 + 3] = to_byte(a);
    }
    return image;
}

}  // namespace cardsmith::imagegen
