#pragma once
// A byte-bounded least-recently-used cache of shared immutable values (signed passes,
// prepared design assets). Thread-safe: one mutex; values are shared_ptr<const V> so a
// reader keeps its value alive after eviction. `Cost` gives each value's size in bytes.
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>

namespace cardsmith {

template <typename Key, typename Value, typename Hash = std::hash<Key>>
class LruCache {
public:
    using Ptr = std::shared_ptr<const Value>;
    using CostFn = std::size_t (*)(const Value&);

    LruCache(std::size_t max_bytes, CostFn cost) : max_bytes_(max_bytes), cost_(cost) {}

    [[nodiscard]] Ptr get(const Key& key) {
        std::lock_guard lock(mutex_);
        auto it = index_.find(key);
        if (it == index_.end()) {
            ++misses_;
            return nullptr;
        }
        order_.splice(order_.begin(), order_, it->second);
        ++hits_;
        return it->second->second;
    }

    void put(const Key& key, Ptr value) {
        std::size_t cost = cost_(*value);
        if (cost > max_bytes_) {
            return;  // larger than the whole cache: not worth evicting everything for
        }
        std::lock_guard lock(mutex_);
        erase_locked(key);
        order_.emplace_front(key, std::move(value));
        index_.emplace(key, order_.begin());
        bytes_ += cost;
        while (bytes_ > max_bytes_ && !order_.empty()) {
            auto& last = order_.back();
            bytes_ -= cost_(*last.second);
            index_.erase(last.first);
            order_.pop_back();
        }
    }

    void erase(const Key& key) {
        std::lock_guard lock(mutex_);
        erase_locked(key);
    }

    struct Stats {
        std::size_t entries, bytes, max_bytes;
        std::uint64_t hits, misses;
    };
    [[nodiscard]] Stats stats() const {
        std::lock_guard lock(mutex_);
        return {index_.size(), bytes_, max_bytes_, hits_, misses_};
    }

private:
    void erase_locked(const Key& key) {
        if (auto it = index_.find(key); it != index_.end()) {
            bytes_ -= cost_(*it->second->second);
            order_.erase(it->second);
            index_.erase(it);
        }
    }

    using Entry = std::pair<Key, Ptr>;
    const std::size_t max_bytes_;
    const CostFn cost_;
    mutable std::mutex mutex_;
    std::list<Entry> order_;
    std::unordered_map<Key, typename std::list<Entry>::iterator, Hash> index_;
    std::size_t bytes_ = 0;
    std::uint64_t hits_ = 0;
    std::uint64_t misses_ = 0;
};

}  // namespace cardsmith
