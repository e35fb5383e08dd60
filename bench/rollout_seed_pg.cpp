// seed_cards_postgres (rollout_seed.hpp): the SQLite seeder's rows, by COPY.
#include <libpq-fe.h>

#include <chrono>
#include <memory>
#include <stdexcept>

#include "rollout_seed.hpp"

namespace cardsmith::bench {
namespace {

using ConnPtr = std::unique_ptr<PGconn, decltype(&PQfinish)>;
using ResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;

ResultPtr exec(PGconn* c, const std::string& sql, ExecStatusType expect = PGRES_COMMAND_OK) {
    ResultPtr r(PQexec(c, sql.c_str()), &PQclear);
    if (PQresultStatus(r.get()) != expect) {
        throw std::runtime_error("seed: " + sql + ": " + PQresultErrorMessage(r.get()));
    }
    return r;
}

std::int64_t scalar(PGconn* c, const std::string& sql) {
    auto r = exec(c, sql, PGRES_TUPLES_OK);
    if (PQntuples(r.get()) != 1) {
        throw std::runtime_error("seed: " + sql + ": no row");
    }
    return std::stoll(PQgetvalue(r.get(), 0, 0));
}

// COPY `table (columns)` FROM STDIN with `rows` (text format, tab-separated, one per line;
// our values hold no tab, newline or backslash).
void copy(PGconn* c, const std::string& table, const std::string& rows) {
    exec(c, "COPY " + table + " FROM STDIN", PGRES_COPY_IN);
    if (PQputCopyData(c, rows.data(), static_cast<int>(rows.size())) != 1 ||
        PQputCopyEnd(c, nullptr) != 1) {
        throw std::runtime_error("seed: COPY " + table + ": " + PQerrorMessage(c));
    }
    ResultPtr r(PQgetResult(c), &PQclear);
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
        throw std::runtime_error("seed: COPY " + table + ": " + PQresultErrorMessage(r.get()));
    }
    while (PGresult* more = PQgetResult(c)) {
        PQclear(more);
    }
}

}  // namespace

SeedResult seed_cards_postgres(const SeedOptions& o, const std::string& url) {
    const auto start = std::chrono::steady_clock::now();
    ConnPtr conn(PQconnectdb(url.c_str()), &PQfinish);
    PGconn* c = conn.get();
    if (PQstatus(c) != CONNECTION_OK) {
        throw std::runtime_error("seed: " + std::string(PQerrorMessage(c)));
    }
    const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    const std::string now_s = std::to_string(now_ms / 1000);
    const std::int64_t seq0 =
        scalar(c, "SELECT value FROM counters WHERE name = 'pass_update_seq'");
    const std::int64_t index0 = scalar(c, "SELECT COUNT(*) FROM cards");
    const std::int64_t card0 = scalar(c, "SELECT COALESCE(MAX(id), 0) FROM cards");
    const std::int64_t device0 = scalar(c, "SELECT COALESCE(MAX(id), 0) FROM devices");

    SeedResult r;
    for (std::size_t done = 0; done < o.cards;) {
        const std::size_t end = std::min(o.cards, done + o.per_transaction);
        std::string cards, devices, registrations;
        for (; done < end; ++done) {
            const auto i = static_cast<std::uint64_t>(index0) + done;
            const SeedRow row = seed_row(o, i);
            const std::string card_id = std::to_string(card0 + static_cast<std::int64_t>(done) + 1);
            const std::string device_id =
                std::to_string(device0 + static_cast<std::int64_t>(done) + 1);
            cards += card_id + '\t' + std::to_string(o.program_id) + '\t' + row.card_number + '\t' +
                     row.serial + '\t' + row.auth_token + '\t' + row.email + "\t0\t0\t" +
                     std::to_string(seq0 + static_cast<std::int64_t>(done) + 1) + '\t' + now_s +
                     '\t' + now_s + "\tapi\t" + row.referral_code + "\t0\t" +
                     std::to_string(o.design_version) + '\n';
            devices += device_id + '\t' + row.library_id + '\t' + now_s + '\n';
            registrations += device_id + '\t' + card_id + '\t' + o.pass_type_id + '\t' +
                             row.push_token + '\t' + std::to_string(now_ms) + '\t' + now_s +
                             "\tapple\n";
            ++r.cards;
            ++r.registrations;
        }
        exec(c, "BEGIN");
        copy(c,
             "cards (id, program_id, card_number, serial, auth_token, holder_email, balance, "
             "lifetime_points, update_seq, modified_at, created_at, source, referral_code, "
             "verified, design_version)",
             cards);
        copy(c, "devices (id, library_id, created_at)", devices);
        copy(c,
             "registrations (device_id, card_id, pass_type_id, push_token, token_at, created_at, "
             "wallet)",
             registrations);
        exec(c, "COMMIT");
        ++r.transactions;
    }
    const auto n = static_cast<std::int64_t>(o.cards);
    exec(c,
         "SELECT setval(pg_get_serial_sequence('cards', 'id'), " + std::to_string(card0 + n) + ")",
         PGRES_TUPLES_OK);
    exec(c,
         "SELECT setval(pg_get_serial_sequence('devices', 'id'), " + std::to_string(device0 + n) +
             ")",
         PGRES_TUPLES_OK);
    exec(c, "UPDATE counters SET value = " + std::to_string(seq0 + n) +
                " WHERE name = 'pass_update_seq'");
    exec(c, "ANALYZE");
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return r;
}

}  // namespace cardsmith::bench
