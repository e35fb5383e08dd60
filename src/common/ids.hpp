#pragma once
// Strong id types: swapped arguments do not compile (STYLE.md "Names and files").
#include <compare>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <utility>

namespace cardsmith {

template <typename Tag, typename T>
class StrongId {
public:
    using value_type = T;
    StrongId() = default;
    explicit StrongId(T v) : value_(std::move(v)) {}
    [[nodiscard]] const T& value() const { return value_; }
    auto operator<=>(const StrongId&) const = default;

private:
    T value_{};
};

template <typename Tag, typename T>
std::ostream& operator<<(std::ostream& os, const StrongId<Tag, T>& id) {
    return os << id.value();
}

using MerchantId = StrongId<struct MerchantIdTag, std::int64_t>;
using ProgramId = StrongId<struct ProgramIdTag, std::int64_t>;
using CardId = StrongId<struct CardIdTag, std::int64_t>;
using IdentityId = StrongId<struct IdentityIdTag, std::int64_t>;
using CardNumber = StrongId<struct CardNumberTag, std::string>;
using SerialNumber = StrongId<struct SerialNumberTag, std::string>;
using AuthToken = StrongId<struct AuthTokenTag, std::string>;
using PushToken = StrongId<struct PushTokenTag, std::string>;

}  // namespace cardsmith

template <typename Tag, typename T>
struct std::hash<cardsmith::StrongId<Tag, T>> {
    std::size_t operator()(const cardsmith::StrongId<Tag, T>& id) const noexcept {
        return std::hash<T>{}(id.value());
    }
};
