#include "apple/passkit/identities.hpp"

#include <algorithm>

namespace cardsmith::passkit {

Identities::Identities(std::shared_ptr<const SigningIdentity> default_identity)
    : default_(std::move(default_identity)) {}

std::shared_ptr<const SigningIdentity> Identities::default_identity() const {
    std::shared_lock lock(mutex_);
    return default_;
}

std::shared_ptr<const SigningIdentity> Identities::for_program(
    const domain::Program& program) const {
    if (!program.identity) {
        return default_identity();
    }
    return by_id(*program.identity);
}

std::shared_ptr<const SigningIdentity> Identities::by_pass_type(
    std::string_view pass_type_id) const {
    std::shared_lock lock(mutex_);
    if (default_->pass.pass_type_id == pass_type_id) {
        return default_;
    }
    for (const auto& i : merchants_) {
        if (i->pass.pass_type_id == pass_type_id) {
            return i;
        }
    }
    return nullptr;
}

std::shared_ptr<const SigningIdentity> Identities::by_id(IdentityId id) const {
    std::shared_lock lock(mutex_);
    for (const auto& i : merchants_) {
        if (i->id == id) {
            return i;
        }
    }
    return nullptr;
}

void Identities::put(std::shared_ptr<SigningIdentity> identity) {
    std::unique_lock lock(mutex_);
    identity->generation = ++next_generation_;
    auto it = std::find_if(merchants_.begin(), merchants_.end(),
                           [&](const auto& i) { return i->id == identity->id; });
    if (it != merchants_.end()) {
        *it = std::move(identity);
    } else {
        merchants_.push_back(std::move(identity));
    }
}

std::vector<std::shared_ptr<const SigningIdentity>> Identities::all() const {
    std::shared_lock lock(mutex_);
    std::vector<std::shared_ptr<const SigningIdentity>> out{default_};
    out.insert(out.end(), merchants_.begin(), merchants_.end());
    return out;
}

}  // namespace cardsmith::passkit
