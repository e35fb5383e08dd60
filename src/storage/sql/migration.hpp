#pragma once
// A schema migration of one backend, applied in order; the version reached is kept in
// schema_migrations. Both backends carry the same versions (each in its own dialect). A
// migration is never edited once released: add a new one.
#include <span>

namespace cardsmith::storage::sql {

struct Migration {
    int version;
    const char* description;
    const char* sql;
};

}  // namespace cardsmith::storage::sql
