#pragma once
// Prometheus metrics registry (text exposition format 0.0.4). Counters and gauges with
// labels, and the HTTP request latency histogram. Thread-safe: one mutex per registry;
// hot counters are cheap enough at our request rates.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace cardsmith::http_server {

class Metrics {
public:
    using Labels = std::vector<std::pair<std::string, std::string>>;

    // `help` is set on first use of a name.
    void counter_add(std::string_view name, std::string_view help, const Labels& labels,
                     double delta = 1.0);
    void gauge_set(std::string_view name, std::string_view help, const Labels& labels,
                   double value);
    // HTTP: cardsmith_http_requests_total{route,method,status} and
    // cardsmith_http_request_duration_seconds histogram {route}.
    void observe_request(std::string_view route, std::string_view method, unsigned status,
                         double seconds);

    [[nodiscard]] std::string render() const;

private:
    struct Family {
        std::string type;  // counter, gauge, histogram
        std::string help;
        std::map<std::string, double> samples;  // rendered label set → value
    };
    mutable std::mutex mutex_;
    std::map<std::string, Family, std::less<>> families_;
    struct Histogram {
        std::vector<std::uint64_t> buckets;
        std::uint64_t count = 0;
        double sum = 0;
    };
    std::map<std::string, Histogram> latency_;  // by rendered route label
};

}  // namespace cardsmith::http_server
