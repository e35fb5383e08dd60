#include "domain/design.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>
#include <set>

#include "domain/holder.hpp"

namespace cardsmith::domain {
namespace json = boost::json;
namespace {

constexpr std::size_t kMaxText = 500;
constexpr std::size_t kMaxBackText = 4000;

std::string get_string(const json::object& o, std::string_view key, const std::string& path,
                       std::vector<Problem>& problems, bool required) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) {
        if (required) {
            problems.push_back({path + std::string(key), "is required"});
        }
        return {};
    }
    if (!v->is_string()) {
        problems.push_back({path + std::string(key), "must be a string"});
        return {};
    }
    return std::string(v->as_string());
}

std::int64_t get_int(const json::object& o, std::string_view key, const std::string& path,
                     std::vector<Problem>& problems, std::int64_t fallback) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr) {
        return fallback;
    }
    if (v->is_int64()) {
        return v->as_int64();
    }
    if (v->is_uint64() && v->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
        return static_cast<std::int64_t>(v->as_uint64());
    }
    problems.push_back({path + std::string(key), "must be an integer"});
    return fallback;
}

void parse_colors(const json::object& root, Design& d, std::vector<Problem>& problems) {
    const json::value* v = root.if_contains("colors");
    if (v == nullptr) {
        return;
    }
    if (!v->is_object()) {
        problems.push_back({"colors", "must be an object"});
        return;
    }
    const auto& o = v->as_object();
    for (const auto& [k, val] : o) {
        std::string path = "colors." + std::string(k);
        Rgb* target = k == "background"   ? &d.background
                      : k == "foreground" ? &d.foreground
                      : k == "label"      ? &d.label
                                          : nullptr;
        if (target == nullptr) {
            problems.push_back({path, "unknown colour (background, foreground, label)"});
            continue;
        }
        auto rgb = val.is_string() ? parse_hex_color(val.as_string()) : std::nullopt;
        if (!rgb) {
            problems.push_back({path, "must be a colour like \"#1A2B3C\""});
            continue;
        }
        *target = *rgb;
    }
}

void parse_fields(const json::object& root, Design& d, std::vector<Problem>& problems) {
    const json::value* v = root.if_contains("fields");
    if (v == nullptr) {
        return;
    }
    if (!v->is_object()) {
        problems.push_back({"fields", "must be an object"});
        return;
    }
    for (const auto& [group, list] : v->as_object()) {
        auto it = std::find(kFieldGroupNames.begin(), kFieldGroupNames.end(), group);
        std::string gpath = "fields." + std::string(group);
        if (it == kFieldGroupNames.end()) {
            problems.push_back({gpath,
                                "unknown field group (header, primary, secondary, "
                                "auxiliary, back)"});
            continue;
        }
        if (!list.is_array()) {
            problems.push_back({gpath, "must be an array"});
            continue;
        }
        auto& out = d.fields.at(static_cast<std::size_t>(it - kFieldGroupNames.begin()));
        std::size_t i = 0;
        for (const auto& item : list.as_array()) {
            std::string path = gpath + "[" + std::to_string(i++) + "].";
            if (!item.is_object()) {
                problems.push_back({path.substr(0, path.size() - 1), "must be an object"});
                continue;
            }
            const auto& f = item.as_object();
            for (const auto& [k, _] : f) {
                if (k != "key" && k != "label" && k != "value" && k != "changeMessage") {
                    problems.push_back({path + std::string(k), "unknown field property"});
                }
            }
            PassField pf;
            pf.key = get_string(f, "key", path, problems, true);
            pf.label = get_string(f, "label", path, problems, false);
            pf.value = get_string(f, "value", path, problems, true);
            pf.change_message = get_string(f, "changeMessage", path, problems, false);
            out.push_back(std::move(pf));
        }
    }
}

void parse_tiers(const json::object& root, Design& d, std::vector<Problem>& problems) {
    const json::value* v = root.if_contains("tiers");
    if (v == nullptr) {
        return;
    }
    if (!v->is_array()) {
        problems.push_back({"tiers", "must be an array"});
        return;
    }
    std::size_t i = 0;
    for (const auto& item : v->as_array()) {
        std::string path = "tiers[" + std::to_string(i++) + "].";
        if (!item.is_object()) {
            problems.push_back({path.substr(0, path.size() - 1), "must be an object"});
            continue;
        }
        Tier t;
        t.name = get_string(item.as_object(), "name", path, problems, true);
        t.min_points = get_int(item.as_object(), "minPoints", path, problems, 0);
        d.tiers.push_back(std::move(t));
    }
    std::stable_sort(d.tiers.begin(), d.tiers.end(),
                     [](const Tier& a, const Tier& b) { return a.min_points < b.min_points; });
}

const std::set<std::string_view> kTopLevel{
    "name",         "description", "organizationName", "logoText", "locale",
    "defaultOffer", "colors",      "fields",           "earnRule", "tiers"};

void check_text(const std::string& path, const std::string& text, std::size_t max,
                std::vector<Problem>& problems) {
    if (text.size() > max) {
        problems.push_back({path, "is longer than " + std::to_string(max) + " bytes"});
    }
    if (!is_clean_text(text) && path.find("back") == std::string::npos) {
        problems.push_back({path, "must be valid UTF-8 without control characters"});
    }
}

}  // namespace

std::string Rgb::css() const {
    return "rgb(" + std::to_string(r) + ", " + std::to_string(g) + ", " + std::to_string(b) + ")";
}

std::string Rgb::hex() const {
    char buf[8];
    std::snprintf(buf, sizeof buf, "#%02X%02X%02X", r, g, b);
    return buf;
}

std::optional<Rgb> parse_hex_color(std::string_view text) {
    if (text.size() != 7 || text[0] != '#') {
        return std::nullopt;
    }
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::array<std::uint8_t, 3> out{};
    for (std::size_t i = 0; i < 3; ++i) {
        int hi = nibble(text[1 + 2 * i]);
        int lo = nibble(text[2 + 2 * i]);
        if (hi < 0 || lo < 0) {
            return std::nullopt;
        }
        out.at(i) = static_cast<std::uint8_t>(hi * 16 + lo);
    }
    return Rgb{out[0], out[1], out[2]};
}

Design design_from_json(const json::value& value, std::vector<Problem>& problems) {
    Design d;
    if (!value.is_object()) {
        problems.push_back({"design", "must be a JSON object"});
        return d;
    }
    const auto& o = value.as_object();
    for (const auto& [k, _] : o) {
        if (!kTopLevel.contains(k)) {
            problems.push_back({std::string(k), "unknown design property"});
        }
    }
    d.name = get_string(o, "name", "", problems, true);
    d.description = get_string(o, "description", "", problems, true);
    d.organization_name = get_string(o, "organizationName", "", problems, true);
    d.logo_text = get_string(o, "logoText", "", problems, false);
    if (o.contains("locale")) {
        d.locale = get_string(o, "locale", "", problems, true);
    }
    d.default_offer = get_string(o, "defaultOffer", "", problems, false);
    parse_colors(o, d, problems);
    parse_fields(o, d, problems);
    if (const json::value* er = o.if_contains("earnRule")) {
        if (!er->is_object()) {
            problems.push_back({"earnRule", "must be an object"});
        } else {
            d.earn_rule.points = get_int(er->as_object(), "points", "earnRule.", problems, 1);
            d.earn_rule.per = get_int(er->as_object(), "per", "earnRule.", problems, 100);
        }
    }
    parse_tiers(o, d, problems);
    return d;
}

json::object design_to_json(const Design& d) {
    json::object o;
    o["name"] = d.name;
    o["description"] = d.description;
    o["organizationName"] = d.organization_name;
    o["logoText"] = d.logo_text;
    o["locale"] = d.locale;
    o["defaultOffer"] = d.default_offer;
    o["colors"] = {{"background", d.background.hex()},
                   {"foreground", d.foreground.hex()},
                   {"label", d.label.hex()}};
    json::object fields;
    for (std::size_t g = 0; g < d.fields.size(); ++g) {
        json::array arr;
        for (const auto& f : d.fields.at(g)) {
            json::object fo{{"key", f.key}, {"value", f.value}};
            if (!f.label.empty()) fo["label"] = f.label;
            if (!f.change_message.empty()) fo["changeMessage"] = f.change_message;
            arr.push_back(std::move(fo));
        }
        fields[kFieldGroupNames.at(g)] = std::move(arr);
    }
    o["fields"] = std::move(fields);
    o["earnRule"] = {{"points", d.earn_rule.points}, {"per", d.earn_rule.per}};
    json::array tiers;
    for (const auto& t : d.tiers) {
        tiers.push_back(json::object{{"name", t.name}, {"minPoints", t.min_points}});
    }
    o["tiers"] = std::move(tiers);
    return o;
}

void validate_design(const Design& d, std::vector<Problem>& problems) {
    check_text("name", d.name, 100, problems);
    check_text("description", d.description, kMaxText, problems);
    check_text("organizationName", d.organization_name, 100, problems);
    check_text("logoText", d.logo_text, 60, problems);
    check_text("defaultOffer", d.default_offer, 200, problems);
    if (d.locale.size() < 2 || d.locale.size() > 10) {
        problems.push_back({"locale", "must be a language code like \"en\" or \"ru\""});
    }
    const auto& header = d.group(FieldGroup::header);
    const auto& primary = d.group(FieldGroup::primary);
    if (header.size() > 3) {
        problems.push_back({"fields.header", "a store card shows at most 3 header fields"});
    }
    if (primary.size() > 1) {
        problems.push_back({"fields.primary", "a store card shows at most 1 primary field"});
    }
    if (d.group(FieldGroup::secondary).size() + d.group(FieldGroup::auxiliary).size() > 4) {
        problems.push_back({"fields.auxiliary",
                            "a store card shows at most 4 secondary and auxiliary fields in all"});
    }
    std::set<std::string> keys;
    for (std::size_t g = 0; g < d.fields.size(); ++g) {
        for (std::size_t i = 0; i < d.fields.at(g).size(); ++i) {
            const auto& f = d.fields.at(g).at(i);
            std::string path =
                "fields." + std::string(kFieldGroupNames.at(g)) + "[" + std::to_string(i) + "]";
            bool is_back = g == static_cast<std::size_t>(FieldGroup::back);
            if (f.key.empty() || f.key.size() > 64 ||
                !std::all_of(f.key.begin(), f.key.end(), [](char c) {
                    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ||
                           c == '.';
                })) {
                problems.push_back({path + ".key", "must be 1-64 of [A-Za-z0-9_.-]"});
            } else if (!keys.insert(f.key).second) {
                problems.push_back({path + ".key", "duplicate key \"" + f.key +
                                                       "\" (keys are unique across all groups)"});
            }
            check_text(path + ".label", f.label, 100, problems);
            check_text(path + ".value", f.value, is_back ? kMaxBackText : kMaxText, problems);
            if (!f.change_message.empty()) {
                check_text(path + ".changeMessage", f.change_message, 200, problems);
                if (f.change_message.find("%@") == std::string::npos) {
                    problems.push_back(
                        {path + ".changeMessage", "must contain %@ (replaced by the new value)"});
                }
            }
            for (const auto& name : placeholders_in(f.value)) {
                if (std::find(kPlaceholders.begin(), kPlaceholders.end(), name) ==
                    kPlaceholders.end()) {
                    problems.push_back({path + ".value", "unknown placeholder {{" + name + "}}"});
                }
            }
        }
    }
    if (d.earn_rule.points < 0 || d.earn_rule.points > 1000000) {
        problems.push_back({"earnRule.points", "must be between 0 and 1000000"});
    }
    if (d.earn_rule.per < 1 || d.earn_rule.per > 1000000000) {
        problems.push_back({"earnRule.per", "must be between 1 and 1000000000"});
    }
    std::set<std::string> tier_names;
    for (std::size_t i = 0; i < d.tiers.size(); ++i) {
        const auto& t = d.tiers.at(i);
        std::string path = "tiers[" + std::to_string(i) + "]";
        if (t.name.empty()) {
            problems.push_back({path + ".name", "must not be empty"});
        }
        check_text(path + ".name", t.name, 40, problems);
        if (t.min_points < 0) {
            problems.push_back({path + ".minPoints", "must not be negative"});
        }
        if (!tier_names.insert(t.name).second) {
            problems.push_back({path + ".name", "duplicate tier name"});
        }
    }
}

json::object merge_design_patch(const json::object& base, const json::object& patch) {
    json::object out = base;
    for (const auto& [k, v] : patch) {
        if ((k == "colors" || k == "earnRule") && v.is_object() && out.contains(k) &&
            out.at(k).is_object()) {
            auto& target = out.at(k).as_object();
            for (const auto& [ck, cv] : v.as_object()) {
                target[ck] = cv;
            }
        } else {
            out[k] = v;
        }
    }
    return out;
}

std::vector<std::string> placeholders_in(std::string_view text) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while ((pos = text.find("{{", pos)) != std::string_view::npos) {
        auto end = text.find("}}", pos + 2);
        if (end == std::string_view::npos) {
            break;
        }
        std::string_view name = text.substr(pos + 2, end - pos - 2);
        while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
        while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
        out.emplace_back(name);
        pos = end + 2;
    }
    return out;
}

std::string render_placeholders(std::string_view text, const PlaceholderValues& values) {
    std::string out;
    out.reserve(text.size() + 16);
    std::size_t pos = 0;
    for (;;) {
        auto open = text.find("{{", pos);
        if (open == std::string_view::npos) {
            break;
        }
        auto close = text.find("}}", open + 2);
        if (close == std::string_view::npos) {
            break;
        }
        std::string_view name = text.substr(open + 2, close - open - 2);
        while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
        while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
        out.append(text.substr(pos, open - pos));
        if (auto it = values.find(name); it != values.end()) {
            out += it->second;
        }
        pos = close + 2;
    }
    out.append(text.substr(pos));
    return out;
}

std::string tier_for(const std::vector<Tier>& tiers, std::int64_t lifetime_points) {
    std::string out;
    for (const auto& t : tiers) {
        if (lifetime_points >= t.min_points) {
            out = t.name;
        }
    }
    return out;
}

}  // namespace cardsmith::domain
