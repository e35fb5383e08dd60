#pragma once
// A development PKI made once per test binary with `make_dev_certs` (the same code as
// `cardsmith dev-certs`) in a temp folder, and a PassSigner over it.
#include <memory>

#include "crypto/dev_certs.hpp"
#include "crypto/pass_signer.hpp"
#include "temp_dir.hpp"

namespace cardsmith::test {

struct DevPki {
    TempDir dir;
    crypto::DevCertsOptions options;
    std::shared_ptr<const crypto::PassSigner> signer;

    DevPki() {
        crypto::make_dev_certs(dir.path(), options);
        signer = crypto::PassSigner::from_files((dir.path() / "pass.pem").string(),
                                                (dir.path() / "pass.key").string(),
                                                (dir.path() / "wwdr.pem").string());
    }
    [[nodiscard]] std::string root() const { return (dir.path() / "root-ca.pem").string(); }

    static DevPki& shared() {
        static DevPki pki;
        return pki;
    }
};

}  // namespace cardsmith::test
