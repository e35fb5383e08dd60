#pragma once
// The .pkpass package (apple-wallet.md §1.1, 1.7, 1.8): manifest.json of SHA-1 hashes,
// the detached CMS signature, and the ZIP. The per-design part (images, their hashes and
// a ZIP holding them) is prepared once per design version as DesignAssets; each pass then
// adds only pass.json, manifest.json and signature, so the images are neither re-hashed
// nor re-compressed (libzip copies the stored entries of the base archive as they are).
// Pure functions over immutable inputs; thread-safe.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "crypto/pass_signer.hpp"

namespace cardsmith::passkit {

struct DesignAssets {
    std::vector<std::pair<std::string, std::string>> hashes;  // file name → SHA-1 hex
    std::string base_zip;                                     // the images, stored
    [[nodiscard]] std::size_t bytes() const { return base_zip.size() + hashes.size() * 64; }
};

// `images`: name ("icon@2x") → PNG bytes. Throws std::runtime_error on a libzip failure.
[[nodiscard]] DesignAssets prepare_design_assets(const std::map<std::string, std::string>& images);

// manifest.json for the design's files plus pass.json.
[[nodiscard]] std::string build_manifest(const DesignAssets& assets, std::string_view pass_json);

// The complete signed .pkpass bytes.
[[nodiscard]] std::string build_pkpass(const DesignAssets& assets, const std::string& pass_json,
                                       const crypto::PassSigner& signer);

}  // namespace cardsmith::passkit
