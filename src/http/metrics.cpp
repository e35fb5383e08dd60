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

Metrics::Family& Metrics::family_locked(std::string_view name, std::string_view help,
                                        std::string_view type) {
    auto it = families_.find(name);
    if (it == families_.end()) {
        it = families_.emplace(std::string(name), Family{std::string(type), std::string(help), {}})
                 .first;
    }
    CARDSMITH_CHECK(it->second.type == type);
    return it->second;
}

void Metrics::counter_add(std::string_view name, std::string_view help, const Labels& labels,
                          double delta) {
    std::string key = render_labels(labels);
    std::lock_guard lock(mutex_);
    family_locked(name, help, "counter").samples[std::move(key)] += delta;
}

void Metrics::counter_set(std::string_view name, std::string_view help, const Labels& labels,
                          double value) {
    std::string key = render_labels(labels);
    std::lock_guard lock(mutex_);
    family_locked(name, help, "counter").samples[std::move(key)] = value;
}

void Metrics::gauge_set(std::string_view name, std::string_view help, const Labels& labels,
                        double value) {
    std::string key = render_labels(labels);
    std::lock_guard lock(mutex_);
    family_locked(name, help, "gauge").samples[std::move(key)] = value;
}

void Metrics::gauge_set_all(std::string_view name, std::string_view help,
                            const std::vector<std::pair<Labels, double>>& samples) {
    std::map<std::string, double> rendered;
    for (const auto& [labels, value] : samples) {
        rendered[render_labels(labels)] = value;
    }
    std::lock_guard lock(mutex_);
    family_locked(name, help, "gauge").samples = std::move(rendered);
}

void Metrics::observe(std::string_view name, std::string_view help, const Labels& labels,
                      double seconds) {
    std::string key = render_labels(labels);
    std::lock_guard lock(mutex_);
    auto it = histograms_.find(name);
    if (it == histograms_.end()) {
        it = histograms_.emplace(std::string(name), HistogramFamily{std::string(help), {}}).first;
    }
    Histogram& h = it->second.series[std::move(key)];
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

void Metrics::observe_request(std::string_view route, std::string_view method, unsigned status,
                              double seconds) {
    counter_add(kRequestsTotal, "HTTP requests by route, method and status.",
                {{"route", std::string(route)},
                 {"method", std::string(method)},
                 {"status", std::to_string(status)}});
    observe(kDuration, "HTTP request duration in seconds, by route.",
            {{"route", std::string(route)}}, seconds);
}

void Metrics::add_collector(Collector collector) {
    std::lock_guard lock(collectors_mutex_);
    collectors_.push_back(std::move(collector));
}

void Metrics::collect() {
    std::vector<Collector> collectors;
    {
        std::lock_guard lock(collectors_mutex_);
        collectors = collectors_;
    }
    for (const auto& c : collectors) {
        c(*this);
    }
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
    for (const auto& [name, family] : histograms_) {
        append_header(out, name, family.help, "histogram");
        const std::string bucket_name = name + "_bucket";
        for (const auto& [labels, h] : family.series) {
            std::uint64_t cumulative = 0;
            const std::string prefix = labels.empty() ? std::string() : labels + ",";
            for (std::size_t i = 0; i < kBucketLabels.size(); ++i) {
                cumulative = i < h.buckets.size() ? cumulative + h.buckets[i] : h.count;
                std::string le = prefix + "le=\"" + std::string(kBucketLabels[i]) + "\"";
                append_sample(out, bucket_name, le, std::to_string(cumulative));
            }
            append_sample(out, name + "_sum", labels, format_value(h.sum));
            append_sample(out, name + "_count", labels, std::to_string(h.count));
        }
    }
    return out;
}

}  // namespace cardsmith::http_server
