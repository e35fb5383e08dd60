// The store's per-day series for the console's charts and its card search
// (issue 6, see store.hpp).
#include "storage/sql/rows.hpp"
#include "storage/sql/sql_store.hpp"

namespace cardsmith::storage::sql {

std::vector<DailyStats> SqlStore::daily_stats(ProgramId program, std::int64_t since,
                                              std::int64_t offset) {
    auto c = lease();
    std::map<std::int64_t, DailyStats> days;
    auto day = [&](std::int64_t d) -> DailyStats& {
        auto& out = days[d];
        out.day = d;
        return out;
    };
    {
        auto st = c->prepare(
            "SELECT (created_at + ?3) / 86400, source, COUNT(*) FROM cards WHERE program_id = ?1 "
            "AND created_at >= ?2 GROUP BY 1, 2");
        st.bind(1, program.value()).bind(2, since).bind(3, offset);
        while (st.step()) {
            day(st.int64(0)).cards_by_source[st.text(1)] += st.int64(2);
        }
    }
    {
        auto st = c->prepare(
            "SELECT (created_at + ?3) / 86400, kind, COALESCE(wallet, 'apple'), COUNT(*) FROM "
            "events WHERE program_id = ?1 AND kind IN ('pass.installed', 'pass.removed') AND "
            "created_at >= ?2 GROUP BY 1, 2, 3");
        st.bind(1, program.value()).bind(2, since).bind(3, offset);
        while (st.step()) {
            auto& d = day(st.int64(0));
            (st.text(1) == "pass.installed" ? d.installs : d.removals)[st.text(2)] += st.int64(3);
        }
    }
    {
        auto st = c->prepare(
            "SELECT (t.created_at + ?3) / 86400, COUNT(*), "
            "SUM(CASE WHEN t.points > 0 THEN t.points ELSE 0 END), "
            "SUM(CASE WHEN t.points < 0 THEN -t.points ELSE 0 END) FROM transactions t "
            "JOIN cards c ON c.id = t.card_id WHERE c.program_id = ?1 AND t.created_at >= ?2 "
            "GROUP BY 1");
        st.bind(1, program.value()).bind(2, since).bind(3, offset);
        while (st.step()) {
            auto& d = day(st.int64(0));
            d.transactions = st.int64(1);
            d.points_earned = st.int64(2);
            d.points_redeemed = st.int64(3);
        }
    }
    {
        // 15-minute slots: whole-hour and half-hour UTC offsets cut days exactly.
        auto st = c->prepare(
            "SELECT (slot * 900 + ?3) / 86400, outcome, wallet, SUM(n) FROM push_counts WHERE "
            "program_id = ?1 AND slot >= ?2 / 900 GROUP BY 1, 2, 3");
        st.bind(1, program.value()).bind(2, since).bind(3, offset);
        while (st.step()) {
            day(st.int64(0)).pushes[st.text(1)][st.text(2)] += st.int64(3);
        }
    }
    std::vector<DailyStats> out;
    for (auto& [_, d] : days) {
        out.push_back(std::move(d));
    }
    return out;
}

std::vector<domain::Card> SqlStore::search_cards(ProgramId program, std::string_view query,
                                                 int limit) {
    // LIKE patterns with %, _ and the escape character itself escaped.
    std::string escaped;
    for (char ch : query) {
        if (ch == '%' || ch == '_' || ch == '\\') {
            escaped += '\\';
        }
        escaped += ch;
    }
    const std::string prefix = escaped + "%";
    const std::string contains = "%" + escaped + "%";
    auto c = lease();
    auto st = c->prepare(kCardSearch);
    st.bind(1, program.value())
        .bind(2, prefix)
        .bind(3, contains)
        .bind(4, std::int64_t{query.empty() ? 1 : 0})
        .bind(5, limit);
    std::vector<domain::Card> out;
    while (st.step()) {
        out.push_back(read_card(st));
    }
    return out;
}

}  // namespace cardsmith::storage::sql
