#include "domain/images.hpp"

#include <array>

namespace cardsmith::domain {
namespace {

struct Rule {
    std::string_view base;
    std::uint32_t min_w, max_w, min_h, max_h;  // points at 1x
};
// icon: exact; logo: at most 160x50; strip: 375 wide, 123-144 high (Wallet crops);
// thumbnail: up to 90x90 (not shown on store cards, allowed for other styles later).
constexpr std::array<Rule, 4> kRules{{{"icon", 29, 29, 29, 29},
                                      {"logo", 1, 160, 1, 50},
                                      {"strip", 375, 375, 123, 144},
                                      {"thumbnail", 1, 90, 1, 90}}};

std::uint32_t be32(std::string_view b, std::size_t at) {
    return (static_cast<std::uint32_t>(static_cast<unsigned char>(b[at])) << 24) |
           (static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 1])) << 16) |
           (static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 2])) << 8) |
           static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 3]));
}

}  // namespace

std::optional<PngSize> png_size(std::string_view b) {
    static constexpr std::string_view kSig("\x89PNG\r\n\x1a\n", 8);
    if (b.size() < 33 || b.substr(0, 8) != kSig || b.substr(12, 4) != "IHDR" || be32(b, 8) != 13) {
        return std::nullopt;
    }
    PngSize s{be32(b, 16), be32(b, 20)};
    if (s.width == 0 || s.height == 0 || s.width > 10000 || s.height > 10000) {
        return std::nullopt;
    }
    return s;
}

bool is_image_name(std::string_view name) {
    for (const auto& n : all_image_names()) {
        if (n == name) {
            return true;
        }
    }
    return false;
}

std::string image_file_name(std::string_view name) { return std::string(name) + ".png"; }

std::string check_image(std::string_view name, std::string_view bytes) {
    if (!is_image_name(name)) {
        return "unknown image name (icon, logo, strip, thumbnail with optional @2x or @3x)";
    }
    if (bytes.size() > kMaxImageBytes) {
        return "is larger than " + std::to_string(kMaxImageBytes / 1024) + " KiB";
    }
    auto size = png_size(bytes);
    if (!size) {
        return "is not a PNG image";
    }
    std::uint32_t scale = 1;
    std::string_view base = name;
    if (auto at = name.find('@'); at != std::string_view::npos) {
        scale = static_cast<std::uint32_t>(name[at + 1] - '0');
        base = name.substr(0, at);
    }
    for (const auto& r : kRules) {
        if (r.base != base) {
            continue;
        }
        if (size->width < r.min_w * scale || size->width > r.max_w * scale ||
            size->height < r.min_h * scale || size->height > r.max_h * scale) {
            std::string want = r.min_w == r.max_w ? std::to_string(r.min_w * scale)
                                                  : "up to " + std::to_string(r.max_w * scale);
            want += " x ";
            want += r.min_h == r.max_h
                        ? std::to_string(r.min_h * scale)
                        : std::to_string(r.min_h * scale) + "-" + std::to_string(r.max_h * scale);
            return "is " + std::to_string(size->width) + "x" + std::to_string(size->height) +
                   " pixels; " + std::string(name) + " must be " + want;
        }
    }
    return {};
}

const std::vector<std::string>& required_images() {
    static const std::vector<std::string> kRequired{"icon", "icon@2x", "icon@3x"};
    return kRequired;
}

const std::vector<std::string>& all_image_names() {
    static const std::vector<std::string> kAll = [] {
        std::vector<std::string> v;
        for (const auto& r : kRules) {
            for (std::string_view suffix : {"", "@2x", "@3x"}) {
                v.push_back(std::string(r.base) + std::string(suffix));
            }
        }
        return v;
    }();
    return kAll;
}

}  // namespace cardsmith::domain
