#pragma once
// Runs the real `cardsmith` binary as a child process for integration tests: writes a
// config into a temp folder (own dev certificates, SQLite file, port 0 with a port
// file), starts `cardsmith serve`, waits until it listens, and stops it with SIGTERM.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "temp_dir.hpp"

namespace cardsmith::test {

struct CommandResult {
    int exit_code = -1;
    std::string out;  // stdout and stderr together
};

// Runs the cardsmith binary with `args` (and extra environment), waits, captures output.
[[nodiscard]] CommandResult run_cardsmith(const std::vector<std::string>& args,
                                          const std::map<std::string, std::string>& env = {},
                                          const std::filesystem::path& cwd = {});

[[nodiscard]] std::string cardsmith_binary();

class ServerProcess {
public:
    // `extra_toml` is appended to the generated config.
    // `certs_from`: a dev PKI folder to copy instead of making a fresh one (so a fake
    // APNs in the test can trust the same root).
    explicit ServerProcess(const std::string& extra_toml = "",
                           const std::map<std::string, std::string>& env = {},
                           const std::filesystem::path& certs_from = {});
    ~ServerProcess();
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;

    [[nodiscard]] unsigned short port() const { return port_; }
    [[nodiscard]] const std::filesystem::path& dir() const { return dir_.path(); }
    [[nodiscard]] std::filesystem::path db_path() const { return dir_.path() / "cardsmith.db"; }
    // Its storage.url: db_path() on SQLite, or a fresh PostgreSQL schema (test_db.hpp).
    [[nodiscard]] const std::string& storage_url() const { return storage_url_; }
    [[nodiscard]] std::string root_ca() const {
        return (dir_.path() / "certs/root-ca.pem").string();
    }
    [[nodiscard]] std::string public_url() const;
    [[nodiscard]] const std::string& admin_key() const { return admin_key_; }
    [[nodiscard]] std::string log() const;  // what the server printed so far

    // SIGTERM, then wait up to `timeout`; returns the exit status (-1 if it had to be killed).
    int stop(std::chrono::milliseconds timeout = std::chrono::seconds(15));
    // SIGKILL: no shutdown code runs (crash tests).
    void kill_hard();
    // Starts the server again on the same config and database (after stop or kill_hard);
    // it listens on a new port.
    void start();
    [[nodiscard]] bool running() const { return pid_ > 0; }
    [[nodiscard]] pid_t pid() const { return pid_; }  // for signals (SIGHUP); -1 when stopped

private:
    TempDir dir_;
    std::string storage_url_;
    std::map<std::string, std::string> env_;
    int runs_ = 0;
    pid_t pid_ = -1;
    unsigned short port_ = 0;
    std::string admin_key_ = "test-admin-key-0123456789abcdef";
};

}  // namespace cardsmith::test
