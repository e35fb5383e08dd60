#pragma once
// `cardsmith dev-certs` (CONTRACT §1): a local test PKI made with OpenSSL's API.
// Files written into `out` (created with 0700; keys 0600):
//   root-ca.pem / root-ca.key     self-signed root CA
//   wwdr.pem / wwdr.key           intermediate CA standing in for Apple's WWDR G4
//   pass.pem / pass.key           pass certificate: subject UID=<pass_type_id>,
//                                 CN=Pass Type ID: <pass_type_id>, OU=<team_id>,
//                                 O=Cardsmith Dev, C=US; extension 1.2.840.113635.100.6.1.16
//                                 and EKU 1.2.840.113635.100.4.14, like Apple's
//   server.pem / server.key       TLS server cert for localhost / 127.0.0.1 (SAN),
//                                 issued by the root, for local fakes (APNs, Google)
//   client.pem / client.key       TLS client cert issued by the root (fake APNs tests)
//   google-service-account.json   Google-style service account with an RSA key
// Keys are RSA-2048.
#include <filesystem>
#include <string>

namespace cardsmith::crypto {

struct DevCertsOptions {
    std::string pass_type_id = "pass.dev.cardsmith";
    std::string team_id = "DEVTEAM123";
    int valid_days = 825;
};

// Returns false (and touches nothing) when `out/pass.pem` already exists; true when
// it made the set. Throws CryptoError (or std::filesystem::filesystem_error) on failure.
bool make_dev_certs(const std::filesystem::path& out, const DevCertsOptions& options);

}  // namespace cardsmith::crypto
