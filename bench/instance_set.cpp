#include "instance_set.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "http_client.hpp"
#include "storage/postgres/pg_connection.hpp"
#include "storage/sqlite/sqlite_handle.hpp"

namespace cardsmith::bench {

namespace fs = std::filesystem;

namespace {

// A port free now (bound to 0, read, closed): each instance keeps its port across restarts,
// as behind a load balancer.
std::uint16_t free_port() {
    net::io_context ioc;
    tcp::acceptor a(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    return a.local_endpoint().port();
}

}  // namespace

InstanceSet::InstanceSet(InstanceSetOptions options) : options_(std::move(options)) {
    fs::create_directories(options_.dir);
    const auto& o = options_;
    for (unsigned i = 0; i < o.instances; ++i) {
        std::ofstream out(config(i));
        // A name of its own on its outbox claims, kept across restarts (server.instance).
        out << "[server]\nlisten = \"127.0.0.1:" << free_port() << "\"\n"
            << "instance = \"bench-" << i << "\"\n"
            << "port_file = \"" << (o.dir / ("port-" + std::to_string(i))).string() << "\"\n"
            << "threads = " << o.threads << "\ncpu_threads = " << o.threads << "\n"
            << "secret_key_file = \"" << (o.dir / "secret.key").string() << "\"\n"
            << "[storage]\nurl = \"" << o.storage_url << "\"\n"
            << (o.storage_threads > 0 ? "threads = " + std::to_string(o.storage_threads) + "\n"
                                      : std::string())
            << "[admin]\nkey = \"" << o.admin_key << "\"\n"
            << "[apple]\n"
            << "cert = \"" << (o.certs / "pass.pem").string() << "\"\n"
            << "key = \"" << (o.certs / "pass.key").string() << "\"\n"
            << "wwdr = \"" << (o.certs / "wwdr.pem").string() << "\"\n"
            << "[templates]\ndir = \"" << o.templates_dir << "\"\n"
            << "[apns]\nhost = \"127.0.0.1\"\nport = " << o.apns_port << "\n"
            << "ca_file = \"" << (o.certs / "root-ca.pem").string() << "\"\n"
            << "connections = " << o.apns_connections << "\n"
            << "[log]\nlevel = \"warn\"\n"
            // The server's throughput, not its abuse limits, is measured.
            << "[limits]\nip_per_minute = 0\nkey_per_minute = 0\nauth_failures = 0\n"
            << "joins_per_hour = 0\n";
    }
}

InstanceSet::~InstanceSet() {
    for (auto& s : servers_) {
        (void)s->stop();
    }
}

fs::path InstanceSet::config(unsigned i) const {
    return options_.dir / ("instance-" + std::to_string(i) + ".toml");
}

fs::path InstanceSet::log(unsigned i) const {
    return options_.dir / ("instance-" + std::to_string(i) + ".log");
}

void InstanceSet::migrate() {
    const pid_t pid = spawn({options_.binary, "migrate", "--config", config(0).string()}, log(0));
    const int status = wait_exit(pid, std::chrono::minutes(5));
    if (status != 0) {
        throw std::runtime_error("cardsmith migrate exited with " + std::to_string(status) + ": " +
                                 read_text(log(0)));
    }
}

void InstanceSet::start(unsigned count) {
    for (unsigned i = running(); i < count && i < options_.instances; ++i) {
        servers_.push_back(std::make_unique<ServerProcess>(
            options_.binary, config(i), options_.dir / ("port-" + std::to_string(i)), log(i)));
    }
}

void InstanceSet::stop() {
    std::string failed;
    for (std::size_t i = 0; i < servers_.size(); ++i) {
        const int status = servers_[i]->stop();
        if (status != 0) {
            failed += " instance " + std::to_string(i) + " exited with " + std::to_string(status);
        }
    }
    servers_.clear();
    if (!failed.empty()) {
        throw std::runtime_error("stopping the servers:" + failed);
    }
}

void InstanceSet::restart_last() {
    const unsigned i = running() - 1;
    const int status = servers_.back()->stop();
    servers_.pop_back();
    if (status != 0) {
        throw std::runtime_error("instance " + std::to_string(i) + " exited with " +
                                 std::to_string(status));
    }
    start(i + 1);
    // A start can fail after the port is bound (the dispatcher's start-up): watch it a while.
    const auto until = Clock::now() + std::chrono::seconds(3);
    while (Clock::now() < until) {
        if (servers_.back()->exited()) {
            servers_.pop_back();
            const auto text = read_text(log(i));
            throw std::runtime_error("instance " + std::to_string(i) + " exited after its start: " +
                                     text.substr(text.size() > 1500 ? text.size() - 1500 : 0));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

std::vector<tcp::endpoint> InstanceSet::endpoints() const {
    std::vector<tcp::endpoint> out;
    for (const auto& s : servers_) {
        out.emplace_back(net::ip::make_address("127.0.0.1"), s->port());
    }
    return out;
}

double InstanceSet::cpu_seconds() const {
    double sum = 0;
    for (const auto& s : servers_) {
        sum += process_cpu_seconds(s->pid());
    }
    return sum;
}

double InstanceSet::delivered_pushes(unsigned i) const {
    test::Client client(port(i));
    const auto res = client.get("/metrics");
    std::istringstream in(res.body());
    double sum = 0;
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("cardsmith_pushes_total{", 0) == 0 &&
            line.find("outcome=\"delivered\"") != std::string::npos) {
            sum += std::stod(line.substr(line.rfind(' ') + 1));
        }
    }
    return sum;
}

std::string InstanceSet::error_lines() const {
    std::size_t n = 0;
    std::string first;
    for (unsigned i = 0; i < options_.instances; ++i) {
        std::istringstream in(read_text(log(i)));
        for (std::string line; std::getline(in, line);) {
            if (line.find(" error ") != std::string::npos) {
                if (n++ == 0) {
                    first = "instance " + std::to_string(i) + ": " + line;
                }
            }
        }
    }
    return n == 0 ? "none" : std::to_string(n) + ", first: " + first.substr(0, 400);
}

std::unique_ptr<storage::sql::Connection> connect_db(const std::string& url) {
    if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
        return std::make_unique<storage::postgres::PgConnection>(url);
    }
    return std::make_unique<storage::sqlite::SqliteConnection>(
        url.starts_with("sqlite:") ? url.substr(7) : url, 5000);
}

std::int64_t query_number(const std::string& storage_url, const std::string& sql) {
    auto c = connect_db(storage_url);
    auto st = c->prepare(sql.c_str());
    return st.step() ? st.int64(0) : 0;
}

std::string outbox_states(const std::string& storage_url) {
    static constexpr const char* kSql =
        "SELECT state, COUNT(*) FROM outbox GROUP BY state ORDER BY state";
    auto c = connect_db(storage_url);
    auto st = c->prepare(kSql);
    std::string out;
    while (st.step()) {
        out += (out.empty() ? "" : ", ") + st.text(0) + " " + std::to_string(st.int64(1));
    }
    return out.empty() ? "empty" : out;
}

}  // namespace cardsmith::bench
