#pragma once
// Always-on invariant check: a failed check is a bug, so it aborts with a message
// (STYLE.md "Errors"). Not for input validation.
#include <cstdio>
#include <cstdlib>

#define CARDSMITH_CHECK(cond)                                                               \
    do {                                                                                    \
        if (!(cond)) [[unlikely]] {                                                         \
            std::fprintf(stderr, "check failed: %s at %s:%d\n", #cond, __FILE__, __LINE__); \
            std::abort();                                                                   \
        }                                                                                   \
    } while (false)
