// BOOST_ASSERT in the fuzz build (BOOST_ENABLE_ASSERT_HANDLER, cmake/Toolchain.cmake): a
// failed assertion aborts with its place, as assert() does, so libFuzzer keeps the input.
// One assertion is known to be false and is let through: Boost 1.81's HTTP parser asserts
// `n >= 5` in parse_chunk_header when a chunked body's first chunk is the final one ("0\r\n")
// and its end arrives in pieces, where 3 or 4 bytes are valid; the code after it handles
// them right, and Release builds (NDEBUG) never check it (boostorg/beast#2861, corrected
// upstream in 2024; Debian 12 ships 1.81). fuzz_http_request reaches it with split reads.
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace boost {

void assertion_failed(char const* expr, char const* function, char const* file, long line) {
    if (std::string_view(expr) == "n >= 5" &&
        std::string_view(file).ends_with("boost/beast/http/impl/basic_parser.ipp")) {
        return;
    }
    std::fprintf(stderr, "%s:%ld: %s: Assertion `%s' failed.\n", file, line, function, expr);
    std::abort();
}

void assertion_failed_msg(char const* expr, char const* msg, char const* function, char const* file,
                          long line) {
    std::fprintf(stderr, "%s:%ld: %s: Assertion `%s' failed: %s\n", file, line, function, expr,
                 msg);
    std::abort();
}

}  // namespace boost
