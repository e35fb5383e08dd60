#include "google/wallet.hpp"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include "common/log.hpp"
#include "common/time_format.hpp"
#include "google/loyalty.hpp"
#include "http/client.hpp"

namespace cardsmith::google {
namespace json = boost::json;
namespace {

std::string origin_of(const std::string& url) {
    auto parsed = boost::urls::parse_absolute_uri(url);
    if (!parsed) {
        throw std::runtime_error("not a URL: " + url);
    }
    return std::string(parsed->scheme()) + "://" + std::string(parsed->encoded_authority());
}

std::string path_of(const std::string& url) {
    auto parsed = boost::urls::parse_absolute_uri(url);
    std::string path = parsed ? std::string(parsed->encoded_path()) : std::string();
    while (!path.empty() && path.back() == '/') path.pop_back();
    return path;
}

ServiceAccount load_account(const config::GoogleConfig& c) {
    return load_service_account(c.service_account);
}

std::int64_t now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

std::string error_message(std::string_view body) {
    error_code ec;
    auto v = json::parse(body, ec);
    const auto* e = !ec && v.is_object() ? v.as_object().if_contains("error") : nullptr;
    const auto* m =
        e != nullptr && e->is_object() ? e->as_object().if_contains("message") : nullptr;
    return m != nullptr && m->is_string() ? std::string(m->as_string())
                                          : std::string(body.substr(0, 200));
}

std::optional<json::array> messages_to_keep(std::string_view object_json, std::string_view id,
                                            std::string_view now_iso) {
    error_code ec;
    auto v = json::parse(object_json, ec);
    const auto* list = !ec && v.is_object() ? v.as_object().if_contains("messages") : nullptr;
    if (list == nullptr || !list->is_array()) {
        return std::nullopt;
    }
    json::array keep;
    for (auto it = list->as_array().rbegin(); it != list->as_array().rend() && keep.size() < 5;
         ++it) {
        if (!it->is_object()) {
            continue;
        }
        const auto& msg = it->as_object();
        if (const auto* mid = msg.if_contains("id");
            mid != nullptr && mid->is_string() && mid->as_string() == id) {
            return std::nullopt;  // already there
        }
        const auto* end = msg.if_contains("displayInterval");
        const json::value* date = nullptr;
        if (end != nullptr && end->is_object()) {
            if (const auto* e = end->as_object().if_contains("end");
                e != nullptr && e->is_object()) {
                date = e->as_object().if_contains("date");
            }
        }
        if (date != nullptr && date->is_string() && std::string_view(date->as_string()) < now_iso) {
            continue;  // no longer shown
        }
        keep.insert(keep.begin(), msg);
    }
    return keep;
}

Wallet::Wallet(net::any_io_executor executor, const config::GoogleConfig& config,
               std::string public_url)
    : issuer_(config.issuer_id),
      public_url_(std::move(public_url)),
      api_path_(path_of(config.api_base)),
      tls_(http_server::make_client_tls(config.ca_file)),
      account_(load_account(config)),
      api_(origin_of(config.api_base), tls_),
      token_client_(origin_of(config.token_url) == origin_of(config.api_base)
                        ? nullptr
                        : std::make_unique<RestClient>(origin_of(config.token_url), tls_)),
      tokens_(executor, account_, token_client_ ? *token_client_ : api_, config.token_url) {
    if (issuer_.empty() ||
        !std::all_of(issuer_.begin(), issuer_.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        throw std::runtime_error("google.issuer_id: must be the issuer's numeric id");
    }
    origins_.push_back(origin_of(public_url_));
    if (config.callbacks) {
        callback_url_ = public_url_ + "/google/callback";
    }
}

std::string Wallet::card_number_of(std::string_view object_id) const {
    const std::string prefix = issuer_ + ".card-";
    if (object_id.substr(0, prefix.size()) != prefix) {
        return {};
    }
    return std::string(object_id.substr(prefix.size()));
}

Wallet::~Wallet() = default;

std::string Wallet::class_id(const domain::Program& p) const {
    return google::class_id(issuer_, p);
}

std::string Wallet::object_id(const domain::Card& c) const { return google::object_id(issuer_, c); }

net::awaitable<Outcome> Wallet::call(http::verb method, const std::string& path,
                                     const json::object* body, std::string* response_body) {
    const std::string text = body != nullptr ? json::serialize(*body) : std::string();
    const std::string target = api_path_ + path;
    for (int attempt = 0; attempt < 2; ++attempt) {
        std::string token;
        try {
            token = co_await tokens_.async_token();
        } catch (const std::exception& e) {
            co_return Outcome{0, e.what()};
        }
        std::vector<std::pair<std::string, std::string>> headers{
            {"Authorization", "Bearer " + token}, {"Accept", "application/json"}};
        if (body != nullptr) {
            headers.emplace_back("Content-Type", "application/json");
        }
        http_server::IncomingResponse res;
        try {
            res = co_await api_.async_request(method, target, text, headers);
        } catch (const boost::system::system_error& e) {
            co_return Outcome{0, "Google Wallet API unreachable: " + e.code().message()};
        }
        if (res.status == 401 && attempt == 0) {
            tokens_.invalidate(token);  // revoked or expired early: one new token, once
            continue;
        }
        Outcome out{res.status, {}};
        if (response_body != nullptr) {
            *response_body = res.body;
        }
        if (!out.ok()) {
            out.message = error_message(res.body);
        }
        co_return out;
    }
    co_return Outcome{401, "Google refused a fresh access token"};
}

net::awaitable<Outcome> Wallet::async_ensure_class(const domain::Program& p) {
    const json::object klass = class_json(issuer_, p, {public_url_, callback_url_});
    auto out = co_await call(http::verb::post, "/loyaltyClass", &klass);
    if (out.status == 409) {
        const std::string path = "/loyaltyClass/" + class_id(p);
        out = co_await call(http::verb::patch, path, &klass);
    }
    co_return out;
}

net::awaitable<Outcome> Wallet::async_ensure_object(const domain::Program& p,
                                                    const domain::Card& c) {
    const json::object object = object_json(issuer_, p, c);
    auto out = co_await call(http::verb::post, "/loyaltyObject", &object);
    if (out.status == 404) {
        // The class is missing (first card of the program): insert it, then the object.
        auto klass = co_await async_ensure_class(p);
        if (!klass.ok()) {
            co_return klass;
        }
        out = co_await call(http::verb::post, "/loyaltyObject", &object);
    }
    if (out.status == 409) {
        const std::string path = "/loyaltyObject/" + object_id(c);
        out = co_await call(http::verb::patch, path, &object);
    }
    co_return out;
}

net::awaitable<Outcome> Wallet::async_update_object(const domain::Program& p, const domain::Card& c,
                                                    bool notify) {
    const json::object patch = object_patch_json(p, c, notify);
    const std::string path = "/loyaltyObject/" + object_id(c);
    auto out = co_await call(http::verb::patch, path, &patch);
    if (out.status == 404) {
        out = co_await async_ensure_object(p, c);
    }
    co_return out;
}

net::awaitable<Outcome> Wallet::async_update_class(const domain::Program& p) {
    const json::object klass = class_json(issuer_, p, {public_url_, callback_url_});
    const std::string path = "/loyaltyClass/" + class_id(p);
    auto out = co_await call(http::verb::patch, path, &klass);
    if (out.status == 404) {
        out = co_await async_ensure_class(p);
    }
    co_return out;
}

net::awaitable<Outcome> Wallet::async_probe() {
    co_return co_await call(http::verb::get, "/loyaltyClass?issuerId=" + issuer_ + "&maxResults=1",
                            nullptr);
}

bool Wallet::over_budget(const Outcome& o) {
    return (o.status == 429 || o.status == 400) &&
           (o.message.find("QuotaExceeded") != std::string::npos ||
            o.message.find("quota") != std::string::npos);
}

net::awaitable<Outcome> Wallet::async_add_message(const domain::Program& p, const domain::Card& c,
                                                  const Message& m) {
    json::object message{{"id", m.id},
                         {"header", m.header.empty() ? p.design.organization_name : m.header},
                         {"body", m.body},
                         {"messageType", m.notify ? "TEXT_AND_NOTIFY" : "TEXT"}};
    if (m.end_seconds > 0) {
        message["displayInterval"] = {{"end", {{"date", format_iso8601_unix(m.end_seconds)}}}};
    }
    const json::object body{{"message", message}};
    const std::string path = "/loyaltyObject/" + object_id(c);
    for (int attempt = 0; attempt < 3; ++attempt) {
        auto out = co_await call(http::verb::post, path + "/addMessage", &body);
        if (out.ok() || out.status == 409) {
            co_return Outcome{200, {}};  // 409: that id is there already (a retry)
        }
        if (out.status == 404 && attempt == 0) {
            auto made = co_await async_ensure_object(p, c);
            if (!made.ok()) {
                co_return made;
            }
            continue;
        }
        if (out.status == 400 && out.message.find("essages") != std::string::npos &&
            !over_budget(out) && attempt < 2) {
            // At most 10 messages per object: keep the newest five still shown.
            auto pruned = co_await prune_messages(path, m.id);
            if (!pruned.ok()) {
                co_return pruned;
            }
            continue;
        }
        co_return out;
    }
    co_return Outcome{400, "addMessage kept failing"};
}

net::awaitable<Outcome> Wallet::prune_messages(const std::string& path, const std::string& id) {
    std::string text;
    auto got = co_await call(http::verb::get, path, nullptr, &text);
    if (!got.ok()) {
        co_return got;
    }
    const std::string now = format_iso8601(SysTime(std::chrono::system_clock::now()));
    auto keep = messages_to_keep(text, id, now);
    if (!keep) {
        co_return Outcome{200, {}};
    }
    const json::object patch{{"messages", std::move(*keep)}};
    co_return co_await call(http::verb::patch, path, &patch);
}

std::string Wallet::save_url(const domain::Program& p, const domain::Card& c) const {
    return "https://pay.google.com/gp/v/save/" +
           save_jwt(account_, object_id(c), class_id(p), origins_, now_seconds());
}

}  // namespace cardsmith::google
