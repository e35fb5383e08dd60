#pragma once
// What the fuzz targets share: the input as text, the starter templates' designs (a real
// program to validate and lint against), and the check that stops a run on a broken
// property (a crash libFuzzer records, with the input, like any other).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "domain/template_dir.hpp"

namespace cardsmith::fuzz {

inline std::string_view text_of(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

// A property every input must keep; a failure aborts, so libFuzzer saves the input.
#define FUZZ_EXPECT(cond)                                                                    \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                    \
        }                                                                                    \
    } while (false)

// templates/<name>: must load without problems (the fuzzers need a real design).
inline domain::TemplateFiles starter_template(const std::string& name) {
    std::vector<domain::Problem> problems;
    auto files = domain::load_template_dir(std::string(CARDSMITH_SOURCE_DIR) + "/templates/" + name,
                                           problems);
    if (!problems.empty()) {
        std::fprintf(stderr, "templates/%s: %s: %s\n", name.c_str(), problems[0].field.c_str(),
                     problems[0].message.c_str());
        std::abort();
    }
    return files;
}

inline const domain::Design& coffee_design() {
    static const domain::Design design = starter_template("coffee").design;
    return design;
}

inline const domain::Design& beauty_design() {
    static const domain::Design design = starter_template("beauty").design;
    return design;
}

}  // namespace cardsmith::fuzz
