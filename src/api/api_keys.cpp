#include "api/api_keys.hpp"

#include "common/random.hpp"
#include "crypto/hash.hpp"

namespace cardsmith::api {

NewApiKey generate_api_key() {
    NewApiKey k;
    k.key = "csk_" + random::base64url(32);
    k.hash = crypto::sha256_hex(k.key);
    k.prefix = k.key.substr(0, 8);
    return k;
}

}  // namespace cardsmith::api
