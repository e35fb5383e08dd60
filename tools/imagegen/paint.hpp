#pragma once
// What fills a shape: a solid colour, or a linear or radial gradient through colour stops,
// positioned in design points. Immutable value once built; thread-safe to read.
#include <utility>
#include <vector>

#include "color.hpp"
#include "geometry.hpp"

namespace cardsmith::imagegen {

struct GradientStop {
    double offset = 0.0;  // 0 at the gradient's start, 1 at its end
    Color color;
};

class Paint {
public:
    static Paint solid(Color color);
    // Colour varies along the segment `from` -> `to`; constant beyond its ends.
    static Paint linear(Vec2 from, Vec2 to, std::vector<GradientStop> stops);
    // Colour varies with the distance from `center`, reaching the last stop at `radius`.
    static Paint radial(Vec2 center, double radius, std::vector<GradientStop> stops);

    [[nodiscard]] Color at(Vec2 p) const;

private:
    enum class Kind {
        solid,   // one colour everywhere
        linear,  // projected onto from_ -> to_
        radial,  // distance from from_, divided by radius_
    };

    Paint(Kind kind, std::vector<GradientStop> stops) : kind_(kind), stops_(std::move(stops)) {}
    [[nodiscard]] Color color_at_offset(double t) const;

    Kind kind_;
    std::vector<GradientStop> stops_;
    Vec2 from_;
    Vec2 to_;
    double radius_ = 1.0;
};

}  // namespace cardsmith::imagegen
