#pragma once
// Shared by the benchmarks that run the real server: `cardsmith serve` as a child process
// (started on a config with a port file, stopped with SIGTERM), and what /proc tells about
// it and about this machine (resident memory, CPU time, load average, CPU model).
// Header-only; nothing here is thread-safe except the /proc readers, which only read.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace cardsmith::bench {

using Clock = std::chrono::steady_clock;

inline double secs(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

inline std::string read_text(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("model name", 0) == 0) {
            return line.substr(line.find(':') + 2);
        }
    }
    return "unknown";
}

inline std::string load_average() {
    std::ifstream in("/proc/loadavg");
    std::string a, b, c;
    in >> a >> b >> c;
    return a + " " + b + " " + c;
}

// A "Vm...:" line of /proc/<pid>/status in KB (VmRSS, VmHWM...); 0 when absent.
inline long proc_status_kb(pid_t pid, const char* field) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    const std::string key = std::string(field) + ":";
    for (std::string line; std::getline(in, line);) {
        if (line.rfind(key, 0) == 0) {
            return std::strtol(line.c_str() + key.size(), nullptr, 10);
        }
    }
    return 0;
}

// A field of /proc/<pid>/io (rchar, wchar: bytes through read/write system calls;
// write_bytes: bytes sent to the block device); 0 when absent.
inline double proc_io_bytes(pid_t pid, const char* field) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/io");
    const std::string key = std::string(field) + ":";
    for (std::string line; std::getline(in, line);) {
        if (line.rfind(key, 0) == 0) {
            return std::strtod(line.c_str() + key.size(), nullptr);
        }
    }
    return 0;
}

// CPU seconds every core spent busy so far (/proc/stat: user, nice, system, irq, softirq,
// steal), to tell what other processes used during a measurement.
inline double machine_busy_seconds() {
    std::ifstream in("/proc/stat");
    std::string cpu;
    double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
    in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
    return (user + nice + system + irq + softirq + steal) /
           static_cast<double>(sysconf(_SC_CLK_TCK));
}

// User + system CPU seconds of a process (fields 14 and 15 of /proc/<pid>/stat).
inline double process_cpu_seconds(pid_t pid) {
    const std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
    const auto close = stat.rfind(')');
    if (close == std::string::npos) {
        return 0;
    }
    std::istringstream rest(stat.substr(close + 2));
    std::vector<std::string> fields;
    for (std::string field; rest >> field;) {
        fields.push_back(field);
    }
    if (fields.size() <= 12) {
        return 0;
    }
    const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
    return (std::stod(fields[11]) + std::stod(fields[12])) / tick;
}

inline double self_cpu_seconds() {
    rusage self{};
    getrusage(RUSAGE_SELF, &self);
    auto tv = [](const timeval& v) {
        return static_cast<double>(v.tv_sec) + static_cast<double>(v.tv_usec) / 1e6;
    };
    return tv(self.ru_utime) + tv(self.ru_stime);
}

// fork + execv with stdout and stderr appended to `log_file`.
inline pid_t spawn(const std::vector<std::string>& argv, const std::filesystem::path& log_file) {
    const pid_t pid = fork();
    if (pid < 0) {
        throw std::runtime_error("fork failed");
    }
    if (pid == 0) {
        const int fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
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

// Exit status, or -1 when it is still running after `timeout` (then it is killed).
inline int wait_exit(pid_t pid, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        int status = 0;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        if (Clock::now() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

// `cardsmith serve --config <config>` as a child whose config writes its port to
// `port_file`; SIGTERM (then SIGKILL after 60 s) on stop() or destruction.
class ServerProcess {
public:
    ServerProcess(const std::string& binary, const std::filesystem::path& config,
                  const std::filesystem::path& port_file, const std::filesystem::path& log)
        : log_(log) {
        std::filesystem::remove(port_file);
        pid_ = spawn({binary, "serve", "--config", config.string()}, log_);
        const auto deadline = Clock::now() + std::chrono::seconds(60);
        for (;;) {
            const auto text = read_text(port_file);
            if (!text.empty() && text.back() == '\n') {
                port_ = static_cast<std::uint16_t>(std::stoi(text));
                return;
            }
            int status = 0;
            if (waitpid(pid_, &status, WNOHANG) == pid_ || Clock::now() > deadline) {
                pid_ = -1;
                throw std::runtime_error("server did not start: " + read_text(log_));
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }
    ~ServerProcess() { (void)stop(); }
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;

    // SIGTERM and wait; the exit status (-1: killed after the grace period; 0 if not running).
    int stop(std::chrono::milliseconds grace = std::chrono::seconds(60)) {
        if (pid_ <= 0) {
            return 0;
        }
        kill(pid_, SIGTERM);
        const int status = wait_exit(pid_, grace);
        pid_ = -1;
        return status;
    }
    [[nodiscard]] std::uint16_t port() const { return port_; }
    [[nodiscard]] pid_t pid() const { return pid_; }
    // True once the process has exited by itself (it is then reaped; stop() does nothing).
    [[nodiscard]] bool exited() {
        int status = 0;
        if (pid_ > 0 && waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
        }
        return pid_ <= 0;
    }

private:
    std::filesystem::path log_;
    pid_t pid_ = -1;
    std::uint16_t port_ = 0;
};

}  // namespace cardsmith::bench
