// Server key rotation (operations.hpp). The order of the steps keeps every sealed value
// openable from the files on disk whatever step a crash interrupts:
//  1. In one transaction, values sealed only with an older key (<file>.old: an interrupted
//     rotation, or a value an instance sealed before it noticed the last rotation) are
//     re-sealed with the current key, and every value is checked to open: a value that
//     opens with no key stops the rotation before anything changed.
//  2. The current key is written to <file>.old, then a new key replaces <file> (each file
//     written whole and renamed into place).
//  3. In one transaction every value is re-sealed with the new key. Until it commits the
//     database holds values of the old key, which <file>.old still opens; a crash before
//     then is finished by running the command again.
// Running instances read the files again every server.sync_interval and whenever a value
// does not open, and keep the keys they had: they open values of either key meanwhile.
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/app.hpp"
#include "app/operations.hpp"
#include "crypto/crypto_error.hpp"
#include "crypto/secret_box.hpp"
#include "enroll/code_sender.hpp"
#include "marketing/webhook_sender.hpp"

namespace cardsmith::app {
namespace {

using storage::SealedSecret;

// The associated data each kind of value was sealed with (where it is sealed: the identity,
// webhook and enrollment handlers).
std::string associated_data(const SealedSecret& s) {
    switch (s.kind) {
        case SealedSecret::Kind::identity_key:
            return s.pass_type_id;
        case SealedSecret::Kind::identity_relay_keys:
            return "relay-keys:" + std::to_string(s.row);
        case SealedSecret::Kind::webhook_secret:
            return marketing::webhook_secret_context(s.merchant);
        case SealedSecret::Kind::verification_secret:
            return enroll::webhook_secret_context(ProgramId(s.row));
    }
    return {};
}

std::string describe(const SealedSecret& s) {
    switch (s.kind) {
        case SealedSecret::Kind::identity_key:
            return "the private key of identity " + s.pass_type_id;
        case SealedSecret::Kind::identity_relay_keys:
            return "the relay keys of identity " + s.pass_type_id;
        case SealedSecret::Kind::webhook_secret:
            return "the secret of webhook " + std::to_string(s.row);
        case SealedSecret::Kind::verification_secret:
            return "the verification webhook secret of program " + std::to_string(s.row);
    }
    return "a sealed value";
}

// `plain` sealed with `box`, the plaintext wiped.
std::string reseal_with(const crypto::SecretBox& box, std::string plain, const std::string& ad) {
    std::string out = box.seal(plain, ad);
    OPENSSL_cleanse(plain.data(), plain.size());
    return out;
}

}  // namespace

SecretKeyRotation rotate_secret_key(const config::Config& cfg) {
    const std::filesystem::path file = cfg.server.secret_key_file;
    std::filesystem::path old_file = file;
    old_file += ".old";
    std::optional<crypto::SecretBox> current;
    struct stat st {};
    try {
        current.emplace(crypto::SecretBox::from_file(file, false));
        if (::stat(file.c_str(), &st) != 0) {
            throw crypto::CryptoError(file.string() + ": cannot stat");
        }
    } catch (const crypto::CryptoError& e) {
        throw StartupError(std::string("server.secret_key_file: ") + e.what());
    }
    auto store = open_for_operations(cfg);
    SecretKeyRotation out;
    out.old_key_id = current->key_id();

    out.caught_up = store->reseal_secrets([&](const SealedSecret& s) -> std::optional<std::string> {
        const std::string ad = associated_data(s);
        if (current->sealed_with_current_key(s.sealed, ad)) {
            return std::nullopt;
        }
        auto plain = current->open(s.sealed, ad);
        if (!plain) {
            throw RotationError(describe(s) + " opens neither with " + file.string() +
                                " nor with " + old_file.string() + ": nothing was changed");
        }
        return reseal_with(*current, std::move(*plain), ad);
    });

    // The new file keeps the old one's owner (a rotation run as root for a service user)
    // and a read-only mode if it had one.
    const mode_t mode = (st.st_mode & 0777) == 0400 ? 0400 : 0600;
    const auto owner =
        ::geteuid() == 0 ? std::optional(std::pair(st.st_uid, st.st_gid)) : std::nullopt;
    const crypto::SecretBox next = crypto::SecretBox::generate();
    try {
        current->save(old_file, 0600, owner);
        next.save(file, mode, owner);
    } catch (const crypto::CryptoError& e) {
        throw RotationError(std::string(e.what()) + " (the database was not changed)");
    }
    out.new_key_id = next.key_id();

    const crypto::SecretBox ring = next.with_previous(*current);
    try {
        out.resealed = store->reseal_secrets([&](const SealedSecret& s) {
            const std::string ad = associated_data(s);
            auto plain = ring.open(s.sealed, ad);
            if (!plain) {
                throw RotationError(describe(s) + " does not open");
            }
            return std::optional<std::string>(reseal_with(next, std::move(*plain), ad));
        });
    } catch (const std::exception& e) {
        throw RotationError(std::string(e.what()) + "; the new key is in " + file.string() +
                            " and the previous one in " + old_file.string() +
                            ", which still opens every value: run the command again");
    }
    return out;
}

}  // namespace cardsmith::app
