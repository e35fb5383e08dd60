// cardsmith-imagegen TEMPLATE OUTDIR: draws a starter template's icon, logo and strip at
// 1x, 2x and 3x (docs/apple-wallet.md §1.5) and writes them as PNG files into OUTDIR.
#include <array>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "artwork.hpp"
#include "canvas.hpp"
#include "png_writer.hpp"

namespace {

using cardsmith::imagegen::Artwork;
using cardsmith::imagegen::Canvas;
using DrawFn = void (*)(Canvas&);

struct Asset {
    const char* name;
    double width_points;
    double height_points;
    DrawFn Artwork::*draw;
};

constexpr std::array<Asset, 3> kAssets{{
    {"icon", 29.0, 29.0, &Artwork::draw_icon},
    {"logo", 160.0, 50.0, &Artwork::draw_logo},
    {"strip", 375.0, 144.0, &Artwork::draw_strip},
}};

// "icon.png", "icon@2x.png", "icon@3x.png" (docs/apple-wallet.md §1.5).
std::string file_name(const Asset& asset, unsigned scale) {
    constexpr std::array<std::string_view, 3> kSuffixes{".png", "@2x.png", "@3x.png"};
    std::string name(asset.name);
    name.append(kSuffixes.at(scale - 1));
    return name;
}

[[nodiscard]] bool write_file(const std::filesystem::path& path,
                              const std::vector<std::uint8_t>& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    out.close();
    return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s TEMPLATE OUTDIR   (TEMPLATE: coffee | beauty)\n",
                     argc > 0 ? argv[0] : "cardsmith-imagegen");
        return 2;
    }
    const auto artwork = cardsmith::imagegen::find_artwork(argv[1]);
    if (!artwork) {
        std::fprintf(stderr, "unknown template '%s' (expected coffee or beauty)\n", argv[1]);
        return 2;
    }
    const std::filesystem::path out_dir = argv[2];
    std::error_code ec;
    std::filesystem::create_directories(out_dir, ec);
    if (ec) {
        std::fprintf(stderr, "cannot create %s: %s\n", out_dir.c_str(), ec.message().c_str());
        return 1;
    }
    for (const Asset& asset : kAssets) {
        for (unsigned scale = 1; scale <= 3; ++scale) {
            Canvas canvas(asset.width_points, asset.height_points, scale);
            ((*artwork).*asset.draw)(canvas);
            const auto png = cardsmith::imagegen::encode_png(canvas.to_image());
            const std::filesystem::path path = out_dir / file_name(asset, scale);
            if (!png) {
                std::fprintf(stderr, "zlib failed encoding %s\n", path.c_str());
                return 1;
            }
            if (!write_file(path, *png)) {
                std::fprintf(stderr, "cannot write %s\n", path.c_str());
                return 1;
            }
            std::printf("%s  %zu bytes\n", path.c_str(), png->size());
        }
    }
    return 0;
}
