#include "cli/commands.hpp"

#include <filesystem>
#include <iostream>

#include "app/app.hpp"
#include "cli/failures.hpp"
#include "cli/ops_commands.hpp"
#include "config/config.hpp"
#include "crypto/crypto_error.hpp"
#include "crypto/dev_certs.hpp"
#include "domain/template_dir.hpp"
#include "storage/store.hpp"

namespace cardsmith::cli {
namespace {

constexpr const char* kDefaultConfig = "config/cardsmith.toml";

constexpr const char* kUsage = R"(usage: cardsmith <command> [options]

commands:
  serve [--config FILE]          run the server (default config/cardsmith.toml)
  dev-certs [--out DIR]          make a local test PKI (default certs/dev/)
  migrate [--config FILE]        bring the database schema up to date
  check-template DIR             validate a template folder
  push --serial S | --program SLUG [--config FILE]
                                 queue an update push to every device holding the pass
                                 (or any pass of the program); the server sends it
  outbox status [--config FILE] [--json]
                                 outbox rows by kind and state, due now, oldest pending
                                 age, and the newest dead rows
  outbox retry-dead [--config FILE]
                                 put dead outbox rows back to pending; prints how many
  identity list [--config FILE] [--json]
                                 Apple identities: pass type id, team id, owner,
                                 certificate expiry and days left
  backup --out FILE [--config FILE]
                                 copy the SQLite database to a new FILE while the
                                 server runs (PostgreSQL: use pg_dump)
  secret-key rotate [--config FILE]
                                 new server key: every secret sealed in the database
                                 re-sealed with it, the previous key kept in <file>.old
  --version                      print the version
  --help                         print this help

Every config key can be overridden by CARDSMITH_<SECTION>_<KEY>, e.g. CARDSMITH_SERVER_LISTEN.
)";

int usage_error(const std::string& message) {
    std::cerr << "cardsmith: " << message << " (see cardsmith --help)\n";
    return 2;
}

config::Config load_config(const std::string& path) {
    return config::load(path, config::process_environment());
}

// Parses "[--flag VALUE]" options; returns false (after printing) on a bad flag.
bool parse_flags(const std::vector<std::string>& args, std::size_t from, const std::string& flag,
                 std::string& value, int& status) {
    for (std::size_t i = from; i < args.size(); ++i) {
        if (args[i] == flag && i + 1 < args.size()) {
            value = args[++i];
        } else if (args[i].rfind(flag + "=", 0) == 0) {
            value = args[i].substr(flag.size() + 1);
        } else {
            status = usage_error("unknown or incomplete option '" + args[i] + "'");
            return false;
        }
    }
    return true;
}

}  // namespace

int serve(const std::string& config_path) {
    return report_failures([&] {
        app::App application(load_config(config_path));
        return application.run();
    });
}

int dev_certs(const std::string& out_dir, const std::string& config_path) {
    crypto::DevCertsOptions opts;
    // The pass identifiers come from the config when there is one, so the certificate
    // and the config agree.
    if (std::filesystem::exists(config_path)) {
        try {
            auto cfg = load_config(config_path);
            opts.pass_type_id = cfg.apple.pass_type_id;
            opts.team_id = cfg.apple.team_id;
        } catch (const config::ConfigError& e) {
            std::cerr << "cardsmith: " << e.what() << "\n";
            return 2;
        }
    }
    try {
        if (crypto::make_dev_certs(out_dir, opts)) {
            std::cout << "dev certificates written to " << out_dir << "\n";
        } else {
            std::cout << "dev certificates already exist in " << out_dir << "\n";
        }
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "cardsmith: " << out_dir << ": " << e.what() << "\n";
        return 1;
    }
}

int migrate(const std::string& config_path) {
    return report_failures([&] {
        int version = app::migrate(load_config(config_path));
        std::cout << "schema at version " << version << "\n";
        return 0;
    });
}

int push(const std::vector<std::string>& args) {
    std::string serial;
    std::string program;
    std::string config_path = kDefaultConfig;
    for (std::size_t i = 1; i < args.size(); ++i) {
        if (args[i] == "--serial" && i + 1 < args.size()) {
            serial = args[++i];
        } else if (args[i] == "--program" && i + 1 < args.size()) {
            program = args[++i];
        } else if (args[i] == "--config" && i + 1 < args.size()) {
            config_path = args[++i];
        } else {
            return usage_error("unknown or incomplete option '" + args[i] + "'");
        }
    }
    if (serial.empty() == program.empty()) {
        return usage_error("push needs --serial SERIAL or --program SLUG");
    }
    return report_failures([&] {
        int queued = app::queue_update_push(load_config(config_path), serial, program);
        if (queued < 0) {
            std::cerr << "cardsmith: no "
                      << (program.empty() ? "pass with serial '" + serial : "program '" + program)
                      << "'\n";
            return 1;
        }
        std::cout << "queued " << queued << " update push" << (queued == 1 ? "" : "es")
                  << (program.empty() ? " for pass " + serial : " for program " + program)
                  << (queued == 0 ? " (no device has registered it)" : "") << "\n";
        return 0;
    });
}

int check_template(const std::string& dir) {
    std::vector<domain::Problem> problems;
    (void)domain::load_template_dir(dir, problems);
    for (const auto& p : problems) {
        std::cout << dir << "/" << p.field << ": " << p.message << "\n";
    }
    if (problems.empty()) {
        std::cout << dir << ": ok\n";
        return 0;
    }
    return 1;
}

int run(const std::vector<std::string>& args) {
    if (args.empty()) {
        std::cerr << kUsage;
        return 2;
    }
    const std::string& cmd = args[0];
    int status = 0;
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
        std::cout << kUsage;
        return 0;
    }
    if (cmd == "--version") {
        std::cout << "cardsmith " << CARDSMITH_VERSION << "\n";
        return 0;
    }
    if (cmd == "serve" || cmd == "migrate") {
        std::string config_path = kDefaultConfig;
        if (!parse_flags(args, 1, "--config", config_path, status)) {
            return status;
        }
        return cmd == "serve" ? serve(config_path) : migrate(config_path);
    }
    if (cmd == "dev-certs") {
        std::string out = "certs/dev";
        if (!parse_flags(args, 1, "--out", out, status)) {
            return status;
        }
        return dev_certs(out, kDefaultConfig);
    }
    if (cmd == "push") {
        return push(args);
    }
    if (cmd == "outbox") {
        return outbox(args);
    }
    if (cmd == "identity") {
        return identity(args);
    }
    if (cmd == "backup") {
        return backup(args);
    }
    if (cmd == "secret-key") {
        return secret_key(args);
    }
    if (cmd == "check-template") {
        if (args.size() != 2) {
            return usage_error("check-template takes one folder");
        }
        return check_template(args[1]);
    }
    return usage_error("unknown command '" + cmd + "'");
}

}  // namespace cardsmith::cli
