#pragma once
// A starter template folder (CONTRACT §4): template.json plus PNG images. Reading it is
// the one file access in `domain`; the CLI's check-template and program creation share it.
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "domain/design.hpp"

namespace cardsmith::domain {

struct TemplateFiles {
    Design design;
    std::string design_json;                    // template.json as read
    std::map<std::string, std::string> images;  // name ("icon@2x") → PNG bytes
};

// Reads and validates the folder; every problem goes into `problems` with the file name
// as its field.
[[nodiscard]] TemplateFiles load_template_dir(const std::filesystem::path& dir,
                                              std::vector<Problem>& problems);
// template.json's text, parsed and validated; problems name "template.json" (and the JSON
// path).
[[nodiscard]] Design parse_template_json(std::string_view text, std::vector<Problem>& problems);
// A template name usable as a folder name: [a-z0-9_-], 1-64 chars.
[[nodiscard]] bool is_template_name(std::string_view name);

}  // namespace cardsmith::domain
