#pragma once
// The dispatcher's Sender over an APNs client (one per identity).
#include <memory>
#include <utility>

#include "apns/client.hpp"
#include "push/dispatcher.hpp"

namespace cardsmith::push {

class ApnsSender final : public Sender {
public:
    explicit ApnsSender(std::shared_ptr<apns::Client> client) : client_(std::move(client)) {}
    void send(Delivery delivery, Completion done) override {
        client_->async_push(std::move(delivery.push),
                            [done = std::move(done)](apns::PushResult r) { done(std::move(r)); });
    }
    [[nodiscard]] apns::Client& client() { return *client_; }

private:
    std::shared_ptr<apns::Client> client_;
};

}  // namespace cardsmith::push
