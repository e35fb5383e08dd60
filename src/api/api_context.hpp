#pragma once
// What the API and public-page handlers share, built by `app` at start-up: storage, the
// pass service, metrics, the starter templates and the bits of config they need.
// Everything here is either immutable or thread-safe.
#include <boost/json/object.hpp>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "apple/passkit/pass_service.hpp"
#include "crypto/secret_box.hpp"
#include "domain/template_dir.hpp"
#include "enroll/code_sender.hpp"
#include "google/callbacks.hpp"
#include "google/wallet.hpp"
#include "http/metrics.hpp"
#include "storage/database.hpp"

namespace cardsmith::api {

// A starter template loaded and checked at start-up, images hashed once.
struct StarterTemplate {
    std::string name;
    domain::TemplateFiles files;
    std::map<std::string, storage::StoredImage> images;
};

struct ApiContext {
    storage::Database& db;
    passkit::PassService& passes;
    http_server::Metrics& metrics;
    std::map<std::string, StarterTemplate> templates;
    std::string public_url;                     // no trailing slash
    std::optional<std::string> admin_key_hash;  // from config (SHA-256 hex), if set
    bool google_enabled = false;
    std::function<bool()> ready;  // /readyz: storage and signing usable
    // /readyz: further checks (push identities...) add members to the body and may clear
    // `ready`.
    std::function<void(boost::json::object& body, bool& ready)> readiness;
    std::function<void()> on_pushes_queued;  // wakes the push dispatcher (may be empty)

    // Apple identities uploaded by merchants (set by `app` after construction).
    const crypto::SecretBox* secrets = nullptr;                // seals private keys at rest
    std::shared_ptr<const crypto::PassSigner> default_signer;  // its WWDR checks uploads
    net::any_io_executor cpu;                                  // for key and chain checks
    // Loads a saved identity into the signing registry and the push channels; returns an
    // error message when it cannot be used.
    std::function<std::optional<std::string>(const domain::Identity&)> on_identity_saved;
    // Enrollment's verification codes (set by `app`; without a sender a program that asks
    // for verification answers 503 on its form).
    const enroll::CodeSender* codes = nullptr;
    storage::SendLimits code_limits;
    int max_code_attempts = 5;
    bool trust_forwarded_for = false;  // the client address is X-Forwarded-For's last one
    // Google Wallet, when configured (google.issuer_id and google.service_account).
    google::Wallet* google = nullptr;
    const google::CallbackVerifier* google_callbacks = nullptr;  // when google.callbacks
    std::function<void()> on_rollout_started;   // wakes the rollout runner (may be empty)
    std::function<void()> on_campaign_created;  // wakes the campaign runner (may be empty)
    // server.image_body_limit: the image upload route's body cap (413 above it); each image
    // kind's own byte limit then answers 422 naming it.
    std::size_t image_body_limit = 4 * 1024 * 1024;
    std::int64_t max_cards_per_program = 0;  // limits.max_cards_per_program (0: none)
};

}  // namespace cardsmith::api
