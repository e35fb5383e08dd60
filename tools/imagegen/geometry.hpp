#pragma once
// Plain 2-D value types for the drawing code: points and axis-aligned boxes, measured in
// design points (a canvas maps one point to `scale` pixels). Values only; thread-safe.
#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <numbers>

namespace cardsmith::imagegen {

inline constexpr double kPi = std::numbers::pi;

// Converts degrees to radians (artwork is easier to read in degrees).
constexpr double degrees(double deg) { return deg * kPi / 180.0; }

struct Vec2 {
    double x = 0.0;
    double y = 0.0;
};

constexpr Vec2 operator+(Vec2 a, Vec2 b) { return {a.x + b.x, a.y + b.y}; }
constexpr Vec2 operator-(Vec2 a, Vec2 b) { return {a.x - b.x, a.y - b.y}; }
constexpr Vec2 operator*(Vec2 a, double k) { return {a.x * k, a.y * k}; }
constexpr Vec2 operator*(double k, Vec2 a) { return {a.x * k, a.y * k}; }
constexpr double dot(Vec2 a, Vec2 b) { return a.x * b.x + a.y * b.y; }
inline double length(Vec2 v) { return std::hypot(v.x, v.y); }

// Rotates `v` by `radians` (positive turns +x towards +y, i.e. clockwise on screen).
inline Vec2 rotate(Vec2 v, double radians) {
    const double c = std::cos(radians);
    const double s = std::sin(radians);
    return {v.x * c - v.y * s, v.x * s + v.y * c};
}

struct Box {
    double left = 0.0;
    double top = 0.0;
    double right = 0.0;
    double bottom = 0.0;

    [[nodiscard]] double width() const { return right - left; }
    [[nodiscard]] double height() const { return bottom - top; }
    [[nodiscard]] Vec2 center() const { return {(left + right) / 2.0, (top + bottom) / 2.0}; }
    [[nodiscard]] Box expanded(double d) const {
        return {left - d, top - d, right + d, bottom + d};
    }
    [[nodiscard]] Box united(const Box& o) const {
        return {std::min(left, o.left), std::min(top, o.top), std::max(right, o.right),
                std::max(bottom, o.bottom)};
    }
    [[nodiscard]] Box intersected(const Box& o) const {
        return {std::max(left, o.left), std::max(top, o.top), std::min(right, o.right),
                std::min(bottom, o.bottom)};
    }
};

// The smallest box holding all `points` (which must not be empty).
template <typename Points>
Box bounding_box(const Points& points) {
    Box box{points.begin()->x, points.begin()->y, points.begin()->x, points.begin()->y};
    for (const Vec2& p : points) {
        box = box.united({p.x, p.y, p.x, p.y});
    }
    return box;
}

inline Box bounding_box(std::initializer_list<Vec2> points) {
    return bounding_box<std::initializer_list<Vec2>>(points);
}

}  // namespace cardsmith::imagegen
