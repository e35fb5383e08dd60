#pragma once
// Files holding secrets (private keys, the server key, a key's passphrase) as the server
// reads them: one function, used for every such file, that refuses a file other users may
// read or write. A stolen key is worse than a server that does not start, and the check is
// the one OpenSSH applies to identity files, with PostgreSQL's allowance for a root-owned
// file its service group may read (a package or an orchestrator installs keys that way).
// Pure functions of the file system; thread-safe.
#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace cardsmith::crypto {

// Why a file with `mode` owned by `owner`, read by a process running as `self`, is too open:
// "" when it is fine. Fine: no permission for others and none for the group (0600, 0400),
// or a file of root's that the group may only read (0640, 0440) when `self` is not root.
[[nodiscard]] std::string open_permissions_problem(mode_t mode, uid_t owner, uid_t self);

// The whole of a secret file (at most `max_size` bytes), checked with
// open_permissions_problem on the opened descriptor. Throws CryptoError with one line naming
// the file and, for open permissions, the fix ("<file>: readable by group or others (mode
// 0644); run chmod 600 <file>"). nullopt only when `missing_ok` and the file does not exist.
[[nodiscard]] std::optional<std::string> read_secret_file(const std::filesystem::path& file,
                                                          std::size_t max_size,
                                                          bool missing_ok = false);

// The passphrase in `file` (read_secret_file), without one trailing "\n" or "\r\n".
[[nodiscard]] std::string read_passphrase_file(const std::filesystem::path& file);

}  // namespace cardsmith::crypto
