#pragma once
// The Apple identities this server signs and pushes with: the default one from config
// (apple.*) and merchants' own, uploaded through the API. A program uses its merchant's
// identity when it names one, else the default. Thread-safe; entries are immutable and
// replaced whole on renewal.
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "apple/passkit/pass_json.hpp"
#include "common/ids.hpp"
#include "crypto/pass_signer.hpp"
#include "domain/models.hpp"

namespace cardsmith::passkit {

struct SigningIdentity {
    std::optional<IdentityId> id;  // none: the config's default identity
    std::optional<MerchantId> merchant;
    PassIdentity pass;  // pass type id, team id, web service URL
    std::shared_ptr<const crypto::PassSigner> signer;
    std::chrono::system_clock::time_point not_after;
    std::uint64_t generation = 0;  // distinct per loaded version (signed-pass cache key)
};

class Identities {
public:
    explicit Identities(std::shared_ptr<const SigningIdentity> default_identity);

    [[nodiscard]] std::shared_ptr<const SigningIdentity> default_identity() const;
    // The program's identity; nullptr when it names one that is not loaded.
    [[nodiscard]] std::shared_ptr<const SigningIdentity> for_program(
        const domain::Program& program) const;
    [[nodiscard]] std::shared_ptr<const SigningIdentity> by_pass_type(
        std::string_view pass_type_id) const;
    [[nodiscard]] std::shared_ptr<const SigningIdentity> by_id(IdentityId id) const;
    // Adds or replaces (same id) a merchant identity; sets its generation.
    void put(std::shared_ptr<SigningIdentity> identity);
    [[nodiscard]] std::vector<std::shared_ptr<const SigningIdentity>> all() const;

private:
    mutable std::shared_mutex mutex_;
    std::shared_ptr<const SigningIdentity> default_;
    std::vector<std::shared_ptr<const SigningIdentity>> merchants_;
    std::uint64_t next_generation_ = 1;
};

}  // namespace cardsmith::passkit
