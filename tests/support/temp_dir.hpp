#pragma once
// A fresh directory under the system temp folder, removed with its contents at scope end.
#include <filesystem>
#include <string>

#include "common/random.hpp"

namespace cardsmith::test {

class TempDir {
public:
    TempDir()
        : path_(std::filesystem::temp_directory_path() / ("cardsmith-test-" + random::hex(8))) {
        std::filesystem::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

}  // namespace cardsmith::test
