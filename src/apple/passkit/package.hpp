#pragma once
// The .pkpass package (apple-wallet.md §1.1, 1.7, 1.8): manifest.json of SHA-1 hashes,
// the detached CMS signature, and the ZIP. The per-design part (images, their hashes and
// a ZIP holding them) is prepared once per design version as DesignAssets; each pass then
// adds only pass.json, manifest.json and signature, so the images are neither re-hashed
// nor re-compressed. libzip builds the design's archive; the per-pass step splices the
// three small files into it by hand (see zip_pkpass for why). Pure functions over
// immutable inputs; thread-safe.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "crypto/pass_signer.hpp"

namespace cardsmith::passkit {

struct DesignAssets {
    std::vector<std::pair<std::string, std::string>> hashes;  // file name → SHA-1 hex
    std::string base_zip;                                     // the images, stored
    // Where libzip put the central directory of base_zip, parsed once.
    std::size_t central_offset = 0;
    std::size_t central_size = 0;
    std::uint16_t entries = 0;
    std::uint16_t dos_time = 0;  // timestamp given to the per-pass files
    std::uint16_t dos_date = 0;
    [[nodiscard]] std::size_t bytes() const { return base_zip.size() + hashes.size() * 64; }
};

// `images`: name ("icon@2x") → PNG bytes. Throws std::runtime_error on a libzip failure.
[[nodiscard]] DesignAssets prepare_design_assets(const std::map<std::string, std::string>& images);

// manifest.json for the design's files plus pass.json.
[[nodiscard]] std::string build_manifest(const DesignAssets& assets, std::string_view pass_json);

// The ZIP of the design's files plus the three per-pass files.
[[nodiscard]] std::string zip_pkpass(const DesignAssets& assets, const std::string& pass_json,
                                     const std::string& manifest, const std::string& signature);

// The complete signed .pkpass bytes.
[[nodiscard]] std::string build_pkpass(const DesignAssets& assets, const std::string& pass_json,
                                       const crypto::PassSigner& signer);

}  // namespace cardsmith::passkit
