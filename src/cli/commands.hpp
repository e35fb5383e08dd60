#pragma once
// The `cardsmith` subcommands (CONTRACT §1). Each returns the process exit status:
// 0 success, 1 runtime failure, 2 bad usage or configuration (one line on stderr naming
// the flag, key or file).
#include <string>
#include <vector>

namespace cardsmith::cli {

int run(const std::vector<std::string>& args);

int serve(const std::string& config_path);
int dev_certs(const std::string& out_dir, const std::string& config_path);
int migrate(const std::string& config_path);
int check_template(const std::string& dir);

}  // namespace cardsmith::cli
