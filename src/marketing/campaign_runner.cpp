#include "marketing/campaign_runner.hpp"

#include <boost/json.hpp>

#include "common/log.hpp"
#include "common/time_format.hpp"

namespace cardsmith::marketing {
namespace json = boost::json;

storage::SegmentFilter resolve_segment(const domain::Segment& s, const domain::Program& program,
                                       const domain::TimeZone& zone, std::int64_t start) {
    storage::SegmentFilter f;
    f.balance_min = s.balance_min;
    f.balance_max = s.balance_max;
    if (!s.enrolled_from.empty()) {
        f.created_from = domain::local_day_start(s.enrolled_from, zone);
    }
    if (!s.enrolled_to.empty()) {
        if (auto day = domain::local_day_start(s.enrolled_to, zone)) {
            f.created_before = zone.to_utc(zone.to_local(*day) + 86400);  // the day after
        }
    }
    if (s.inactive_days) {
        f.no_transaction_since = start - *s.inactive_days * 86400;
    }
    auto list = [](const std::vector<std::string>& v) {
        json::array a;
        for (const auto& x : v) {
            a.push_back(json::string(x));
        }
        return json::serialize(a);
    };
    if (!s.channels.empty()) {
        f.channels_json = list(s.channels);
    }
    if (!s.cards.empty()) {
        f.cards_json = list(s.cards);
    }
    if (!s.tiers.empty()) {
        json::array ranges;
        for (const auto& [lo, hi] : domain::tier_ranges(program.design.tiers, s.tiers)) {
            ranges.push_back(json::array{lo, hi});
        }
        // A tier the design no longer has matches nobody (an empty list, not "any").
        f.lifetime_ranges_json = ranges.empty() ? "[[0, 0]]" : json::serialize(ranges);
    }
    return f;
}

std::shared_ptr<const domain::TimeZone> zone_of(const domain::Program& program) {
    if (auto z = domain::find_time_zone(program.time_zone)) {
        return z;
    }
    return domain::find_time_zone("UTC");
}

CampaignRunner::CampaignRunner(net::any_io_executor executor, storage::Database& db,
                               std::function<void()> on_pushes, int batch)
    : strand_(net::make_strand(std::move(executor))),
      db_(db),
      on_pushes_(std::move(on_pushes)),
      batch_(std::max(1, batch)),
      timer_(strand_) {}

void CampaignRunner::start() { net::co_spawn(strand_, run(shared_from_this()), net::detached); }

void CampaignRunner::wake() {
    net::post(strand_, [self = shared_from_this()] {
        self->woken_ = true;
        self->timer_.cancel();
    });
}

void CampaignRunner::stop() {
    net::post(strand_, [self = shared_from_this()] {
        self->stopping_ = true;
        self->timer_.cancel();
    });
}

net::awaitable<void> CampaignRunner::run(std::shared_ptr<CampaignRunner> self) {
    while (!self->stopping_) {
        self->woken_ = false;
        bool busy = false;
        try {
            busy = co_await self->tick();
        } catch (const std::exception& e) {
            log::error("campaigns: step failed", {{"error", e.what()}});
        }
        if (self->stopping_) {
            break;
        }
        if (busy || self->woken_) {
            continue;
        }
        self->timer_.expires_after(std::chrono::seconds(1));
        error_code ec;
        co_await self->timer_.async_wait(net::redirect_error(net::use_awaitable, ec));
    }
}

net::awaitable<bool> CampaignRunner::tick() {
    const std::int64_t now = now_unix_millis();
    const int expired =
        co_await db_.run([now](storage::Store& s) { return s.expire_offers(now, 1000); });
    if (expired > 0 && on_pushes_) {
        on_pushes_();
    }
    auto due = co_await db_.run([now](storage::Store& s) { return s.due_campaigns(now); });
    bool busy = expired == 1000;
    for (const std::int64_t id : due) {
        auto loaded = co_await db_.run([id](storage::Store& s) {
            std::optional<std::pair<storage::Campaign, domain::Program>> out;
            if (auto c = s.find_campaign(id)) {
                if (auto p = s.find_program(c->program)) {
                    out.emplace(std::move(*c), std::move(*p));
                }
            }
            return out;
        });
        if (!loaded) {
            continue;
        }
        const auto& [campaign, program] = *loaded;
        const auto options =
            domain::options_from_json(json::parse(campaign.options_json).as_object());
        const auto zone = zone_of(program);
        if (domain::next_send_time(options.quiet, *zone, now / 1000) > now / 1000) {
            continue;  // quiet hours: the next tick after they end sends
        }
        const int limit = batch_;
        const std::int64_t start =
            campaign.started_at != 0 ? campaign.started_at / 1000 : now / 1000;
        const auto filter = resolve_segment(
            domain::segment_from_json(json::parse(campaign.segment_json).as_object()), program,
            *zone, start);
        storage::CampaignStep step;
        step.limit = limit;
        step.rate_per_minute = options.rate_per_minute;
        step.holdout_percent = options.holdout_percent;
        step.cap_ms = options.cap_hours * 3'600'000;
        step.now_ms = now;
        auto after = co_await db_.run(
            [id, &filter, &step](storage::Store& s) { return s.campaign_step(id, filter, step); });
        if (!after) {
            continue;
        }
        if (after->sent != campaign.sent && on_pushes_) {
            on_pushes_();
        }
        if (after->state == "done") {
            log::info("campaign finished", {{"campaign", std::to_string(id)},
                                            {"targeted", std::to_string(after->targeted)},
                                            {"sent", std::to_string(after->sent)},
                                            {"held_out", std::to_string(after->held_out)},
                                            {"capped", std::to_string(after->capped)}});
        } else if (after->targeted - campaign.targeted >= limit) {
            busy = true;  // a whole batch went (the rate, if any, allowed it): maybe more now
        }
    }
    co_return busy;
}

}  // namespace cardsmith::marketing
