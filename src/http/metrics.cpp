#include "http/metrics.hpp"

#include <array>
#include <charconv>
#include <cmath>

#include "common/check.hpp"

namespace cardsmith::http_server {
namespace {

constexpr std::string_view kRequestsTotal = "cardsmith_http_requests_total";
constexpr std::string_view kDuration = "cardsmith_http_request_duration_seconds";
constexpr std::array<double, 13> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                             0.25,  0.5,    1,     2.5,  5,     10};
constexpr std::array<std::string_view, 14> kBucketLabels = {
    "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
    "0.25",  "0.5",    "1",     "2.5",  "5",     "10",   "+Inf"};

// Label values escape backslash, double quote and newline (exposition format 0.0.4).
void append_label_value(std::string& out, std::string_view value) {
    for (char c : value) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '"') {
            out += "\\\"";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
}

// HELP text escapes only backslash and newline.
std::string escape_help(std::string_view help) {
    std::string out;
    for (char c : help) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

// `route="x",method="GET"` without braces, so more labels can be appended.
std::string render_labels(const Metrics::Labels& labels) {
    std::string out;
    for (const auto& [name, value] : labels) {
        if (!out.empty()) {
            out += ',';
        }
        out += name;
        out += "=\"";
        append_label_value(out, value);
        out += '"';
    }
    return out;
}

std::string format_value(double v) {
    if (std::isnan(v)) {
        return "NaN";
    }
    if (std::isinf(v)) {
        return v > 0 ? "+Inf" : "-Inf";
    }
    std::array<char, 64> buf{};
    const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
    CARDSMITH_CHECK(ec == std::errc{});
    return std::string(buf.data(), end);
}

void append_sample(std::string& out, std::string_view name, std::string_view labels,
                   const std::string& value) {
    out += name;
    if (!labels.empty()) {
        out += '{';
        out += labels;
        out += '}';
    }
    out += ' ';
    out += value;
    out += '\n';
}

void append_header(std::string& out, std::string_view name, std::string_view help,
                   std::string_view type) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += escape_help(help);
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}

}  // namespace

void Metrics::counter_add(std::string_view name, std::string_view help, const Labels& labels,
                          double delta) {
    std::string key = render_labels(labels);
    std::lock_guard lock(mutex_);
    auto it = families_.find(name);
    if (it == families_.end()) {
        it = families_.emplace(std::string(name), Family{"counter", std::string(help), {}}).first;
    }
    CARDSMITH_CHECK(it->second.type == "counter");
    it->second.samples[std::move(key)] += delta;
}

void Metrics::gauge_set(std::string_view name, std::string_view help, const Labels& labels,
                        double value) {
    std::string key = render_labels(labels);
    std::lock_guard lock(mutex_);
    auto it = families_.find(name);
    if (it == families_.end()) {
        it = families_.emplace(std::string(name), Family{"gauge", std::string(help), {}}).first;
    }
    CARDSMITH_CHECK(it->second.type == "gauge");
    it->second.samples[std::move(key)] = value;
}

void Metrics::observe_request(std::string_view route, std::string_view method, unsigned status,
                              double seconds) {
    std::string counter_key = render_labels({{"route", std::string(route)},
                                             {"method", std::string(method)},
                                             {"status", std::to_string(status)}});
    std::string route_key = render_labels({{"route", std::string(route)}});
    std::lock_guard lock(mutex_);
    auto it = families_.find(kRequestsTotal);
    if (it == families_.end()) {
        it = families_
                 .emplace(std::string(kRequestsTotal),
                          Family{"counter", "HTTP requests by route, method and status.", {}})
                 .first;
    }
    it->second.samples[std::move(counter_key)] += 1;

    Histogram& h = latency_[std::move(route_key)];
    if (h.buckets.empty()) {
        h.buckets.assign(kBuckets.size(), 0);
    }
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
        if (seconds <= kBuckets[i]) {
            ++h.buckets[i];
            break;  // buckets hold non-cumulative counts; render() accumulates
        }
    }
    ++h.count;
    h.sum += seconds;
}

std::string Metrics::render() const {
    std::string out;
    std::lock_guard lock(mutex_);
    for (const auto& [name, family] : families_) {
        append_header(out, name, family.help, family.type);
        for (const auto& [labels, value] : family.samples) {
            append_sample(out, name, labels, format_value(value));
        }
    }
    if (latency_.empty()) {
        return out;
    }
    append_header(out, kDuration, "HTTP request duration in seconds, by route.", "histogram");
    const std::string bucket_name = std::string(kDuration) + "_bucket";
    for (const auto& [route, h] : latency_) {
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < kBucketLabels.size(); ++i) {
            cumulative = i < h.buckets.size() ? cumulative + h.buckets[i] : h.count;
            std::string labels = route + ",le=\"" + std::string(kBucketLabels[i]) + "\"";
            append_sample(out, bucket_name, labels, std::to_string(cumulative));
        }
        append_sample(out, std::string(kDuration) + "_sum", route, format_value(h.sum));
        append_sample(out, std::string(kDuration) + "_count", route, std::to_string(h.count));
    }
    return out;
}

}  // namespace cardsmith::http_server
