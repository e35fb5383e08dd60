#include "apns/client.hpp"

#include "apns/pool.hpp"

namespace cardsmith::apns {

Client::Client(net::any_io_executor executor, ClientOptions options, Credentials credentials)
    : executor_(executor),
      pool_(std::make_shared<detail::Pool>(std::move(executor), std::move(options),
                                           std::move(credentials))) {}

Client::~Client() { pool_->shutdown(true); }

void Client::shutdown() { pool_->shutdown(false); }

ClientStats Client::stats() const { return pool_->stats(); }

void Client::submit(Push push, detail::PushOp::Handler handler,
                    const net::any_io_executor& executor) {
    pool_->submit(std::move(push), std::move(handler), executor);
}

}  // namespace cardsmith::apns
