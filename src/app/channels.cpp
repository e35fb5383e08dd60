#include "app/channels.hpp"

#include <algorithm>

namespace cardsmith::app {
namespace {

using Labels = http_server::Metrics::Labels;
using Samples = std::vector<std::pair<Labels, double>>;

}  // namespace

ApnsChannel apns_channel(const std::string& pass_type_id, const apns::ClientStats& stats,
                         const std::vector<push::IdentityHealth>& health) {
    ApnsChannel c;
    c.pass_type_id = pass_type_id;
    c.connections = stats.connections_up;
    c.connect_failures = stats.connect_failures;
    c.queued = stats.queued + stats.waiting;
    const auto refused = std::find_if(health.begin(), health.end(), [&](const auto& h) {
        return h.topic == pass_type_id && !h.healthy;
    });
    if (refused != health.end()) {
        c.state = "refused";
        c.reason = refused->reason;
    } else if (stats.connections_up > 0) {
        c.state = "connected";
    } else if (!stats.last_connect_error.empty()) {
        c.state = "unreachable";
        c.reason = stats.last_connect_error;
    } else {
        c.state = "idle";
    }
    return c;
}

std::string push_summary(const std::string& own_pass_type_id, const std::vector<ApnsChannel>& apns,
                         const std::vector<push::IdentityHealth>& routes,
                         const std::optional<GoogleChannel>& google) {
    std::string summary = "ok";
    for (const auto& r : routes) {
        if (!r.healthy) {
            if (r.topic == own_pass_type_id) {
                return "down";
            }
            summary = "degraded";
        }
    }
    for (const auto& c : apns) {
        if (c.state == "refused" && c.pass_type_id == own_pass_type_id) {
            return "down";
        }
        if (c.state == "refused" || c.state == "unreachable") {
            summary = "degraded";
        }
    }
    if (google &&
        ((google->probe != "ok" && google->probe != "unchecked") || google->token == "failing")) {
        summary = "degraded";
    }
    return summary;
}

boost::json::object channels_json(const std::vector<ApnsChannel>& apns,
                                  const std::optional<GoogleChannel>& google) {
    boost::json::array list;
    for (const auto& c : apns) {
        boost::json::object o{{"passTypeId", c.pass_type_id},
                              {"state", c.state},
                              {"connections", c.connections},
                              {"connectFailures", c.connect_failures},
                              {"queued", c.queued}};
        if (!c.reason.empty()) {
            o["reason"] = c.reason;
        }
        list.push_back(std::move(o));
    }
    boost::json::object out{{"apns", std::move(list)}};
    if (google) {
        boost::json::object g{{"probe", google->probe}, {"token", google->token}};
        if (!google->token_error.empty()) {
            g["tokenError"] = google->token_error;
        }
        out["google"] = std::move(g);
    }
    return out;
}

void export_channel_metrics(http_server::Metrics& metrics, const std::vector<ApnsChannel>& apns,
                            const std::vector<push::IdentityHealth>& routes,
                            const std::optional<GoogleChannel>& google) {
    Samples connections;
    Samples failures;
    Samples queued;
    Samples up;
    for (const auto& c : apns) {
        Labels labels{{"pass_type_id", c.pass_type_id}};
        connections.emplace_back(labels, c.connections);
        failures.emplace_back(labels, static_cast<double>(c.connect_failures));
        queued.emplace_back(std::move(labels), static_cast<double>(c.queued));
    }
    for (const auto& r : routes) {
        up.emplace_back(Labels{{"channel", r.topic}}, r.healthy ? 1.0 : 0.0);
    }
    metrics.gauge_set_all("cardsmith_apns_connections",
                          "Live HTTP/2 connections to APNs, by Apple identity", connections);
    metrics.gauge_set_all("cardsmith_apns_queued", "Pushes waiting for an APNs stream", queued);
    // Monotonic per client; a renewed identity's new client starts again from 0.
    for (const auto& [labels, value] : failures) {
        metrics.counter_set("cardsmith_apns_connect_failures_total",
                            "Failed attempts to connect to APNs, by Apple identity", labels, value);
    }
    metrics.gauge_set_all("cardsmith_push_channel_up",
                          "1 while a push channel (APNs identity, relay, Google row kind) is "
                          "accepted; 0 while it is refused and its pushes are paused",
                          up);
    if (google) {
        metrics.gauge_set("cardsmith_google_up",
                          "1 when Google Wallet answered the start-up probe and the last token "
                          "refresh did not fail",
                          {}, google->probe == "ok" && google->token != "failing" ? 1.0 : 0.0);
        metrics.counter_set("cardsmith_google_token_refreshes_total",
                            "OAuth access tokens requested from Google", {},
                            static_cast<double>(google->token_refreshes));
    }
}

}  // namespace cardsmith::app
