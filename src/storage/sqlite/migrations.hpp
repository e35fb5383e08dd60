#pragma once
// SQLite schema migrations, applied in order; the version reached is kept in
// schema_migrations. A migration is never edited once released: add a new one.
#include <span>

namespace cardsmith::storage::sqlite {

struct Migration {
    int version;
    const char* description;
    const char* sql;
};

[[nodiscard]] std::span<const Migration> migrations();

}  // namespace cardsmith::storage::sqlite
