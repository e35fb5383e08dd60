#include "domain/models.hpp"

namespace cardsmith::domain {

bool is_valid_slug(std::string_view slug) {
    if (slug.size() < 2 || slug.size() > 64 || slug.front() == '-' || slug.back() == '-') {
        return false;
    }
    for (char c : slug) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
            return false;
        }
    }
    return true;
}

}  // namespace cardsmith::domain
