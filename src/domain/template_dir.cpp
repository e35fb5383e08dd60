#include "domain/template_dir.hpp"

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "domain/images.hpp"

namespace cardsmith::domain {
namespace {
bool read_file(const std::filesystem::path& p, std::string& out) {
    std::ifstream in(p, std::ios::binary);
    if (!in) {
        return false;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    out = ss.str();
    return true;
}
}  // namespace

bool is_template_name(std::string_view name) {
    if (name.empty() || name.size() > 64) {
        return false;
    }
    for (char c : name) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
            return false;
        }
    }
    return true;
}

Design parse_template_json(std::string_view text, std::vector<Problem>& problems) {
    boost::system::error_code ec;
    auto value = boost::json::parse(text, ec);
    if (ec) {
        problems.push_back({"template.json", "is not valid JSON: " + ec.message()});
        return {};
    }
    std::vector<Problem> own;
    Design design = design_from_json(value, own);
    if (own.empty()) {
        validate_design(design, own);
    }
    for (auto& p : own) {
        problems.push_back({"template.json: " + p.field, p.message});
    }
    return design;
}

TemplateFiles load_template_dir(const std::filesystem::path& dir, std::vector<Problem>& problems) {
    TemplateFiles t;
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
        problems.push_back({dir.string(), "is not a folder"});
        return t;
    }
    auto json_path = dir / "template.json";
    if (!read_file(json_path, t.design_json)) {
        problems.push_back({"template.json", "is missing or unreadable"});
    } else {
        t.design = parse_template_json(t.design_json, problems);
    }
    for (const auto& name : all_image_names()) {
        std::string bytes;
        auto file = dir / image_file_name(name);
        if (!std::filesystem::exists(file, ec)) {
            continue;
        }
        if (!read_file(file, bytes)) {
            problems.push_back({image_file_name(name), "is unreadable"});
            continue;
        }
        if (auto why = check_image(name, bytes); !why.empty()) {
            problems.push_back({image_file_name(name), why});
            continue;
        }
        t.images.emplace(name, std::move(bytes));
    }
    for (const auto& name : required_images()) {
        if (!t.images.contains(name) && !std::filesystem::exists(dir / image_file_name(name), ec)) {
            problems.push_back({image_file_name(name),
                                "is required (Wallet refuses a pass "
                                "without the icon at 1x, 2x and 3x)"});
        }
    }
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        auto fname = entry.path().filename().string();
        if (fname == "template.json" || fname == "README.md") {
            continue;
        }
        auto stem = entry.path().stem().string();
        if (entry.path().extension() != ".png" || !is_image_name(stem)) {
            problems.push_back({fname,
                                "unexpected file (a template holds template.json and "
                                "icon/logo/strip/thumbnail PNGs)"});
        }
    }
    return t;
}

}  // namespace cardsmith::domain
