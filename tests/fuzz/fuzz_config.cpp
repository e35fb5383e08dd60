// Fuzz target: the config loader. The input is a TOML file, then (after a NUL) environment
// lines "CARDSMITH_<SECTION>_<KEY>=value", given to config::parse as main gives the file
// and the process environment. Every bad file, key or value must come back as a
// ConfigError (exit status 2 with one line), never as another exception or a crash; an
// accepted config keeps the invariants the server relies on.
#include "config/config.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace cardsmith;
    const std::string_view text = fuzz::text_of(data, size);
    const auto nul = text.find('\0');
    const std::string_view toml = text.substr(0, nul);
    config::Environment env;
    if (nul != std::string_view::npos) {
        std::string_view lines = text.substr(nul + 1);
        while (!lines.empty()) {
            const auto end = lines.find('\n');
            const auto line = lines.substr(0, end);
            if (const auto eq = line.find('='); eq != std::string_view::npos) {
                env[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
            }
            lines = end == std::string_view::npos ? std::string_view() : lines.substr(end + 1);
        }
    }
    try {
        const auto cfg = config::parse(toml, "fuzz.toml", env);
        FUZZ_EXPECT(cfg.server.public_url.empty() || cfg.server.public_url.back() != '/');
        FUZZ_EXPECT(cfg.server.header_limit >= 1024 && cfg.server.body_limit >= 1024);
        FUZZ_EXPECT(cfg.storage.threads >= 1);
        FUZZ_EXPECT(!cfg.admin_key || cfg.admin_key->size() >= 16);
    } catch (const config::ConfigError& e) {
        const std::string_view message = e.what();
        if (message.find('\n') != std::string_view::npos) {
            std::fprintf(stderr, "ConfigError of more than one line: %s\n", e.what());
        }
        FUZZ_EXPECT(message.find('\n') == std::string_view::npos);
    }
    return 0;
}
