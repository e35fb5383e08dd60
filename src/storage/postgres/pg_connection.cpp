#include "storage/postgres/pg_connection.hpp"

#include <charconv>
#include <cstring>

#include "common/hex.hpp"
#include "storage/store.hpp"

namespace cardsmith::storage::postgres {
namespace {

[[noreturn]] void raise(const PGresult* r, PGconn* conn, std::string_view what) {
    std::string msg(what);
    msg += ": ";
    const char* text = r != nullptr ? PQresultErrorMessage(r) : PQerrorMessage(conn);
    msg += (text != nullptr && *text != '\0') ? text : "unknown PostgreSQL error";
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) {
        msg.pop_back();
    }
    const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    if (state != nullptr && std::strcmp(state, "23505") == 0) {
        throw sql::UniqueViolation(msg);
    }
    if (state != nullptr && std::strcmp(state, "23503") == 0) {
        throw sql::ForeignKeyViolation(msg);
    }
    if (state != nullptr &&
        (std::strcmp(state, "40P01") == 0 || std::strcmp(state, "40001") == 0)) {
        throw TransientConflict(msg);
    }
    throw StorageError(msg);
}

bool changes_rows(const PGresult* r) {
    const char* status = PQcmdStatus(const_cast<PGresult*>(r));
    for (const char* verb : {"INSERT", "UPDATE", "DELETE", "MERGE"}) {
        if (std::strncmp(status, verb, std::strlen(verb)) == 0) {
            return true;
        }
    }
    return false;
}

}  // namespace

std::string to_pg_parameters(std::string_view sql, int* count) {
    std::string out;
    out.reserve(sql.size() + 8);
    int highest = 0;
    char quote = 0;  // ' or " while inside a literal or a quoted identifier
    for (std::size_t i = 0; i < sql.size(); ++i) {
        const char ch = sql[i];
        if (quote != 0) {
            out += ch;
            if (ch == quote) {
                quote = 0;  // a doubled quote reopens at the next character
            }
            continue;
        }
        if (ch == '\'' || ch == '"') {
            quote = ch;
            out += ch;
            continue;
        }
        if (ch == '?') {
            std::size_t j = i + 1;
            int n = 0;
            while (j < sql.size() && sql[j] >= '0' && sql[j] <= '9') {
                n = n * 10 + (sql[j] - '0');
                ++j;
            }
            if (j == i + 1) {
                throw StorageError("SQL for PostgreSQL: a bare ? (write ?1, ?2...)");
            }
            highest = std::max(highest, n);
            out += '$';
            out.append(sql.substr(i + 1, j - i - 1));
            i = j - 1;
            continue;
        }
        out += ch;
    }
    if (count != nullptr) {
        *count = highest;
    }
    return out;
}

constexpr unsigned kInt8Oid = 20;
constexpr unsigned kByteaOid = 17;

PgStatement::PgStatement(PgConnection& conn, std::string name, std::string sql, int params)
    : conn_(conn),
      name_(std::move(name)),
      sql_(std::move(sql)),
      values_(static_cast<std::size_t>(params)),
      formats_(static_cast<std::size_t>(params), 0),
      types_(static_cast<std::size_t>(params), 0) {}

void PgStatement::set(int index, std::optional<std::string> value, bool binary, unsigned type) {
    if (index < 1 || static_cast<std::size_t>(index) > values_.size()) {
        throw StorageError("bind: parameter " + std::to_string(index) + " out of range");
    }
    const auto i = static_cast<std::size_t>(index - 1);
    values_[i] = std::move(value);
    formats_[i] = binary ? 1 : 0;
    if (!prepared_) {
        types_[i] = type;
    }
}

void PgStatement::bind_int(int index, std::int64_t value) {
    set(index, std::to_string(value), false, kInt8Oid);
}

void PgStatement::bind_text(int index, std::string_view text) {
    set(index, std::string(text), false, 0);
}

void PgStatement::bind_blob(int index, std::string_view bytes) {
    set(index, std::string(bytes), true, kByteaOid);
}

void PgStatement::bind_null(int index) { set(index, std::nullopt, false, 0); }

bool PgStatement::step() {
    if (row_ < 0) {
        conn_.ensure_open();
        if (!prepared_) {
            conn_.prepare_named(name_, sql_, types_);
            prepared_ = true;
        }
        result_ = conn_.run(name_, values_, formats_);
        row_ = 0;
    } else {
        ++row_;
    }
    return row_ < PQntuples(result_.get());
}

std::int64_t PgStatement::int64(int col) const {
    if (PQgetisnull(result_.get(), row_, col) != 0) {
        return 0;
    }
    const char* v = PQgetvalue(result_.get(), row_, col);
    const std::size_t n = std::strlen(v);
    if (n == 1 && (v[0] == 't' || v[0] == 'f')) {  // a boolean
        return v[0] == 't' ? 1 : 0;
    }
    std::int64_t out = 0;
    auto [end, ec] = std::from_chars(v, v + n, out);
    if (ec != std::errc() || end != v + n) {
        throw StorageError("column " + std::to_string(col) +
                           " is not an integer: " + std::string(v, std::min<std::size_t>(n, 40)));
    }
    return out;
}

std::string PgStatement::text(int col) const {
    if (PQgetisnull(result_.get(), row_, col) != 0) {
        return {};
    }
    return {PQgetvalue(result_.get(), row_, col),
            static_cast<std::size_t>(PQgetlength(result_.get(), row_, col))};
}

int PgStatement::columns() const { return PQnfields(result_.get()); }

bool PgStatement::is_null(int col) const { return PQgetisnull(result_.get(), row_, col) != 0; }

std::string PgStatement::blob(int col) const {
    // bytea in text results is hex: \x0a1b...
    const std::string hex = text(col);
    if (hex.empty()) {
        return {};
    }
    if (!hex.starts_with("\\x")) {
        throw StorageError("column " + std::to_string(col) + " is not bytea");
    }
    std::string bytes;
    bytes.reserve((hex.size() - 2) / 2);
    for (std::size_t i = 2; i + 1 < hex.size(); i += 2) {
        const int hi = hex_value(hex[i]);
        const int lo = hex_value(hex[i + 1]);
        if (hi < 0 || lo < 0) {
            throw StorageError("column " + std::to_string(col) + ": bad bytea hex");
        }
        bytes += static_cast<char>((hi << 4) | lo);
    }
    return bytes;
}

void PgStatement::reset() noexcept {
    result_.reset();
    row_ = -1;
    for (auto& v : values_) {
        v.reset();
    }
    std::fill(formats_.begin(), formats_.end(), 0);
    if (!prepared_) {
        std::fill(types_.begin(), types_.end(), 0U);
    }
}

PgConnection::PgConnection(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {
    if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
        // libpq's message names the host and the reason, never the password.
        std::string msg = conn_ != nullptr ? PQerrorMessage(conn_) : "out of memory";
        while (!msg.empty() && msg.back() == '\n') {
            msg.pop_back();
        }
        PQfinish(conn_);
        conn_ = nullptr;
        throw StorageError("PostgreSQL: " + msg);
    }
    exec("SET client_min_messages = warning");
}

PgConnection::~PgConnection() {
    cache_.clear();
    PQfinish(conn_);
}

PgResult PgConnection::check(PGresult* r, std::string_view what) {
    PgResult out(r);
    const auto status = r != nullptr ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        raise(r, conn_, what);
    }
    return out;
}

void PgConnection::ensure_open() {
    if (in_transaction_ || PQstatus(conn_) == CONNECTION_OK) {
        return;
    }
    PQreset(conn_);
    if (PQstatus(conn_) != CONNECTION_OK) {
        std::string msg = PQerrorMessage(conn_);
        while (!msg.empty() && msg.back() == '\n') {
            msg.pop_back();
        }
        throw StorageError("PostgreSQL: reconnecting: " + msg);
    }
    for (auto& [_, st] : cache_) {
        st->forget_prepared();
    }
    (void)check(PQexec(conn_, "SET client_min_messages = warning"), "exec");
}

void PgConnection::exec(const char* sql) {
    ensure_open();
    (void)check(PQexec(conn_, sql), "exec");
}

sql::StatementImpl* PgConnection::prepare_impl(const char* sql) {
    auto it = cache_.find(sql);
    if (it == cache_.end()) {
        int params = 0;
        std::string text = to_pg_parameters(sql, &params);
        std::string name = "s" + std::to_string(cache_.size() + 1);
        it = cache_
                 .emplace(sql, std::make_unique<PgStatement>(*this, std::move(name),
                                                             std::move(text), params))
                 .first;
    }
    return it->second.get();
}

void PgConnection::prepare_named(const std::string& name, const std::string& sql,
                                 const std::vector<unsigned>& types) {
    ensure_open();
    // The statement's opening in the error: which of the store's statements it was.
    (void)check(
        PQprepare(conn_, name.c_str(), sql.c_str(), static_cast<int>(types.size()), types.data()),
        "prepare " + sql.substr(0, 120));
}

PgResult PgConnection::run(const std::string& name,
                           const std::vector<std::optional<std::string>>& values,
                           const std::vector<int>& formats) {
    std::vector<const char*> ptrs(values.size());
    std::vector<int> lengths(values.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
        ptrs[i] = values[i] ? values[i]->data() : nullptr;
        lengths[i] = values[i] ? static_cast<int>(values[i]->size()) : 0;
    }
    auto r = check(PQexecPrepared(conn_, name.c_str(), static_cast<int>(values.size()), ptrs.data(),
                                  lengths.data(), formats.data(), 0),
                   "step");
    if (changes_rows(r.get())) {
        const char* n = PQcmdTuples(r.get());
        changes_ = (n != nullptr && *n != '\0') ? std::atoi(n) : 0;
    }
    return r;
}

std::int64_t PgConnection::last_insert_id() {
    auto r = check(PQexec(conn_, "SELECT lastval()"), "last_insert_id");
    return std::strtoll(PQgetvalue(r.get(), 0, 0), nullptr, 10);
}

void PgConnection::begin() {
    exec("BEGIN");
    in_transaction_ = true;
}

void PgConnection::commit() {
    exec("COMMIT");
    in_transaction_ = false;
}

void PgConnection::rollback() noexcept {
    PQclear(PQexec(conn_, "ROLLBACK"));
    in_transaction_ = false;
}

}  // namespace cardsmith::storage::postgres
