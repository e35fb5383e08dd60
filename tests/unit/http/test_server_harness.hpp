#pragma once
// What the server tests' fixtures share (test_server.cpp, test_server_tls.cpp): a Server
// on 127.0.0.1, port 0, run by two io threads of its own io_context, stopped with a grace
// period and drained at the end. A fixture derives from it, adds its routes to router(),
// then calls start(options). Owned by the test case; the accessors are for the test's
// thread, the server runs on the io threads.
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "http/server.hpp"

namespace cardsmith::http_server::test {

class ServerHarness {
public:
    ServerHarness(const ServerHarness&) = delete;
    ServerHarness& operator=(const ServerHarness&) = delete;

    [[nodiscard]] tcp::endpoint endpoint() const { return server_->local_endpoint(); }
    [[nodiscard]] Server& server() { return *server_; }
    [[nodiscard]] Metrics& metrics() { return metrics_; }

    // Calls stop(); the returned future is ready once on_drained ran.
    std::shared_future<void> stop(std::chrono::milliseconds grace) {
        stopped_ = true;
        auto drained = std::make_shared<std::promise<void>>();
        std::shared_future<void> done = drained->get_future().share();
        server_->stop(grace, [drained] { drained->set_value(); });
        return done;
    }

protected:
    // `drain_wait`: how long shutdown() waits for the server to drain (grace 1 s).
    explicit ServerHarness(std::chrono::milliseconds drain_wait) : drain_wait_(drain_wait) {}
    ~ServerHarness() { shutdown(); }

    [[nodiscard]] Router& router() { return router_; }

    // Starts the server with the routes added so far, and the io threads.
    void start(ServerOptions options) {
        server_ = std::make_unique<Server>(ioc_, std::move(options), router_, metrics_);
        server_->start(tcp::endpoint{net::ip::make_address("127.0.0.1"), 0});
        for (int i = 0; i < 2; ++i) {
            threads_.emplace_back([this] { ioc_.run(); });
        }
    }

    // Stops the server (unless the test did), waits for it to drain, stops the io threads.
    // A fixture whose handlers use its own members calls it first in its destructor, so
    // that no handler runs once those are gone; later calls do nothing.
    void shutdown() {
        if (server_ != nullptr && !stopped_) {
            static_cast<void>(stop(std::chrono::seconds(1)).wait_for(drain_wait_));
        }
        work_.reset();
        ioc_.stop();
        for (auto& t : threads_) {
            t.join();
        }
        threads_.clear();
    }

private:
    std::chrono::milliseconds drain_wait_;
    net::io_context ioc_;
    std::optional<net::executor_work_guard<net::io_context::executor_type>> work_{
        ioc_.get_executor()};
    Router router_;
    Metrics metrics_;
    std::unique_ptr<Server> server_;
    std::vector<std::thread> threads_;
    bool stopped_ = false;
};

}  // namespace cardsmith::http_server::test
