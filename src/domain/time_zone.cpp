#include "domain/time_zone.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>

namespace cardsmith::domain {
namespace {

constexpr std::size_t kMaxNameLength = 64;
constexpr std::size_t kMaxFileSize = std::size_t{1} << 20;  // real files are a few KB
constexpr std::int64_t kDay = 86400;
// RFC 8536 §3.2: utoff should lie in [-89999, 93599].
constexpr std::int64_t kMinUtcOffset = -89999;
constexpr std::int64_t kMaxUtcOffset = 93599;

std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
    std::int64_t out = 0;
    if (__builtin_add_overflow(a, b, &out)) {
        return b > 0 ? INT64_MAX : INT64_MIN;
    }
    return out;
}

// Bounds-checked big-endian reads over the file's bytes.
class Reader {
public:
    explicit Reader(std::string_view data) : data_(data) {}
    [[nodiscard]] bool has(std::uint64_t n) const { return n <= data_.size() - pos_; }
    [[nodiscard]] bool at_end() const { return pos_ == data_.size(); }
    // Callers check has() first.
    std::uint64_t uint(std::size_t bytes) {
        std::uint64_t v = 0;
        for (std::size_t k = 0; k < bytes; ++k) {
            v = (v << 8) | static_cast<unsigned char>(data_[pos_++]);
        }
        return v;
    }
    std::string_view take(std::size_t n) {
        auto out = data_.substr(pos_, n);
        pos_ += out.size();
        return out;
    }

private:
    std::string_view data_;
    std::size_t pos_ = 0;
};

struct Header {
    char version = 0;
    std::uint64_t isutcnt = 0, isstdcnt = 0, leapcnt = 0, timecnt = 0, typecnt = 0, charcnt = 0;
    [[nodiscard]] std::uint64_t block_size(std::uint64_t time_size) const {
        return timecnt * time_size + timecnt + typecnt * 6 + charcnt + leapcnt * (time_size + 4) +
               isstdcnt + isutcnt;
    }
};

// A header and the room for the data block after it (4- or 8-byte times).
std::optional<Header> read_header(Reader& r, std::uint64_t time_size) {
    if (!r.has(44) || r.take(4) != "TZif") {
        return std::nullopt;
    }
    Header h;
    h.version = r.take(1).front();
    if (h.version != '\0' && (h.version < '2' || h.version > '4')) {
        return std::nullopt;
    }
    r.take(15);
    for (auto* count : {&h.isutcnt, &h.isstdcnt, &h.leapcnt, &h.timecnt, &h.typecnt, &h.charcnt}) {
        *count = r.uint(4);
    }
    if (!r.has(h.block_size(time_size))) {
        return std::nullopt;  // also bounds every count below
    }
    return h;
}

struct Block {
    std::int64_t initial_offset = 0;
    std::vector<std::pair<std::int64_t, std::int64_t>> transitions;  // (at, offset)
};

std::int64_t to_signed(std::uint64_t v, std::size_t bytes) {
    if (bytes == 4) {
        return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
    }
    return static_cast<std::int64_t>(v);
}

// The data block after `h` (RFC 8536 §3.2), validated. Leap-second files are refused:
// everything here counts POSIX seconds.
std::optional<Block> read_block(Reader& r, const Header& h, std::size_t time_size) {
    if (h.typecnt == 0 || h.charcnt == 0 || h.leapcnt != 0 ||
        (h.isstdcnt != 0 && h.isstdcnt != h.typecnt) ||
        (h.isutcnt != 0 && h.isutcnt != h.typecnt) || !r.has(h.block_size(time_size))) {
        return std::nullopt;
    }
    std::vector<std::int64_t> times(h.timecnt);
    for (auto& t : times) {
        t = to_signed(r.uint(time_size), time_size);
    }
    if (std::adjacent_find(times.begin(), times.end(), std::greater_equal<>()) != times.end()) {
        return std::nullopt;  // not strictly ascending
    }
    std::vector<std::size_t> indices(h.timecnt);
    for (auto& index : indices) {
        index = static_cast<std::size_t>(r.uint(1));
        if (index >= h.typecnt) {
            return std::nullopt;
        }
    }
    std::vector<std::int64_t> offsets(h.typecnt);
    for (auto& offset : offsets) {
        offset = to_signed(r.uint(4), 4);
        const auto is_dst = r.uint(1);
        const auto designation = r.uint(1);
        if (offset < kMinUtcOffset || offset > kMaxUtcOffset || is_dst > 1 ||
            designation >= h.charcnt) {
            return std::nullopt;
        }
    }
    r.take(static_cast<std::size_t>(h.charcnt));
    for (std::uint64_t k = 0; k < h.isstdcnt + h.isutcnt; ++k) {
        if (r.uint(1) > 1) {
            return std::nullopt;
        }
    }
    Block b;
    b.initial_offset = offsets.front();
    b.transitions.reserve(times.size());
    for (std::size_t k = 0; k < times.size(); ++k) {
        b.transitions.emplace_back(times[k], offsets.at(indices[k]));
    }
    return b;
}

}  // namespace

bool is_valid_zone_name(std::string_view name) {
    if (name.empty() || name.size() > kMaxNameLength) {
        return false;
    }
    bool after_slash = true;  // refuses a leading '/', "//" and so ".." paths
    for (char c : name) {
        if (c == '/') {
            if (after_slash) {
                return false;
            }
            after_slash = true;
            continue;
        }
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '+' || c == '-';
        if (!ok) {
            return false;
        }
        after_slash = false;
    }
    return !after_slash;
}

std::optional<TimeZone> TimeZone::parse(std::string name, std::string_view tzif) {
    Reader r(tzif);
    auto first = read_header(r, 4);
    if (!first) {
        return std::nullopt;
    }
    std::optional<Block> block;
    std::optional<PosixTz> footer;
    if (first->version == '\0') {
        block = read_block(r, *first, 4);
    } else {
        r.take(static_cast<std::size_t>(first->block_size(4)));  // the 32-bit block
        auto second = read_header(r, 8);
        if (!second || second->version != first->version) {
            return std::nullopt;
        }
        block = read_block(r, *second, 8);
        if (!block || !r.has(1) || r.take(1) != "\n") {
            return std::nullopt;
        }
        // The footer runs to the next newline, which must be the last byte.
        const std::string_view rest = r.take(tzif.size());
        const std::size_t length = rest.find('\n');
        if (length == std::string_view::npos || length + 1 != rest.size()) {
            return std::nullopt;
        }
        if (length > 0) {
            footer = PosixTz::parse(rest.substr(0, length));
            if (!footer) {
                return std::nullopt;
            }
        }
    }
    if (!block || !r.at_end()) {
        return std::nullopt;
    }
    TimeZone zone;
    zone.name_ = std::move(name);
    zone.initial_offset_ = block->initial_offset;
    zone.transitions_.reserve(block->transitions.size());
    for (const auto& [at, offset] : block->transitions) {
        zone.transitions_.push_back({at, offset});
    }
    zone.footer_ = footer;
    return zone;
}

std::optional<TimeZone> TimeZone::load(std::string_view name, const std::string& dir) {
    if (name == "UTC") {
        TimeZone utc;
        utc.name_ = "UTC";
        return utc;
    }
    if (!is_valid_zone_name(name)) {
        return std::nullopt;
    }
    const std::filesystem::path path = std::filesystem::path(dir) / name;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        return std::nullopt;  // also keeps a FIFO or device from blocking the read
    }
    const auto size = std::filesystem::file_size(path, ec);
    if (ec || size > kMaxFileSize) {
        return std::nullopt;  // far too large for a TZif file
    }
    std::string bytes(static_cast<std::size_t>(size), '\0');
    std::ifstream in(path, std::ios::binary);
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!in || in.gcount() != static_cast<std::streamsize>(bytes.size())) {
        return std::nullopt;
    }
    return parse(std::string(name), bytes);
}

std::int64_t TimeZone::offset_at(std::int64_t utc_seconds) const {
    if (transitions_.empty()) {
        return footer_ ? footer_->offset_at(utc_seconds) : initial_offset_;
    }
    if (utc_seconds < transitions_.front().at) {
        return initial_offset_;
    }
    if (footer_ && utc_seconds > transitions_.back().at) {
        return footer_->offset_at(utc_seconds);
    }
    auto it = std::upper_bound(
        transitions_.begin(), transitions_.end(), utc_seconds,
        [](std::int64_t t, const Transition& transition) { return t < transition.at; });
    return std::prev(it)->offset;
}

std::int64_t TimeZone::to_utc(std::int64_t local_seconds) const {
    // Offsets in effect well before and well after: wider than any UTC offset, narrower
    // than the gap between two transitions.
    constexpr std::int64_t kWindow = 2 * kDay;
    const std::int64_t early_offset = offset_at(saturating_add(local_seconds, -kWindow));
    const std::int64_t late_offset = offset_at(saturating_add(local_seconds, kWindow));
    const std::int64_t early = saturating_add(local_seconds, -early_offset);
    const std::int64_t late = saturating_add(local_seconds, -late_offset);
    const bool early_fits = offset_at(early) == early_offset;
    const bool late_fits = offset_at(late) == late_offset;
    if (early_fits && late_fits) {
        return std::min(early, late);  // an overlap, or the same instant
    }
    if (early_fits || late_fits) {
        return early_fits ? early : late;
    }
    if (late >= early) {
        return early;  // not a simple gap (transitions closer than the window)
    }
    // A gap: the transition lies in (late, early]; find its first instant.
    std::int64_t lo = late;
    std::int64_t hi = early;
    while (hi - lo > 1) {
        const std::int64_t mid = lo + (hi - lo) / 2;
        if (offset_at(mid) != early_offset) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    return hi;
}

std::shared_ptr<const TimeZone> find_time_zone(std::string_view name) {
    static std::mutex mutex;
    static std::map<std::string, std::shared_ptr<const TimeZone>, std::less<>> cache;
    {
        std::lock_guard lock(mutex);
        if (auto it = cache.find(name); it != cache.end()) {
            return it->second;
        }
    }
    auto zone = TimeZone::load(name);
    if (!zone) {
        return nullptr;  // not cached: names are unbounded, zone files are not
    }
    auto shared = std::make_shared<const TimeZone>(std::move(*zone));
    std::lock_guard lock(mutex);
    return cache.emplace(std::string(name), std::move(shared)).first->second;
}

}  // namespace cardsmith::domain
