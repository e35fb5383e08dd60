#include "domain/enrollment.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>

#include "domain/holder.hpp"

namespace cardsmith::domain {
namespace json = boost::json;
namespace {

constexpr std::string_view kFields[] = {"name", "phone", "email", "birthday"};

FieldMode& field(EnrollmentSettings& s, std::string_view name) {
    if (name == "name") return s.name;
    if (name == "phone") return s.phone;
    if (name == "email") return s.email;
    return s.birthday;
}

FieldMode mode_of(const EnrollmentSettings& s, std::string_view name) {
    if (name == "name") return s.name;
    if (name == "phone") return s.phone;
    if (name == "email") return s.email;
    return s.birthday;
}

int number(std::string_view digits) {
    int v = -1;
    auto [p, err] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    return err == std::errc{} && p == digits.data() + digits.size() ? v : -1;
}

}  // namespace

std::string_view to_string(FieldMode mode) {
    switch (mode) {
        case FieldMode::off:
            return "off";
        case FieldMode::optional:
            return "optional";
        case FieldMode::required:
            return "required";
    }
    return "off";
}

json::object enrollment_to_json(const EnrollmentSettings& s) {
    json::object fields;
    for (auto name : kFields) {
        fields[name] = to_string(mode_of(s, name));
    }
    json::object out{{"fields", std::move(fields)}};
    out["termsUrl"] = s.terms_url.empty() ? json::value(nullptr) : json::value(s.terms_url);
    out["language"] = s.language.empty() ? json::value(nullptr) : json::value(s.language);
    return out;
}

EnrollmentSettings enrollment_from_json(const json::value& value, std::vector<Problem>& problems) {
    EnrollmentSettings s;
    const auto* o = value.if_object();
    if (o == nullptr) {
        problems.push_back({"enrollment", "must be an object"});
        return s;
    }
    for (const auto& [key, v] : *o) {
        if (key != "fields" && key != "termsUrl" && key != "language") {
            problems.push_back({std::string(key), "unknown property"});
        }
    }
    if (const auto* f = o->if_contains("fields")) {
        if (!f->is_object()) {
            problems.push_back({"fields", "must be an object"});
        } else {
            for (const auto& [key, v] : f->as_object()) {
                const std::string name(key);
                if (std::find(std::begin(kFields), std::end(kFields), name) == std::end(kFields)) {
                    problems.push_back({"fields." + name, "unknown field"});
                    continue;
                }
                const auto* mode = v.if_string();
                if (mode != nullptr && *mode == "off") {
                    field(s, name) = FieldMode::off;
                } else if (mode != nullptr && *mode == "optional") {
                    field(s, name) = FieldMode::optional;
                } else if (mode != nullptr && *mode == "required") {
                    field(s, name) = FieldMode::required;
                } else {
                    problems.push_back({"fields." + name, "must be off, optional or required"});
                }
            }
        }
    }
    if (const auto* t = o->if_contains("termsUrl"); t != nullptr && !t->is_null()) {
        const auto* url = t->if_string();
        if (url == nullptr || url->size() > 500 ||
            !(url->starts_with("https://") || url->starts_with("http://")) ||
            !is_clean_text(*url) || url->find(' ') != json::string::npos) {
            problems.push_back({"termsUrl", "must be an http(s) URL of at most 500 characters"});
        } else {
            s.terms_url = std::string(*url);
        }
    }
    if (const auto* l = o->if_contains("language"); l != nullptr && !l->is_null()) {
        const auto* lang = l->if_string();
        if (lang == nullptr || (*lang != "en" && *lang != "ru")) {
            problems.push_back({"language", "must be en or ru"});
        } else {
            s.language = std::string(*lang);
        }
    }
    return s;
}

bool is_valid_birthday(std::string_view t, int current_year) {
    if (t.size() != 10 || t[4] != '-' || t[7] != '-') {
        return false;
    }
    const int y = number(t.substr(0, 4));
    const int m = number(t.substr(5, 2));
    const int d = number(t.substr(8, 2));
    if (y < 1900 || y > current_year || m < 1 || m > 12 || d < 1) {
        return false;
    }
    static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    const int max = m == 2 ? (leap ? 29 : 28) : kDays[m - 1];
    return d <= max;
}

}  // namespace cardsmith::domain
