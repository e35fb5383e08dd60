#pragma once
// The operator's subcommands (docs/operations.md): `outbox status|retry-dead`,
// `identity list`, `backup` and `secret-key rotate`. `args` is the whole command line after the
// program name; each returns the process exit status (commands.hpp).
#include <string>
#include <vector>

namespace cardsmith::cli {

int outbox(const std::vector<std::string>& args);
int identity(const std::vector<std::string>& args);
int backup(const std::vector<std::string>& args);
int secret_key(const std::vector<std::string>& args);

}  // namespace cardsmith::cli
