#include "shape.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <utility>

namespace cardsmith::imagegen {
namespace {

// Distance from `p` to the segment a-b.
double segment_distance(Vec2 p, Vec2 a, Vec2 b) {
    const Vec2 ab = b - a;
    const double len2 = dot(ab, ab);
    const double t = len2 > 0.0 ? std::clamp(dot(p - a, ab) / len2, 0.0, 1.0) : 0.0;
    return length(p - (a + ab * t));
}

}  // namespace

Shape Shape::circle(Vec2 center, double radius) {
    return Shape([=](Vec2 p) { return length(p - center) - radius; },
                 {center.x - radius, center.y - radius, center.x + radius, center.y + radius});
}

Shape Shape::ellipse(Vec2 center, Vec2 radii) {
    // Inigo Quilez's first-order approximation: the implicit function divided by the
    // length of its gradient.
    auto distance = [=](Vec2 p) {
        const Vec2 q = p - center;
        const double k0 = std::hypot(q.x / radii.x, q.y / radii.y);
        const double k1 = std::hypot(q.x / (radii.x * radii.x), q.y / (radii.y * radii.y));
        if (k1 <= 0.0) {
            return -std::min(radii.x, radii.y);
        }
        return k0 * (k0 - 1.0) / k1;
    };
    return Shape(distance,
                 {center.x - radii.x, center.y - radii.y, center.x + radii.x, center.y + radii.y});
}

Shape Shape::rect(Box box, CornerRadii radii) {
    const Vec2 center = box.center();
    const Vec2 half{box.width() / 2.0, box.height() / 2.0};
    auto distance = [=](Vec2 p) {
        const Vec2 q = p - center;
        // y grows downwards, so "top" is q.y < 0.
        const double r = q.x < 0.0 ? (q.y < 0.0 ? radii.top_left : radii.bottom_left)
                                   : (q.y < 0.0 ? radii.top_right : radii.bottom_right);
        const Vec2 d{std::abs(q.x) - half.x + r, std::abs(q.y) - half.y + r};
        const double outside = std::hypot(std::max(d.x, 0.0), std::max(d.y, 0.0));
        return std::min(std::max(d.x, d.y), 0.0) + outside - r;
    };
    return Shape(distance, box);
}

Shape Shape::polygon(std::vector<Vec2> vertices) {
    const Box bounds = bounding_box(vertices);
    auto distance = [v = std::move(vertices)](Vec2 p) {
        double best = std::numeric_limits<double>::max();
        bool inside = false;
        for (std::size_t i = 0, j = v.size() - 1; i < v.size(); j = i++) {
            best = std::min(best, segment_distance(p, v[i], v[j]));
            // Even-odd rule: count edge crossings of a ray towards +x.
            if ((v[i].y > p.y) != (v[j].y > p.y) &&
                p.x < (v[j].x - v[i].x) * (p.y - v[i].y) / (v[j].y - v[i].y) + v[i].x) {
                inside = !inside;
            }
        }
        return inside ? -best : best;
    };
    return Shape(std::move(distance), bounds);
}

Shape Shape::stroke(std::vector<Vec2> points, double width) {
    const Box bounds = bounding_box(points).expanded(width / 2.0);
    auto distance = [pts = std::move(points), half = width / 2.0](Vec2 p) {
        double best = length(p - pts.front());
        for (std::size_t i = 1; i < pts.size(); ++i) {
            best = std::min(best, segment_distance(p, pts[i - 1], pts[i]));
        }
        return best - half;
    };
    return Shape(std::move(distance), bounds);
}

Shape Shape::united(const Shape& other) const {
    return Shape([a = distance_, b = other.distance_](Vec2 p) { return std::min(a(p), b(p)); },
                 bounds_.united(other.bounds_));
}

Shape Shape::intersected(const Shape& other) const {
    return Shape([a = distance_, b = other.distance_](Vec2 p) { return std::max(a(p), b(p)); },
                 bounds_.intersected(other.bounds_));
}

Shape Shape::subtracted(const Shape& other) const {
    return Shape([a = distance_, b = other.distance_](Vec2 p) { return std::max(a(p), -b(p)); },
                 bounds_);
}

Shape Shape::outlined(double width) const {
    return Shape([a = distance_, half = width / 2.0](Vec2 p) { return std::abs(a(p)) - half; },
                 bounds_.expanded(width / 2.0));
}

Shape Shape::inflated(double amount) const {
    return Shape([a = distance_, amount](Vec2 p) { return a(p) - amount; },
                 bounds_.expanded(amount));
}

Shape Shape::translated(Vec2 offset) const {
    return Shape([a = distance_, offset](Vec2 p) { return a(p - offset); },
                 {bounds_.left + offset.x, bounds_.top + offset.y, bounds_.right + offset.x,
                  bounds_.bottom + offset.y});
}

Shape Shape::rotated(Vec2 pivot, double radians) const {
    const std::array<Vec2, 4> corners{
        pivot + rotate(Vec2{bounds_.left, bounds_.top} - pivot, radians),
        pivot + rotate(Vec2{bounds_.right, bounds_.top} - pivot, radians),
        pivot + rotate(Vec2{bounds_.right, bounds_.bottom} - pivot, radians),
        pivot + rotate(Vec2{bounds_.left, bounds_.bottom} - pivot, radians)};
    return Shape(
        [a = distance_, pivot, radians](Vec2 p) { return a(pivot + rotate(p - pivot, -radians)); },
        bounding_box(corners));
}

}  // namespace cardsmith::imagegen
