// `fake_relay`: runs the fake Android wallet push relays (fake_relay.hpp) until SIGINT or
// SIGTERM, for manual runs and load tests. Prints the listening port first, the counters
// every `--stats` seconds and once more on exit. Calls are counted, not kept.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "fake_relay.hpp"

namespace {

using cardsmith::test::FakeRelay;
using cardsmith::test::FakeRelayOptions;

constexpr std::string_view kUsage = R"(usage: fake_relay [options]
  --port N                 listen port on 127.0.0.1 (default 0 = ephemeral)
  --threads N              io_context threads (default 1)
  --walletunion-key KEY    Wallet Union `Authorization` key (default walletunion-test-key)
  --walletpasses-key KEY   Wallet Passes key (default: none required)
  --pass2u-key KEY         Pass2U `x-api-key` (default pass2u-test-key)
  --passworks-key KEY      Passworks key (default: none required)
  --hms-token TOKEN        seed an HMS token (repeatable; other tokens are FCM)
  --expired TOKEN          script an expired token (repeatable)
  --unknown TOKEN          script an unknown token (repeatable)
  --delay MS               answer every request after MS milliseconds
  --stats SECONDS          print counters periodically
)";

[[noreturn]] void usage_error(const std::string& message) {
    std::fprintf(stderr, "fake_relay: %s\n%.*s", message.c_str(), static_cast<int>(kUsage.size()),
                 kUsage.data());
    std::exit(2);
}

unsigned long to_number(std::string_view flag, const char* value) {
    char* end = nullptr;
    const unsigned long n = std::strtoul(value, &end, 10);
    if (end == value || *end != '\0') {
        usage_error(std::string(flag) + " needs a number");
    }
    return n;
}

struct Args {
    FakeRelayOptions options;
    std::vector<std::string> hms, expired, unknown;
    unsigned long delay_ms = 0;
    long stats_seconds = 0;
};

Args parse(int argc, char** argv) {
    Args a;
    a.options.record = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view flag = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) {
                usage_error(std::string(flag) + " needs a value");
            }
            return argv[++i];
        };
        if (flag == "--port") {
            a.options.port = static_cast<std::uint16_t>(to_number(flag, value()));
        } else if (flag == "--threads") {
            a.options.threads = static_cast<unsigned>(to_number(flag, value()));
        } else if (flag == "--walletunion-key") {
            a.options.walletunion_key = value();
        } else if (flag == "--walletpasses-key") {
            a.options.walletpasses_key = value();
        } else if (flag == "--pass2u-key") {
            a.options.pass2u_key = value();
        } else if (flag == "--passworks-key") {
            a.options.passworks_key = value();
        } else if (flag == "--hms-token") {
            a.hms.emplace_back(value());
        } else if (flag == "--expired") {
            a.expired.emplace_back(value());
        } else if (flag == "--unknown") {
            a.unknown.emplace_back(value());
        } else if (flag == "--delay") {
            a.delay_ms = to_number(flag, value());
        } else if (flag == "--stats") {
            a.stats_seconds = static_cast<long>(to_number(flag, value()));
        } else if (flag == "--help" || flag == "-h") {
            std::fwrite(kUsage.data(), 1, kUsage.size(), stdout);
            std::exit(0);
        } else {
            usage_error("unknown option " + std::string(flag));
        }
    }
    return a;
}

void print_stats(const FakeRelay& fake) {
    std::printf("requests=%zu connections_open=%zu connections_accepted=%zu\n", fake.count(),
                fake.connections_open(), fake.connections_accepted());
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) try {
    const Args args = parse(argc, argv);

    // Block the stop signals before the fake starts its threads so that only sigwait sees them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    FakeRelay fake(args.options);
    for (const auto& t : args.hms) fake.seed_hms_token(t);
    for (const auto& t : args.expired) fake.expire_token(t);
    for (const auto& t : args.unknown) fake.unknown_token(t);
    fake.set_delay(std::chrono::milliseconds(args.delay_ms));
    std::printf("%u\n", static_cast<unsigned>(fake.port()));
    std::printf(
        "fake_relay listening on %s (walletunion, walletpasses, pass2u, passwallet, "
        "passworks)\n",
        fake.base_url().c_str());
    std::fflush(stdout);

    for (;;) {
        int signal = 0;
        if (args.stats_seconds > 0) {
            const timespec timeout{args.stats_seconds, 0};
            signal = sigtimedwait(&stop_signals, nullptr, &timeout);
        } else if (sigwait(&stop_signals, &signal) != 0) {
            signal = -1;
        }
        if (signal == SIGINT || signal == SIGTERM) {
            break;
        }
        print_stats(fake);
    }
    std::printf("fake_relay stopping: ");
    print_stats(fake);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "fake_relay: %s\n", e.what());
    return 1;
}
