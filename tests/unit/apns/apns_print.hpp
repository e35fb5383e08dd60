#pragma once
// Lets Boost.Test print apns::Action in failed checks.
#include <ostream>

#include "apns/push.hpp"

namespace cardsmith::apns {

inline std::ostream& operator<<(std::ostream& out, Action action) {
    return out << to_string(action);
}

}  // namespace cardsmith::apns
