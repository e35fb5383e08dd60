#include "apple/passkit/pass_service.hpp"

#include <chrono>

#include "common/async_run.hpp"

namespace cardsmith::passkit {

PassService::PassService(const Identities& identities, net::any_io_executor cpu, ImageLoader loader,
                         std::size_t cache_bytes)
    : identities_(identities),
      cpu_(std::move(cpu)),
      loader_(std::move(loader)),
      // Design assets get a quarter of the budget: few entries, each ~tens of KB.
      assets_(cache_bytes / 4 + 1, [](const DesignAssets& a) { return a.bytes(); }),
      passes_(cache_bytes - cache_bytes / 4,
              [](const SignedPass& p) { return p.bytes.size() + 64; }) {}

net::awaitable<std::shared_ptr<const DesignAssets>> PassService::async_assets(
    const domain::Program& p) {
    AssetKey key{p.id.value(), p.design_version};
    if (auto hit = assets_.get(key)) {
        co_return hit;
    }
    auto images = co_await loader_(p.id, p.design_version);
    auto assets = co_await async_run(cpu_, [&images] {
        return std::make_shared<const DesignAssets>(prepare_design_assets(images));
    });
    assets_.put(key, assets);
    co_return assets;
}

net::awaitable<std::shared_ptr<const SignedPass>> PassService::async_pass(
    const domain::Program& program, const domain::Card& card) {
    auto identity = identities_.for_program(program);
    if (!identity) {
        throw std::runtime_error("program " + program.slug + " names an identity not loaded");
    }
    // A renewed identity is a new object: passes signed with the old one are not reused.
    std::string key = card.serial.value() + '/' + std::to_string(card.update_seq) + '/' +
                      std::to_string(program.design_version) + '/' +
                      std::to_string(identity->generation);
    if (auto hit = passes_.get(key)) {
        co_return hit;
    }
    auto assets = co_await async_assets(program);
    auto pass = co_await async_run(cpu_, [&] {
        const auto started = std::chrono::steady_clock::now();
        auto out = std::make_shared<SignedPass>();
        out->bytes = build_pkpass(*assets, render_pass_json(identity->pass, program, card),
                                  *identity->signer);
        out->modified_at = card.modified_at;
        if (on_signed_) {
            on_signed_(
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        }
        return std::shared_ptr<const SignedPass>(std::move(out));
    });
    signed_.fetch_add(1, std::memory_order_relaxed);
    passes_.put(key, pass);
    co_return pass;
}

PassService::Stats PassService::stats() const {
    auto s = passes_.stats();
    return {signed_.load(), s.hits, s.misses, s.bytes};
}

}  // namespace cardsmith::passkit
