#pragma once
// The "beauty" template's images: a five-petal blossom on a plum badge, and a soft
// plum-to-pink strip with light bokeh and falling petals.
#include "artwork.hpp"

namespace cardsmith::imagegen {

[[nodiscard]] Artwork beauty_artwork();

}  // namespace cardsmith::imagegen
