#pragma once
// Prometheus metrics registry (text exposition format 0.0.4). Counters, gauges and
// histograms with labels; collectors fill in values kept elsewhere (pool sizes, counters of
// other modules) when /metrics is scraped. Thread-safe: one mutex per registry; hot
// counters are cheap enough at our request rates. Collectors run outside that mutex and
// must themselves be thread-safe (two scrapes may run them at once).
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace cardsmith::http_server {

class Metrics {
public:
    using Labels = std::vector<std::pair<std::string, std::string>>;
    using Collector = std::function<void(Metrics&)>;

    // `help` is set on first use of a name.
    void counter_add(std::string_view name, std::string_view help, const Labels& labels,
                     double delta = 1.0);
    // A counter kept elsewhere (monotonic since start, e.g. an atomic of another module):
    // its current value.
    void counter_set(std::string_view name, std::string_view help, const Labels& labels,
                     double value);
    void gauge_set(std::string_view name, std::string_view help, const Labels& labels,
                   double value);
    // Replaces every sample of the gauge (series that may disappear, e.g. per identity).
    void gauge_set_all(std::string_view name, std::string_view help,
                       const std::vector<std::pair<Labels, double>>& samples);
    // A histogram with the latency buckets of 1 ms .. 10 s.
    void observe(std::string_view name, std::string_view help, const Labels& labels,
                 double seconds);
    // HTTP: cardsmith_http_requests_total{route,method,status} and
    // cardsmith_http_request_duration_seconds histogram {route}.
    void observe_request(std::string_view route, std::string_view method, unsigned status,
                         double seconds);

    // Registers a collector, run by collect(). Call at start-up.
    void add_collector(Collector collector);
    // Runs the collectors (before render() for a scrape).
    void collect();

    [[nodiscard]] std::string render() const;

private:
    struct Family {
        std::string type;  // counter, gauge
        std::string help;
        std::map<std::string, double> samples;  // rendered label set → value
    };
    struct Histogram {
        std::vector<std::uint64_t> buckets;
        std::uint64_t count = 0;
        double sum = 0;
    };
    struct HistogramFamily {
        std::string help;
        std::map<std::string, Histogram> series;  // by rendered label set
    };
    Family& family_locked(std::string_view name, std::string_view help, std::string_view type);

    mutable std::mutex mutex_;
    std::map<std::string, Family, std::less<>> families_;
    std::map<std::string, HistogramFamily, std::less<>> histograms_;
    std::mutex collectors_mutex_;
    std::vector<Collector> collectors_;
};

}  // namespace cardsmith::http_server
