#include "paint.hpp"

#include <utility>

namespace cardsmith::imagegen {

Paint Paint::solid(Color color) { return Paint(Kind::solid, {{0.0, color}}); }

Paint Paint::linear(Vec2 from, Vec2 to, std::vector<GradientStop> stops) {
    Paint paint(Kind::linear, std::move(stops));
    paint.from_ = from;
    paint.to_ = to;
    return paint;
}

Paint Paint::radial(Vec2 center, double radius, std::vector<GradientStop> stops) {
    Paint paint(Kind::radial, std::move(stops));
    paint.from_ = center;
    paint.radius_ = radius;
    return paint;
}

Color Paint::at(Vec2 p) const {
    switch (kind_) {
        case Kind::solid:
            return stops_.front().color;
        case Kind::linear: {
            const Vec2 axis = to_ - from_;
            const double len2 = dot(axis, axis);
            return color_at_offset(len2 > 0.0 ? dot(p - from_, axis) / len2 : 0.0);
        }
        case Kind::radial:
            return color_at_offset(length(p - from_) / radius_);
    }
    return stops_.front().color;
}

Color Paint::color_at_offset(double t) const {
    if (t <= stops_.front().offset) {
        return stops_.front().color;
    }
    for (std::size_t i = 1; i < stops_.size(); ++i) {
        const GradientStop& lo = stops_[i - 1];
        const GradientStop& hi = stops_[i];
        if (t <= hi.offset) {
            const double span = hi.offset - lo.offset;
            return mix(lo.color, hi.color, span > 0.0 ? (t - lo.offset) / span : 1.0);
        }
    }
    return stops_.back().color;
}

}  // namespace cardsmith::imagegen
