#pragma once
// SQLite's schema migrations (storage/sql/migration.hpp).
#include <span>

#include "storage/sql/migration.hpp"

namespace cardsmith::storage::sqlite {

using sql::Migration;

[[nodiscard]] std::span<const Migration> migrations();

}  // namespace cardsmith::storage::sqlite
