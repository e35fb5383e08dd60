#include "rollout_seed.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <stdexcept>

namespace cardsmith::bench {
namespace {

using DbPtr = std::unique_ptr<sqlite3, decltype(&sqlite3_close_v2)>;
using StatementPtr = std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)>;

[[noreturn]] void fail(sqlite3* db, const std::string& what) {
    throw std::runtime_error("seed: " + what + ": " + sqlite3_errmsg(db));
}

void exec(sqlite3* db, const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
        const std::string msg = err != nullptr ? err : "unknown error";
        sqlite3_free(err);
        throw std::runtime_error(std::string("seed: ") + sql + ": " + msg);
    }
}

StatementPtr prepare(sqlite3* db, const char* sql) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &raw, nullptr) != SQLITE_OK) {
        fail(db, sql);
    }
    return StatementPtr(raw, &sqlite3_finalize);
}

std::int64_t scalar(sqlite3* db, const char* sql) {
    auto st = prepare(db, sql);
    if (sqlite3_step(st.get()) != SQLITE_ROW) {
        fail(db, sql);
    }
    return sqlite3_column_int64(st.get(), 0);
}

void bind_text(sqlite3* db, sqlite3_stmt* st, int i, const std::string& v) {
    if (sqlite3_bind_text(st, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT) !=
        SQLITE_OK) {
        fail(db, "bind");
    }
}

void bind_int(sqlite3* db, sqlite3_stmt* st, int i, std::int64_t v) {
    if (sqlite3_bind_int64(st, i, v) != SQLITE_OK) {
        fail(db, "bind");
    }
}

void run(sqlite3* db, sqlite3_stmt* st, const char* what) {
    if (sqlite3_step(st) != SQLITE_DONE) {
        fail(db, what);
    }
    sqlite3_reset(st);
}

// splitmix64's finalizer: a bijection on 64 bits, so distinct inputs give distinct values.
std::uint64_t mix(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

// `words` scrambled 64-bit words of (salt, i) in hex; the first word alone is distinct per i.
std::string hex_of(std::uint64_t salt, std::uint64_t i, std::uint64_t words) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (std::uint64_t w = 0; w < words; ++w) {
        std::uint64_t v = mix((salt + w * 0x1000003ULL) ^ i);
        for (int d = 0; d < 16; ++d) {
            out += kHex[(v >> 60) & 0xf];
            v <<= 4;
        }
    }
    return out;
}

// `chars` URL-safe base64 characters from scrambled words of (salt, i). The first 10
// characters are 60 bits of a bijection of i: two of a million collide with probability
// 4e-7 (the UNIQUE index would then stop the set-up).
std::string base64url_of(std::uint64_t salt, std::uint64_t i, std::size_t chars) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    for (std::uint64_t w = 0; out.size() < chars; ++w) {
        std::uint64_t v = mix((salt + w * 0x1000003ULL) ^ i);
        for (int d = 0; d < 10 && out.size() < chars; ++d) {
            out += kAlphabet[(v >> 58) & 0x3f];
            v <<= 6;
        }
    }
    return out;
}

// i in 16 hex digits, most significant first.
std::string hex_index(std::uint64_t i) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out(16, '0');
    for (std::size_t at = 16; at > 0; --at, i >>= 4) {
        out[at - 1] = kHex[i & 0xf];
    }
    return out;
}

char luhn_digit(const std::string& digits) {
    int sum = 0;
    bool doubled = true;
    for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
        int d = *it - '0';
        if (doubled) {
            d = d * 2 > 9 ? d * 2 - 9 : d * 2;
        }
        sum += d;
        doubled = !doubled;
    }
    return static_cast<char>('0' + (10 - sum % 10) % 10);
}

// 16 digits: 8, the index in 14 digits, a Luhn check digit.
std::string card_number_of(std::uint64_t i) {
    std::string digits = "8" + std::string(14, '0');
    for (std::size_t at = digits.size() - 1; i > 0; --at, i /= 10) {
        digits[at] = static_cast<char>('0' + i % 10);
    }
    return digits + luhn_digit(digits);
}

// 8 characters of [0-9a-z], distinct per i below 36^7.
std::string referral_of(std::uint64_t i) {
    static constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    std::string out(8, '0');
    out[0] = 'r';
    for (std::size_t at = 7; at > 0; --at, i /= 36) {
        out[at] = kDigits[i % 36];
    }
    return out;
}

}  // namespace

SeedRow seed_row(const SeedOptions& o, std::uint64_t i) {
    SeedRow row;
    row.card_number = card_number_of(i + 1);
    row.serial = base64url_of(o.salt + 1, i, 22);
    row.auth_token = base64url_of(o.salt + 2, i, 32);
    row.email = "d" + std::to_string(i) + "@example.com";
    row.referral_code = referral_of(i);
    row.library_id = hex_of(o.salt + 3, i, 2);
    // Sorted: 48 hex digits shared by all, then the index.
    row.push_token =
        o.sorted_tokens ? hex_of(o.salt + 5, 0, 3) + hex_index(i) : hex_of(o.salt + 4, i, 4);
    return row;
}

SeedResult seed_cards(const SeedOptions& o) {
    const auto start = std::chrono::steady_clock::now();
    sqlite3* raw = nullptr;
    if (sqlite3_open_v2(o.db.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
        sqlite3_close_v2(raw);
        throw std::runtime_error("seed: cannot open " + o.db.string());
    }
    DbPtr db(raw, &sqlite3_close_v2);
    sqlite3* d = db.get();
    // Alone on the file: a rollback journal and no syncs make the bulk insert cheap; the
    // file goes back to WAL (what the server sets on every connection) at the end.
    exec(d, "PRAGMA journal_mode=DELETE");
    exec(d, "PRAGMA synchronous=OFF");
    exec(d, "PRAGMA cache_size=-524288");  // 512 MB, in this process

    const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    const std::int64_t now_s = now_ms / 1000;
    const std::int64_t seq0 =
        scalar(d, "SELECT value FROM counters WHERE name = 'pass_update_seq'");
    const std::int64_t index0 = scalar(d, "SELECT COUNT(*) FROM cards");

    auto card = prepare(
        d,
        "INSERT INTO cards (program_id, card_number, serial, auth_token, holder_email, balance, "
        "lifetime_points, update_seq, modified_at, created_at, source, referral_code, verified, "
        "design_version) VALUES (?1, ?2, ?3, ?4, ?5, 0, 0, ?6, ?7, ?7, 'api', ?8, 0, ?9)");
    auto device = prepare(d, "INSERT INTO devices (library_id, created_at) VALUES (?1, ?2)");
    auto registration = prepare(
        d,
        "INSERT INTO registrations (device_id, card_id, pass_type_id, push_token, token_at, "
        "created_at, wallet) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'apple')");

    SeedResult r;
    for (std::size_t done = 0; done < o.cards;) {
        const std::size_t end = std::min(o.cards, done + o.per_transaction);
        exec(d, "BEGIN IMMEDIATE");
        for (; done < end; ++done) {
            const auto i = static_cast<std::uint64_t>(index0) + done;
            const SeedRow row = seed_row(o, i);
            bind_int(d, card.get(), 1, o.program_id);
            bind_text(d, card.get(), 2, row.card_number);
            bind_text(d, card.get(), 3, row.serial);
            bind_text(d, card.get(), 4, row.auth_token);
            bind_text(d, card.get(), 5, row.email);
            bind_int(d, card.get(), 6, seq0 + static_cast<std::int64_t>(done) + 1);
            bind_int(d, card.get(), 7, now_s);
            bind_text(d, card.get(), 8, row.referral_code);
            bind_int(d, card.get(), 9, o.design_version);
            run(d, card.get(), "insert card");
            const std::int64_t card_id = sqlite3_last_insert_rowid(d);

            bind_text(d, device.get(), 1, row.library_id);
            bind_int(d, device.get(), 2, now_s);
            run(d, device.get(), "insert device");
            const std::int64_t device_id = sqlite3_last_insert_rowid(d);

            bind_int(d, registration.get(), 1, device_id);
            bind_int(d, registration.get(), 2, card_id);
            bind_text(d, registration.get(), 3, o.pass_type_id);
            bind_text(d, registration.get(), 4, row.push_token);
            bind_int(d, registration.get(), 5, now_ms);
            bind_int(d, registration.get(), 6, now_s);
            run(d, registration.get(), "insert registration");
            ++r.cards;
            ++r.registrations;
        }
        exec(d, "COMMIT");
        ++r.transactions;
    }
    const std::string bump =
        "UPDATE counters SET value = " + std::to_string(seq0 + static_cast<std::int64_t>(o.cards)) +
        " WHERE name = 'pass_update_seq'";
    exec(d, bump.c_str());
    card.reset();
    device.reset();
    registration.reset();
    exec(d, "PRAGMA journal_mode=WAL");
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return r;
}

}  // namespace cardsmith::bench
