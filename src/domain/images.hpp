#pragma once
// Pass image rules for a store card (apple-wallet.md §1.5): which names exist, the PNG
// signature, pixel sizes per scale and a byte limit. Pure; thread-safe.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cardsmith::domain {

inline constexpr std::size_t kMaxImageBytes = 1024 * 1024;

struct PngSize {
    std::uint32_t width = 0;
    std::uint32_t height = 0;
};
// Width and height from the IHDR chunk, or nullopt if the bytes are not a PNG.
[[nodiscard]] std::optional<PngSize> png_size(std::string_view bytes);

// "icon", "icon@2x", "logo@3x", ... → true for the names a store card may carry.
[[nodiscard]] bool is_image_name(std::string_view name);
// The file name inside the .pkpass ("icon@2x" → "icon@2x.png").
[[nodiscard]] std::string image_file_name(std::string_view name);
// Empty when the image is acceptable for `name`, else the reason.
[[nodiscard]] std::string check_image(std::string_view name, std::string_view bytes);
// Names every design must have (icon at 1x, 2x and 3x).
[[nodiscard]] const std::vector<std::string>& required_images();
// All names, in package order.
[[nodiscard]] const std::vector<std::string>& all_image_names();

}  // namespace cardsmith::domain
