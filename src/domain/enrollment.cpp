#include "domain/enrollment.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <initializer_list>

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

// The object at `path` with only `keys`; null (and a problem) otherwise.
const json::object* object_with(const json::value& v, const std::string& path,
                                std::initializer_list<std::string_view> keys,
                                std::vector<Problem>& problems) {
    const auto* o = v.if_object();
    if (o == nullptr) {
        problems.push_back({path, "must be an object"});
        return nullptr;
    }
    for (const auto& [key, _] : *o) {
        if (std::find(keys.begin(), keys.end(), std::string_view(key)) == keys.end()) {
            problems.push_back({path + "." + std::string(key), "unknown property"});
        }
    }
    return o;
}

// A bonus in points: an integer 0..1,000,000 (absent: 0).
std::int64_t points(const json::object& o, const std::string& path,
                    std::vector<Problem>& problems) {
    const auto key = std::string_view(path).substr(path.rfind('.') + 1);
    const auto* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) {
        return 0;
    }
    if (v->is_int64() && v->as_int64() >= 0 && v->as_int64() <= 1'000'000) {
        return v->as_int64();
    }
    if (v->is_uint64() && v->as_uint64() <= 1'000'000) {
        return static_cast<std::int64_t>(v->as_uint64());
    }
    problems.push_back({path, "must be an integer from 0 to 1000000"});
    return 0;
}

// http:// is accepted only for a gateway on this machine (development, tests).
bool is_gateway_url(std::string_view url) {
    if (url.size() > 500 || !is_clean_text(url) || url.find(' ') != std::string_view::npos) {
        return false;
    }
    if (url.starts_with("https://")) {
        return url.size() > 8;
    }
    for (std::string_view local : {"http://127.0.0.1", "http://localhost", "http://[::1]"}) {
        if (url.starts_with(local) &&
            (url.size() == local.size() || url[local.size()] == ':' || url[local.size()] == '/')) {
            return true;
        }
    }
    return false;
}

void parse_verification(const json::value& value, EnrollmentSettings& s,
                        std::vector<Problem>& problems, SettingsJson from,
                        std::string_view stored_secret) {
    const std::string_view secret_key =
        from == SettingsJson::api ? "webhookSecret" : "webhookSecretSealed";
    const auto* o =
        object_with(value, "verification",
                    {"channel", "provider", "webhookUrl", secret_key, "codeTtlSeconds",
                     // shown by GET, harmless when a client sends the program back as is
                     "webhookSecretSet"},
                    problems);
    if (o == nullptr) {
        return;
    }
    auto& v = s.verification;
    const auto text = [&](std::string_view key) -> const json::string* {
        const auto* x = o->if_contains(key);
        return x != nullptr ? x->if_string() : nullptr;
    };
    if (o->contains("channel")) {
        const auto* c = text("channel");
        if (c != nullptr && *c == "off") {
            v.channel = VerifyChannel::off;
        } else if (c != nullptr && *c == "phone") {
            v.channel = VerifyChannel::phone;
        } else if (c != nullptr && *c == "email") {
            v.channel = VerifyChannel::email;
        } else {
            problems.push_back({"verification.channel", "must be off, phone or email"});
        }
    }
    if (o->contains("provider")) {
        const auto* p = text("provider");
        if (p != nullptr && *p == "log") {
            v.provider = CodeProvider::log;
        } else if (p != nullptr && *p == "webhook") {
            v.provider = CodeProvider::webhook;
        } else {
            problems.push_back({"verification.provider", "must be log or webhook"});
        }
    }
    if (const auto* u = o->if_contains("webhookUrl"); u != nullptr && !u->is_null()) {
        const auto* url = u->if_string();
        if (url == nullptr || !is_gateway_url(*url)) {
            problems.push_back({"verification.webhookUrl",
                                "must be an https:// URL (http:// only for localhost) of at most "
                                "500 characters"});
        } else {
            v.webhook_url = std::string(*url);
        }
    }
    if (const auto* x = o->if_contains(secret_key); x != nullptr && !x->is_null()) {
        const auto* secret = x->if_string();
        if (from == SettingsJson::storage) {
            if (secret != nullptr) v.webhook_secret_sealed = std::string(*secret);
        } else if (secret == nullptr || secret->size() < 16 || secret->size() > 256 ||
                   !is_clean_text(*secret)) {
            problems.push_back(
                {"verification.webhookSecret", "must be a string of 16 to 256 characters"});
        } else {
            v.webhook_secret = std::string(*secret);
        }
    }
    if (from == SettingsJson::api && v.webhook_secret.empty()) {
        v.webhook_secret_sealed = std::string(stored_secret);
    }
    if (const auto* t = o->if_contains("codeTtlSeconds"); t != nullptr && !t->is_null()) {
        if (t->is_int64() && t->as_int64() >= 60 && t->as_int64() <= 3600) {
            v.code_ttl_seconds = static_cast<int>(t->as_int64());
        } else {
            problems.push_back(
                {"verification.codeTtlSeconds", "must be an integer from 60 to 3600"});
        }
    }
    if (v.channel == VerifyChannel::phone && s.phone != FieldMode::required) {
        problems.push_back({"verification.channel",
                            "phone verification needs the phone field required (fields.phone)"});
    }
    if (v.channel == VerifyChannel::email && s.email != FieldMode::required) {
        problems.push_back({"verification.channel",
                            "email verification needs the email field required (fields.email)"});
    }
    if (v.provider == CodeProvider::webhook && from == SettingsJson::api) {
        if (v.webhook_url.empty()) {
            problems.push_back({"verification.webhookUrl", "the webhook provider needs a URL"});
        }
        if (v.webhook_secret.empty() && v.webhook_secret_sealed.empty()) {
            problems.push_back(
                {"verification.webhookSecret", "the webhook provider needs a signing secret"});
        }
    }
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

std::string_view to_string(VerifyChannel channel) {
    switch (channel) {
        case VerifyChannel::phone:
            return "phone";
        case VerifyChannel::email:
            return "email";
        case VerifyChannel::off:
            break;
    }
    return "off";
}

json::object enrollment_to_json(const EnrollmentSettings& s, SettingsJson to) {
    json::object fields;
    for (auto name : kFields) {
        fields[name] = to_string(mode_of(s, name));
    }
    json::object out{{"fields", std::move(fields)}};
    out["termsUrl"] = s.terms_url.empty() ? json::value(nullptr) : json::value(s.terms_url);
    out["language"] = s.language.empty() ? json::value(nullptr) : json::value(s.language);
    const auto& v = s.verification;
    json::object verification{
        {"channel", to_string(v.channel)},
        {"provider", v.provider == CodeProvider::webhook ? "webhook" : "log"},
        {"webhookUrl", v.webhook_url.empty() ? json::value(nullptr) : json::value(v.webhook_url)},
        {"codeTtlSeconds", v.code_ttl_seconds}};
    if (to == SettingsJson::storage) {
        if (!v.webhook_secret_sealed.empty()) {
            verification["webhookSecretSealed"] = v.webhook_secret_sealed;
        }
    } else {
        verification["webhookSecretSet"] = !v.webhook_secret_sealed.empty();
    }
    out["verification"] = std::move(verification);
    out["referral"] = {{"referrerBonus", s.referrer_bonus}, {"friendBonus", s.friend_bonus}};
    out["birthday"] = {
        {"bonus", s.birthday_bonus},
        {"offer", s.birthday_offer.empty() ? json::value(nullptr) : json::value(s.birthday_offer)}};
    return out;
}

EnrollmentSettings enrollment_from_json(const json::value& value, std::vector<Problem>& problems,
                                        SettingsJson from, std::string_view stored_secret) {
    EnrollmentSettings s;
    const auto* o = value.if_object();
    if (o == nullptr) {
        problems.push_back({"enrollment", "must be an object"});
        return s;
    }
    for (const auto& [key, v] : *o) {
        if (key != "fields" && key != "termsUrl" && key != "language" && key != "verification" &&
            key != "referral" && key != "birthday") {
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
    if (const auto* v = o->if_contains("verification"); v != nullptr && !v->is_null()) {
        parse_verification(*v, s, problems, from, stored_secret);
    }
    if (const auto* r = o->if_contains("referral"); r != nullptr && !r->is_null()) {
        if (const auto* ro =
                object_with(*r, "referral", {"referrerBonus", "friendBonus"}, problems)) {
            s.referrer_bonus = points(*ro, "referral.referrerBonus", problems);
            s.friend_bonus = points(*ro, "referral.friendBonus", problems);
        }
    }
    if (const auto* b = o->if_contains("birthday"); b != nullptr && !b->is_null()) {
        if (const auto* bo = object_with(*b, "birthday", {"bonus", "offer"}, problems)) {
            s.birthday_bonus = points(*bo, "birthday.bonus", problems);
            if (const auto* t = bo->if_contains("offer"); t != nullptr && !t->is_null()) {
                const auto* text = t->if_string();
                if (text == nullptr || text->empty() || text->size() > 200 ||
                    !is_clean_text(*text)) {
                    problems.push_back({"birthday.offer", "must be text of 1 to 200 characters"});
                } else {
                    s.birthday_offer = std::string(*text);
                }
            }
        }
        if (s.birthday_on() && s.birthday == FieldMode::off) {
            problems.push_back({"birthday",
                                "the form must ask the birthday (fields.birthday optional or "
                                "required) for a birthday bonus or offer"});
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
