#pragma once
// How a subcommand that failed says so (docs/operations.md, operator commands): a config the
// command cannot start with is 2, a failure while it works (the database, a backup, a key
// rotation, anything else) is 1, each with one line on stderr. One place for serve,
// migrate, push and the operator's commands.
#include <exception>
#include <iostream>

#include "app/app.hpp"
#include "app/operations.hpp"
#include "config/config.hpp"
#include "storage/store.hpp"

namespace cardsmith::cli {

// Runs `work` (returning the exit status) and turns what it throws into a status.
template <typename Work>
int report_failures(Work&& work) {
    try {
        return work();
    } catch (const config::ConfigError& e) {
        std::cerr << "cardsmith: " << e.what() << "\n";
        return 2;
    } catch (const app::StartupError& e) {
        std::cerr << "cardsmith: " << e.what() << "\n";
        return 2;
    } catch (const app::RotationError& e) {
        std::cerr << "cardsmith: secret-key rotate: " << e.what() << "\n";
        return 1;
    } catch (const storage::StorageError& e) {
        std::cerr << "cardsmith: storage.url: " << e.what() << "\n";
        return 1;
    } catch (const std::exception& e) {  // app::BackupUnsupported among them
        std::cerr << "cardsmith: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace cardsmith::cli
