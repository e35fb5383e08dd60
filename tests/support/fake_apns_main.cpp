// `fake-apns`: runs the fake APNs (fake_apns.hpp) until SIGINT/SIGTERM, for manual use and
// for h2load ceiling runs. Prints the listening port first, the push counters every
// `--stats` seconds and once more on exit. Pushes are counted, not kept (unless --record).
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "crypto/dev_certs.hpp"
#include "fake_apns.hpp"

namespace {

using cardsmith::testing::FakeApns;
using cardsmith::testing::FakeApnsOptions;

constexpr std::string_view kUsage = R"(usage: fake-apns [options]
  --cert FILE --key FILE   server certificate chain and key (PEM)
  --ca FILE                CA that verifies client certificates
  --dev-certs DIR          use DIR/server.pem, server.key, root-ca.pem (made if missing)
  --no-client-cert         do not require a client certificate (h2load has none)
  --address ADDR           listen address (default 127.0.0.1)
  --port N                 listen port (default 0 = ephemeral)
  --port-file FILE         also write the port to FILE
  --threads N              io_context threads (default 1)
  --max-streams N          SETTINGS_MAX_CONCURRENT_STREAMS (default 1000)
  --stats SECONDS          print counters periodically
  --record                 keep every push in memory (default: count only)
)";

struct Args {
    FakeApnsOptions options;
    std::string dev_certs;
    std::string port_file;
    long stats_seconds = 0;
};

[[noreturn]] void usage_error(std::string_view message) {
    std::fprintf(stderr, "fake-apns: %.*s\n%.*s", static_cast<int>(message.size()), message.data(),
                 static_cast<int>(kUsage.size()), kUsage.data());
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
        if (flag == "--cert") {
            a.options.cert_file = value();
        } else if (flag == "--key") {
            a.options.key_file = value();
        } else if (flag == "--ca") {
            a.options.ca_file = value();
        } else if (flag == "--dev-certs") {
            a.dev_certs = value();
        } else if (flag == "--no-client-cert") {
            a.options.require_client_cert = false;
        } else if (flag == "--address") {
            a.options.address = value();
        } else if (flag == "--port") {
            a.options.port = static_cast<std::uint16_t>(to_number(flag, value()));
        } else if (flag == "--port-file") {
            a.port_file = value();
        } else if (flag == "--threads") {
            a.options.threads = static_cast<unsigned>(to_number(flag, value()));
        } else if (flag == "--max-streams") {
            a.options.max_concurrent_streams = static_cast<unsigned>(to_number(flag, value()));
        } else if (flag == "--stats") {
            a.stats_seconds = static_cast<long>(to_number(flag, value()));
        } else if (flag == "--record") {
            a.options.record = true;
        } else if (flag == "--help" || flag == "-h") {
            std::fwrite(kUsage.data(), 1, kUsage.size(), stdout);
            std::exit(0);
        } else {
            usage_error("unknown option " + std::string(flag));
        }
    }
    if (!a.dev_certs.empty()) {
        const std::filesystem::path dir(a.dev_certs);
        cardsmith::crypto::make_dev_certs(dir, cardsmith::crypto::DevCertsOptions{});
        a.options.cert_file = (dir / "server.pem").string();
        a.options.key_file = (dir / "server.key").string();
        a.options.ca_file = (dir / "root-ca.pem").string();
    }
    if (a.options.cert_file.empty() || a.options.key_file.empty()) {
        usage_error("--cert and --key (or --dev-certs) are required");
    }
    return a;
}

void print_stats(const FakeApns& fake, std::chrono::steady_clock::time_point since,
                 std::size_t since_count) {
    const std::size_t total = fake.count();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
    const double rate = seconds > 0 ? static_cast<double>(total - since_count) / seconds : 0.0;
    std::printf("pushes=%zu ok=%zu connections_open=%zu connections_accepted=%zu rate=%.0f/s\n",
                total, fake.count_ok(), fake.connections_open(), fake.connections_accepted(), rate);
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

    FakeApns fake(args.options);
    std::printf("fake-apns listening on %s port %u (client certificate %s)\n",
                args.options.address.c_str(), static_cast<unsigned>(fake.port()),
                args.options.require_client_cert ? "required" : "optional");
    std::fflush(stdout);
    if (!args.port_file.empty()) {
        std::ofstream(args.port_file) << fake.port() << '\n';
    }

    auto since = std::chrono::steady_clock::now();
    std::size_t since_count = 0;
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
        print_stats(fake, since, since_count);
        since = std::chrono::steady_clock::now();
        since_count = fake.count();
    }
    std::printf("fake-apns stopping: ");
    print_stats(fake, since, since_count);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "fake-apns: %s\n", e.what());
    return 1;
}
