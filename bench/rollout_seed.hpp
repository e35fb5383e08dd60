#pragma once
// Bulk set-up for rollout_bench and instances_bench: N cards on one program, each with one
// Apple device registered for it, written straight into the server's database (SQLite:
// while the server is stopped), a few big transactions in all. The API would take hours
// for a million cards and devices on 2 cores (push_bench: 6,200 cards/s and 6,500
// registrations/s), and none of it is what the benchmark measures. Rows look like the
// server's own: a Luhn card number, a 22-character serial, a 32-character auth token, an
// 8-character referral code, the program's design version, a fresh update tag each (the
// pass_update_seq counter moves past them), a 32-hex device library id and a distinct
// 64-hex push token per device (scrambled, so the token indexes see random inserts as in
// production), wallet 'apple'. No events ('pass.installed') are written: nothing in a
// rollout reads them.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace cardsmith::bench {

struct SeedOptions {
    std::filesystem::path db;  // the server's SQLite file (migrated, server stopped)
    std::int64_t program_id = 0;
    std::int64_t design_version = 0;  // the program's current version
    std::size_t cards = 0;
    std::string pass_type_id;
    std::size_t per_transaction = 100'000;
    std::uint64_t salt = 0;  // varies the tokens between runs
    // Diagnosis: tokens that share a prefix and increase with the card (push_bench's), so
    // the outbox's token indexes see appends instead of random inserts.
    bool sorted_tokens = false;
};

struct SeedResult {
    double seconds = 0;
    std::size_t cards = 0;
    std::size_t registrations = 0;
    std::size_t transactions = 0;
};

// The values of card `i` (counted over the whole database), the same on both backends.
struct SeedRow {
    std::string card_number, serial, auth_token, email, referral_code;
    std::string library_id, push_token;  // its device
};
[[nodiscard]] SeedRow seed_row(const SeedOptions& options, std::uint64_t i);

// Throws std::runtime_error on any SQLite failure. Leaves the database in WAL mode with an
// empty WAL.
SeedResult seed_cards(const SeedOptions& options);

// The same rows in a PostgreSQL database (`url`, migrated; the server may run meanwhile):
// COPY into cards, devices and registrations with ids taken past the current ones (the
// identity sequences moved past them), one transaction per `per_transaction` cards, then
// the update-tag counter moved and ANALYZE (a database of that size would have been
// analysed by autovacuum long ago). rollout_seed_pg.cpp.
SeedResult seed_cards_postgres(const SeedOptions& options, const std::string& url);

}  // namespace cardsmith::bench
