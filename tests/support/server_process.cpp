#include "server_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "test_db.hpp"

namespace cardsmith::test {
namespace {

std::string read_all(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// fork + exec with stdout/stderr to `log_file`; environment = ours + `env`.
pid_t spawn(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
            const std::filesystem::path& log_file, const std::filesystem::path& cwd) {
    pid_t pid = fork();
    if (pid < 0) {
        throw std::runtime_error("fork failed");
    }
    if (pid == 0) {
        int fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) {
            dup2(devnull, 0);
            close(devnull);
        }
        if (!cwd.empty() && chdir(cwd.c_str()) != 0) {
            _exit(127);
        }
        for (const auto& [k, v] : env) {
            setenv(k.c_str(), v.c_str(), 1);
        }
        std::vector<char*> args;
        for (const auto& a : argv) {
            args.push_back(const_cast<char*>(a.c_str()));
        }
        args.push_back(nullptr);
        execv(args[0], args.data());
        _exit(127);
    }
    return pid;
}

int wait_exit(pid_t pid, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        int status = 0;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        if (std::chrono::steady_clock::now() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

}  // namespace

std::string cardsmith_binary() { return std::string(CARDSMITH_BINARY_DIR) + "/cardsmith"; }

CommandResult run_cardsmith(const std::vector<std::string>& args,
                            const std::map<std::string, std::string>& env,
                            const std::filesystem::path& cwd) {
    TempDir tmp;
    auto log_file = tmp.path() / "out.log";
    std::vector<std::string> argv{cardsmith_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    pid_t pid = spawn(argv, env, log_file, cwd);
    CommandResult r;
    r.exit_code = wait_exit(pid, std::chrono::seconds(60));
    r.out = read_all(log_file);
    return r;
}

ServerProcess::ServerProcess(const std::string& extra_toml,
                             const std::map<std::string, std::string>& env,
                             const std::filesystem::path& certs_from)
    : env_(env) {
    auto certs = dir_.path() / "certs";
    if (certs_from.empty()) {
        auto made = run_cardsmith({"dev-certs", "--out", certs.string()}, {}, dir_.path());
        if (made.exit_code != 0) {
            throw std::runtime_error("dev-certs failed: " + made.out);
        }
    } else {
        std::filesystem::copy(certs_from, certs, std::filesystem::copy_options::recursive);
    }
    // A second instance on another's database names it in CARDSMITH_STORAGE_URL.
    const auto shared = env_.find("CARDSMITH_STORAGE_URL");
    storage_url_ = shared != env_.end() ? shared->second : test_storage_url(db_path());
    auto config = dir_.path() / "cardsmith.toml";
    std::ofstream(config) << "[server]\n"
                          << "listen = \"127.0.0.1:0\"\n"
                          << "threads = 2\n"
                          << "cpu_threads = 2\n"
                          << "port_file = \"" << (dir_.path() / "port").string() << "\"\n"
                          << "shutdown_grace = 5\n"
                          << "[storage]\nurl = \"" << storage_url_ << "\"\n"
                          << "[admin]\nkey = \"" << admin_key_ << "\"\n"
                          << "[apple]\n"
                          << "cert = \"" << (certs / "pass.pem").string() << "\"\n"
                          << "key = \"" << (certs / "pass.key").string() << "\"\n"
                          << "wwdr = \"" << (certs / "wwdr.pem").string() << "\"\n"
                          << "[templates]\ndir = \"" << CARDSMITH_SOURCE_DIR << "/templates\"\n"
                          << extra_toml;
    start();
}

void ServerProcess::start() {
    std::filesystem::remove(dir_.path() / "port");
    auto config = dir_.path() / "cardsmith.toml";
    // Appends, so the log of an earlier run survives a restart.
    pid_ = spawn({cardsmith_binary(), "serve", "--config", config.string()}, env_,
                 dir_.path() / ("server" + std::to_string(++runs_) + ".log"), dir_.path());
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (;;) {
        auto text = read_all(dir_.path() / "port");
        if (!text.empty() && text.back() == '\n') {
            port_ = static_cast<unsigned short>(std::stoi(text));
            break;
        }
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("server exited at start-up: " + log());
        }
        if (std::chrono::steady_clock::now() > deadline) {
            stop();
            throw std::runtime_error("server did not start: " + log());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

ServerProcess::~ServerProcess() {
    if (pid_ > 0) {
        stop();
    }
}

std::string ServerProcess::public_url() const { return "http://127.0.0.1:8080"; }

std::string ServerProcess::log() const {
    std::string out;
    for (int i = 1; i <= runs_; ++i) {
        out += read_all(dir_.path() / ("server" + std::to_string(i) + ".log"));
    }
    return out;
}

void ServerProcess::kill_hard() {
    if (pid_ <= 0) {
        return;
    }
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
}

int ServerProcess::stop(std::chrono::milliseconds timeout) {
    if (pid_ <= 0) {
        return -1;
    }
    kill(pid_, SIGTERM);
    int code = wait_exit(pid_, timeout);
    pid_ = -1;
    return code;
}

}  // namespace cardsmith::test
