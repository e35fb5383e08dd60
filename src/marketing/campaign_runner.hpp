#pragma once
// Sends campaigns (issue 6): every second, each due campaign advances a batch of its
// segment per transaction (storage::Store::campaign_step) unless the program's quiet hours
// hold, at most its rate per minute (counted in the campaign's row, so instances sharing
// the database keep to it together); offers past their end are cleared. Progress is in the
// database, so a restart carries on. Runs on its own strand; wake() after creating one.
#include <functional>
#include <memory>

#include "common/net.hpp"
#include "domain/campaign.hpp"
#include "domain/models.hpp"
#include "storage/database.hpp"

namespace cardsmith::marketing {

// The segment as the database filters it: tiers become lifetime-point ranges of the
// program's design, dates the program's local days, "inactive" a time before `start`.
[[nodiscard]] storage::SegmentFilter resolve_segment(const domain::Segment& segment,
                                                     const domain::Program& program,
                                                     const domain::TimeZone& zone,
                                                     std::int64_t start_seconds);

// The program's zone, or UTC when its name no longer loads.
[[nodiscard]] std::shared_ptr<const domain::TimeZone> zone_of(const domain::Program& program);

class CampaignRunner : public std::enable_shared_from_this<CampaignRunner> {
public:
    CampaignRunner(net::any_io_executor executor, storage::Database& db,
                   std::function<void()> on_pushes, int batch = 500);

    void start();
    void wake();
    void stop();

private:
    static net::awaitable<void> run(std::shared_ptr<CampaignRunner> self);
    net::awaitable<bool> tick();  // true when a campaign has more to send right away

    net::strand<net::any_io_executor> strand_;
    storage::Database& db_;
    std::function<void()> on_pushes_;
    int batch_;
    net::steady_timer timer_;
    bool woken_ = false;
    bool stopping_ = false;
};

}  // namespace cardsmith::marketing
