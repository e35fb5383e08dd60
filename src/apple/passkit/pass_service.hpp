#pragma once
// Hands out signed .pkpass files: renders pass.json, and signs and zips on the CPU pool,
// reusing prepared design assets (one per program design version) and already signed
// passes (keyed by serial, update tag and design version, so a pass is re-signed only
// when its content changed). Both caches are byte-bounded (passes.cache_mb).
// Owned by `app`; async_pass() may be awaited concurrently from any coroutine.
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "apple/passkit/identities.hpp"
#include "apple/passkit/package.hpp"
#include "apple/passkit/pass_json.hpp"
#include "common/lru_cache.hpp"
#include "common/net.hpp"

namespace cardsmith::passkit {

struct SignedPass {
    std::string bytes;
    std::int64_t modified_at = 0;  // Last-Modified (unix seconds)
};

class PassService {
public:
    // Loads a design version's images (name → PNG) from storage; awaited on a miss.
    using ImageLoader = std::function<net::awaitable<std::map<std::string, std::string>>(
        ProgramId, std::int64_t version)>;

    PassService(const Identities& identities, net::any_io_executor cpu, ImageLoader loader,
                std::size_t cache_bytes);

    // Signed with the program's identity; throws std::runtime_error when the program names
    // an identity that is not loaded.
    [[nodiscard]] net::awaitable<std::shared_ptr<const SignedPass>> async_pass(
        const domain::Program& program, const domain::Card& card);

    [[nodiscard]] const Identities& identities() const { return identities_; }
    struct Stats {
        std::uint64_t signed_passes, cache_hits, cache_misses;
        std::size_t cache_bytes;
    };
    [[nodiscard]] Stats stats() const;
    // Called after each pass signed, with the time its pass.json, signature and zip took on
    // the CPU pool (for a latency histogram), on that pool's thread. Set it before the
    // first async_pass; it must be thread-safe.
    void on_signed(std::function<void(double seconds)> observer) {
        on_signed_ = std::move(observer);
    }

private:
    struct AssetKey {
        std::int64_t program, version;
        bool operator==(const AssetKey&) const = default;
    };
    struct AssetKeyHash {
        std::size_t operator()(const AssetKey& k) const noexcept {
            return std::hash<std::int64_t>{}(k.program * 1000003 + k.version);
        }
    };
    net::awaitable<std::shared_ptr<const DesignAssets>> async_assets(const domain::Program& p);

    const Identities& identities_;
    net::any_io_executor cpu_;
    ImageLoader loader_;
    LruCache<AssetKey, DesignAssets, AssetKeyHash> assets_;
    LruCache<std::string, SignedPass> passes_;
    std::atomic<std::uint64_t> signed_{0};
    std::function<void(double seconds)> on_signed_;
};

}  // namespace cardsmith::passkit
