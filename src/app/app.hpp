#pragma once
// The composition root: builds storage, signing, the pass service, the router and the
// HTTP server from the configuration, owns the io_context and the thread pools, and runs
// until SIGTERM/SIGINT, then shuts down gracefully (stop accepting, finish in-flight
// requests within server.shutdown_grace, exit).
#include <memory>

#include "config/config.hpp"

namespace cardsmith::app {

// A start-up failure caused by configuration or key files: exit status 2, one line.
class StartupError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class App {
public:
    explicit App(config::Config cfg);  // throws StartupError / config::ConfigError
    ~App();
    App(const App&) = delete;
    App& operator=(const App&) = delete;

    int run();  // blocks until shut down; returns the exit status

    struct Impl;  // the composition's parts (app.cpp only)

private:
    std::unique_ptr<Impl> impl_;
};

// Opens the store named in the config and applies pending migrations; returns the
// schema version. Used by `cardsmith migrate` and at server start.
int migrate(const config::Config& cfg);

// `cardsmith push --serial S` / `--program SLUG`: bumps the pass's (every pass of the
// program's) update tag and queues an update push to every device holding it, through
// the outbox (a running server sends them within its poll interval). Returns the pushes
// queued, or -1 when no such card or program exists.
int queue_update_push(const config::Config& cfg, const std::string& serial,
                      const std::string& program = {});

}  // namespace cardsmith::app
