#pragma once
// A 2-D shape as a signed distance function in design points (negative inside, zero on the
// edge) plus a box that holds it, so the canvas can anti-alias any edge from the distance
// alone and only visit pixels near the shape. Shapes compose by boolean operations and
// rigid transforms. Immutable value; thread-safe to read.
#include <functional>
#include <utility>
#include <vector>

#include "geometry.hpp"

namespace cardsmith::imagegen {

struct CornerRadii {
    double top_left = 0.0;
    double top_right = 0.0;
    double bottom_right = 0.0;
    double bottom_left = 0.0;

    static constexpr CornerRadii all(double r) { return {r, r, r, r}; }
};

class Shape {
public:
    using DistanceFn = std::function<double(Vec2)>;

    Shape(DistanceFn distance, Box bounds) : distance_(std::move(distance)), bounds_(bounds) {}

    static Shape circle(Vec2 center, double radius);
    // Axis-aligned ellipse; the distance is approximate away from the edge, exact enough
    // within a pixel of it for anti-aliasing.
    static Shape ellipse(Vec2 center, Vec2 radii);
    static Shape rect(Box box, CornerRadii radii = {});
    // A closed polygon (vertices in order, either winding).
    static Shape polygon(std::vector<Vec2> vertices);
    // A line of `width` through `points`, with round caps and joins.
    static Shape stroke(std::vector<Vec2> points, double width);

    [[nodiscard]] double distance(Vec2 p) const { return distance_(p); }
    [[nodiscard]] const Box& bounds() const { return bounds_; }

    [[nodiscard]] Shape united(const Shape& other) const;
    [[nodiscard]] Shape intersected(const Shape& other) const;
    [[nodiscard]] Shape subtracted(const Shape& other) const;
    // The band of `width` centred on this shape's edge.
    [[nodiscard]] Shape outlined(double width) const;
    // Grown by `amount` in every direction (rounds convex corners).
    [[nodiscard]] Shape inflated(double amount) const;
    [[nodiscard]] Shape translated(Vec2 offset) const;
    [[nodiscard]] Shape rotated(Vec2 pivot, double radians) const;

private:
    DistanceFn distance_;
    Box bounds_;
};

}  // namespace cardsmith::imagegen
