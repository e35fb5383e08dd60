#include "crypto/key_file.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <system_error>

#include "crypto/crypto_error.hpp"

namespace cardsmith::crypto {
namespace {

[[noreturn]] void fail(const std::filesystem::path& file, const std::string& what, int error) {
    throw CryptoError(file.string() + ": " + what + ": " +
                      std::error_code(error, std::generic_category()).message());
}

std::string octal(mode_t mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
    return buf;
}

// Closes the descriptor on every path out.
struct Fd {
    int fd;
    ~Fd() {
        if (fd >= 0) {
            ::close(fd);
        }
    }
};

}  // namespace

std::string open_permissions_problem(mode_t mode, uid_t owner, uid_t self) {
    const mode_t others = mode & S_IRWXO;
    const mode_t group = mode & S_IRWXG;
    if (others == 0 && group == 0) {
        return {};
    }
    if (others == 0 && group == S_IRGRP && owner == 0 && self != 0) {
        return {};  // root's file, read by the service's group: root alone may change it
    }
    const bool readable = (mode & (S_IRGRP | S_IROTH)) != 0;
    const bool writable = (mode & (S_IWGRP | S_IWOTH)) != 0;
    std::string what = readable && writable ? "readable and writable"
                       : readable           ? "readable"
                       : writable           ? "writable"
                                            : "open";
    return what + " by group or others (mode " + octal(mode) + ")";
}

std::optional<std::string> read_secret_file(const std::filesystem::path& file, std::size_t max_size,
                                            bool missing_ok) {
    // The mode is checked on the descriptor that is read, so a file swapped in between
    // cannot slip through.
    const Fd f{::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY)};
    if (f.fd < 0) {
        if (errno == ENOENT && missing_ok) {
            return std::nullopt;
        }
        fail(file, "cannot open", errno);
    }
    struct stat st {};
    if (::fstat(f.fd, &st) != 0) {
        fail(file, "cannot stat", errno);
    }
    if (!S_ISREG(st.st_mode)) {
        throw CryptoError(file.string() + ": not a regular file");
    }
    if (auto problem = open_permissions_problem(st.st_mode, st.st_uid, ::geteuid());
        !problem.empty()) {
        throw CryptoError(file.string() + ": " + problem + "; run chmod 600 " + file.string());
    }
    std::string out(max_size + 1, '\0');
    std::size_t got = 0;
    while (got < out.size()) {
        const ssize_t n = ::read(f.fd, out.data() + got, out.size() - got);
        if (n > 0) {
            got += static_cast<std::size_t>(n);
        } else if (n == 0) {
            break;
        } else if (errno != EINTR) {
            const int error = errno;
            OPENSSL_cleanse(out.data(), out.size());
            fail(file, "cannot read", error);
        }
    }
    if (got > max_size) {
        OPENSSL_cleanse(out.data(), out.size());
        throw CryptoError(file.string() + ": larger than " + std::to_string(max_size) + " bytes");
    }
    out.resize(got);
    return out;
}

std::string read_passphrase_file(const std::filesystem::path& file) {
    constexpr std::size_t kMaxPassphrase = 1023;  // what OpenSSL's callbacks take
    std::string text = *read_secret_file(file, kMaxPassphrase + 2);
    if (text.ends_with('\n')) {
        text.pop_back();
        if (text.ends_with('\r')) {
            text.pop_back();
        }
    }
    if (text.empty() || text.size() > kMaxPassphrase) {
        OPENSSL_cleanse(text.data(), text.size());
        throw CryptoError(file.string() + ": the passphrase must be 1 to 1023 bytes");
    }
    return text;
}

}  // namespace cardsmith::crypto
