#pragma once
// The "coffee" template's images: a cup of coffee with steam on a roasted-brown badge, and
// a warm strip scattered with coffee beans.
#include "artwork.hpp"

namespace cardsmith::imagegen {

[[nodiscard]] Artwork coffee_artwork();

}  // namespace cardsmith::imagegen
