// Public pages against the real server: the card page (links.page), the enrollment QR
// codes (decoded by zbarimg, an independent decoder), the stylesheet and program images.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "http_client.hpp"
#include "join_forms.hpp"
#include "server_process.hpp"
#include "test_util.hpp"

using namespace cardsmith;
namespace json = boost::json;
using test::bhttp::verb;

namespace {

using test::path_of;

std::string zbarimg(const std::string& png) {
    test::TempDir dir;
    const auto file = dir.path() / "qr.png";
    std::ofstream(file, std::ios::binary) << png;
    const std::string cmd = "zbarimg --nodbus --raw -q " + file.string() + " 2>&1";
    FILE* pipe = popen(cmd.c_str(), "r");
    BOOST_REQUIRE(pipe != nullptr);
    std::string out;
    char buf[512];
    while (std::fgets(buf, sizeof buf, pipe) != nullptr) out += buf;
    BOOST_REQUIRE_MESSAGE(pclose(pipe) == 0,
                          "zbarimg failed (scripts/deps.sh installs it): " + out);
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
}

struct Shop {
    test::ServerProcess server;
    test::Client client{server.port()};
    std::string key;
    json::object card;
    Shop() {
        auto m = client.post_json("/api/v1/merchants", {{"name", "Bean"}}, server.admin_key());
        key = std::string(test::json_of(m).at("apiKey").as_string());
        BOOST_REQUIRE_EQUAL(
            client
                .post_json("/api/v1/programs",
                           {{"slug", "bean"}, {"name", "Bean <There>"}, {"template", "coffee"}},
                           key)
                .result_int(),
            201);
        auto c = client.post_json("/api/v1/programs/bean/cards",
                                  {{"holder", {{"name", "Anna \"<b>\""}}}, {"balance", 1250}}, key);
        BOOST_REQUIRE_EQUAL(c.result_int(), 201);
        card = test::json_of(c).as_object();
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(pages)

BOOST_AUTO_TEST_CASE(card_page_draws_the_card_with_the_wallet_button) {
    Shop s;
    const auto page_path = path_of(std::string(s.card.at("links").at("page").as_string()));
    const std::string number(s.card.at("cardNumber").as_string());
    auto page = s.client.request(
        verb::get, page_path, "",
        {{"User-Agent",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1"}});
    BOOST_REQUIRE_EQUAL(page.result_int(), 200);
    BOOST_TEST(page[test::bhttp::field::content_type] == "text/html; charset=utf-8");
    const std::string csp(page["Content-Security-Policy"]);
    BOOST_TEST(csp.find("default-src 'none'") != std::string::npos);
    BOOST_TEST(csp.find("script-src") == std::string::npos);  // none at all: default-src 'none'
    BOOST_TEST(page["X-Content-Type-Options"] == "nosniff");
    BOOST_TEST(page[test::bhttp::field::cache_control] == "private, no-cache");
    const auto& html = page.body();
    BOOST_TEST(html.rfind("<!doctype html>", 0) == 0u);
    BOOST_TEST(html.find("<script") == std::string::npos);
    BOOST_TEST(html.find(number.substr(0, 4) + " " + number.substr(4, 4)) != std::string::npos);
    BOOST_TEST(html.find("/p/" + std::string(s.card.at("serial").as_string()) + ".pkpass") !=
               std::string::npos);
    BOOST_TEST(html.find("<svg") != std::string::npos);                // the card-number QR
    BOOST_TEST(html.find("Bean &lt;There&gt;") != std::string::npos);  // escaped
    BOOST_TEST(html.find("<b>") == std::string::npos);
    BOOST_TEST(html.find("1,250") != std::string::npos);
    // The nonce of the page's <style> is the one the CSP allows.
    std::smatch m;
    BOOST_REQUIRE(std::regex_search(html, m, std::regex("<style nonce=\"([^\"]+)\"")));
    BOOST_TEST(csp.find("'nonce-" + m[1].str() + "'") != std::string::npos);
    // The stylesheet it links and the logo it shows are served.
    BOOST_REQUIRE(
        std::regex_search(html, m, std::regex("href=\"(/assets/cardsmith\\.css[^\"]*)\"")));
    auto css = s.client.get(m[1].str());
    BOOST_TEST(css.result_int() == 200);
    BOOST_TEST(css[test::bhttp::field::content_type] == "text/css; charset=utf-8");
    BOOST_TEST(css[test::bhttp::field::cache_control].find("immutable") != std::string::npos);
    auto logo = s.client.get("/images/bean/logo@2x.png");
    BOOST_TEST(logo.result_int() == 200);
    BOOST_TEST(logo[test::bhttp::field::content_type] == "image/png");
    BOOST_TEST(logo.body().rfind("\x89PNG", 0) == 0u);
    BOOST_TEST(s.client.get("/images/bean/nope.png").result_int() == 404);
    BOOST_TEST(s.client.get("/images/bean/..%2f..%2fetc%2fpasswd").result_int() == 404);
    BOOST_TEST(s.client.get("/images/other/logo.png").result_int() == 404);

    auto missing = s.client.get("/c/nosuchserial");
    BOOST_TEST(missing.result_int() == 404);
    BOOST_TEST(missing[test::bhttp::field::content_type] == "text/html; charset=utf-8");
}

BOOST_AUTO_TEST_CASE(join_qr_codes_decode_to_the_enrollment_link) {
    Shop s;
    const std::string join = s.server.public_url() + "/join/bean";
    auto png = s.client.get("/join/bean/qr.png?size=256&src=poster");
    BOOST_REQUIRE_EQUAL(png.result_int(), 200);
    BOOST_TEST(png[test::bhttp::field::content_type] == "image/png");
    BOOST_TEST(zbarimg(png.body()) == join + "?src=poster");
    auto plain = s.client.get("/join/bean/qr.png");
    BOOST_TEST(zbarimg(plain.body()) == join);
    auto big = s.client.get("/join/bean/qr.png?size=100000");  // clamped, still a QR
    BOOST_TEST(zbarimg(big.body()) == join);
    auto svg = s.client.get("/join/bean/qr.svg?src=till");
    BOOST_TEST(svg.result_int() == 200);
    BOOST_TEST(svg[test::bhttp::field::content_type] == "image/svg+xml");
    BOOST_TEST(svg.body().find("<svg") != std::string::npos);
    BOOST_TEST(s.client.get("/join/bean/qr.svg?src=%3Cscript%3E").result_int() == 422);
    BOOST_TEST(s.client.get("/join/nosuch/qr.svg").result_int() == 404);

    // The printable poster: its QR carries the poster channel.
    auto poster = s.client.get("/join/bean/poster?paper=a5");
    BOOST_REQUIRE_EQUAL(poster.result_int(), 200);
    BOOST_TEST(poster.body().find("<svg") != std::string::npos);  // the QR code
    BOOST_TEST(std::string(s.client.get("/assets/cardsmith.css").body()).find("@page") !=
               std::string::npos);  // print sizes live in the stylesheet
    BOOST_TEST(poster.body().find("<script") == std::string::npos);
    BOOST_TEST(poster.body().find(join + "?src=poster") != std::string::npos);
    BOOST_TEST(s.client.get("/join/nosuch/poster").result_int() == 404);
}

namespace {

using test::form_encode;
using test::open_form;

}  // namespace

BOOST_AUTO_TEST_CASE(join_form_issues_a_card_and_opens_its_page) {
    Shop s;
    auto page = s.client.get("/join/bean?src=poster");
    BOOST_REQUIRE_EQUAL(page.result_int(), 200);
    BOOST_TEST(page.body().find("<script") == std::string::npos);
    BOOST_TEST(page.body().find("name=\"src\" value=\"poster\"") != std::string::npos);
    BOOST_TEST(std::string(page["Content-Security-Policy"]).find("form-action 'self'") !=
               std::string::npos);
    BOOST_TEST(s.client.get("/join/nosuch").result_int() == 404);

    auto form = open_form(s.client, "/join/bean?src=till");
    auto post = [&](const std::map<std::string, std::string>& fields, const std::string& cookie,
                    const std::string& type = "application/x-www-form-urlencoded") {
        return s.client.request(verb::post, "/join/bean", form_encode(fields),
                                {{"Content-Type", type}, {"Cookie", cookie}});
    };
    // Errors: the page again, the message by the field, the typed values kept; no card.
    auto bad =
        post({{"csrf", form.csrf}, {"name", "Zoë <x>"}, {"phone", "0151 1234"}, {"src", "till"}},
             form.cookie);
    BOOST_TEST(bad.result_int() == 422);
    BOOST_TEST(bad.body().find("Zoë &lt;x&gt;") != std::string::npos);
    BOOST_TEST(bad.body().find("0151 1234") != std::string::npos);
    BOOST_TEST(bad.body().find("aria-invalid=\"true\"") != std::string::npos);
    // Cross-site posts: no cookie, another cookie, a forged token.
    BOOST_TEST(post({{"csrf", form.csrf}, {"name", "Zoe"}, {"consent", "on"}}, "").result_int() ==
               403);
    BOOST_TEST(post({{"csrf", form.csrf}, {"name", "Zoe"}, {"consent", "on"}},
                    "cs_join=AAAAAAAAAAAAAAAAAAAAAA")
                   .result_int() == 403);
    BOOST_TEST(
        post({{"csrf", std::string(64, 'a')}, {"name", "Zoe"}, {"consent", "on"}}, form.cookie)
            .result_int() == 403);
    BOOST_TEST(post({{"csrf", form.csrf}, {"name", "Zoe"}, {"consent", "on"}}, form.cookie,
                    "application/json")
                   .result_int() == 415);
    auto list = s.client.get("/metrics").body();
    BOOST_TEST(list.find("cardsmith_enrollments_total") == std::string::npos);  // none issued

    // A good post: 303 to the new card's page, which shows the name and the pkpass link.
    auto ok = post({{"csrf", form.csrf},
                    {"name", "Zoe Example"},
                    {"phone", "+49 151 2345 6789"},
                    {"email", "Zoe@Example.COM"},
                    {"consent", "on"},
                    {"src", "till"}},
                   form.cookie);
    BOOST_REQUIRE_EQUAL(ok.result_int(), 303);
    const std::string location(ok[test::bhttp::field::location]);
    BOOST_REQUIRE(location.rfind("/c/", 0) == 0u);
    auto card_page = s.client.get(location);
    BOOST_TEST(card_page.result_int() == 200);
    BOOST_TEST(card_page.body().find("Zoe Example") != std::string::npos);
    BOOST_TEST(card_page.body().find("/p/" + location.substr(3) + ".pkpass") != std::string::npos);
    auto pass = s.client.get("/p/" + location.substr(3) + ".pkpass");
    BOOST_TEST(pass.result_int() == 200);
    // The card records the channel it came through.
    std::smatch digits;
    BOOST_REQUIRE(std::regex_search(card_page.body(), digits,
                                    std::regex("(\\d{4}) (\\d{4}) (\\d{4}) (\\d{4})")));
    auto api_card = s.client.get(
        "/api/v1/cards/" + digits[1].str() + digits[2].str() + digits[3].str() + digits[4].str(),
        s.key);
    BOOST_REQUIRE_EQUAL(api_card.result_int(), 200);
    BOOST_TEST(test::json_of(api_card).at("source").as_string() == "till");
    BOOST_TEST(test::json_of(api_card).at("holder").at("email").as_string() == "Zoe@example.com");
    BOOST_TEST(s.client.get("/metrics").body().find("cardsmith_enrollments_total 1") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(program_decides_the_form_fields_terms_and_language) {
    Shop s;
    auto put = [&](const std::string& body, const std::string& key) {
        return s.client.request(
            verb::put, "/api/v1/programs/bean/enrollment", body,
            {{"Authorization", "Bearer " + key}, {"Content-Type", "application/json"}});
    };
    BOOST_TEST(put(R"({"fields":{"phone":"sometimes"}})", s.key).result_int() == 422);
    BOOST_TEST(put(R"x({"termsUrl":"javascript:alert(1)"})x", s.key).result_int() == 422);
    auto other = s.client.post_json("/api/v1/merchants", {{"name", "Other"}}, s.server.admin_key());
    BOOST_TEST(put("{}", std::string(test::json_of(other).at("apiKey").as_string())).result_int() ==
               404);
    auto set = put(R"({"fields":{"phone":"required","email":"off","birthday":"optional"},
                      "termsUrl":"https://bean.example/terms","language":"ru"})",
                   s.key);
    BOOST_REQUIRE_MESSAGE(set.result_int() == 200, set.body());
    BOOST_TEST(test::json_of(set).at("enrollment").at("fields").at("email").as_string() == "off");

    auto page = s.client.get("/join/bean");
    const auto& html = page.body();
    BOOST_TEST(html.find("lang=\"ru\"") != std::string::npos);
    BOOST_TEST(html.find("name=\"email\"") == std::string::npos);  // off
    BOOST_TEST(html.find("name=\"birthday\"") != std::string::npos);
    BOOST_TEST(html.find("https://bean.example/terms") != std::string::npos);
    BOOST_TEST(std::regex_search(html, std::regex("name=\"phone\"[^>]*required")));

    auto form = open_form(s.client, "/join/bean");
    auto post = [&](const std::map<std::string, std::string>& fields) {
        return s.client.request(
            verb::post, "/join/bean", form_encode(fields),
            {{"Content-Type", "application/x-www-form-urlencoded"}, {"Cookie", form.cookie}});
    };
    auto missing = post({{"csrf", form.csrf}, {"name", "Ivan"}, {"consent", "on"}});
    BOOST_TEST(missing.result_int() == 422);  // phone required now
    auto bad_day = post({{"csrf", form.csrf},
                         {"name", "Ivan"},
                         {"phone", "+7 916 123 45 67"},
                         {"birthday", "1990-02-30"},
                         {"consent", "on"}});
    BOOST_TEST(bad_day.result_int() == 422);
    auto ok = post({{"csrf", form.csrf},
                    {"name", "Ivan"},
                    {"phone", "+7 916 123 45 67"},
                    {"email", "ignored@example.com"},  // not on the form: ignored
                    {"birthday", "1990-02-28"},
                    {"consent", "on"}});
    BOOST_REQUIRE_EQUAL(ok.result_int(), 303);
    auto card_page = s.client.get(std::string(ok[test::bhttp::field::location]));
    // The program's language holds for the card page too.
    BOOST_TEST(card_page.body().find("lang=\"ru\"") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

// "default-src 'none'; img-src 'self' data:" → {"default-src": "'none'", ...}
std::map<std::string, std::string> csp_directives(const std::string& csp) {
    std::map<std::string, std::string> out;
    std::regex part("\\s*([a-z-]+)\\s*([^;]*)");
    for (std::sregex_iterator it(csp.begin(), csp.end(), part), end; it != end; ++it) {
        out[(*it)[1].str()] = (*it)[2].str();
    }
    return out;
}

// Every route template registered in src/api/routes.cpp, as "GET /join/{slug}".
std::set<std::string> registered_routes() {
    std::ifstream in(std::string(CARDSMITH_SOURCE_DIR) + "/src/api/routes.cpp");
    std::stringstream text;
    text << in.rdbuf();
    const std::string source = text.str();
    std::set<std::string> out;
    std::regex add("router\\.add\\(V::([a-z_]+),\\s*\"([^\"]+)\"");
    for (std::sregex_iterator it(source.begin(), source.end(), add), end; it != end; ++it) {
        std::string method = (*it)[1].str();
        if (method == "delete_") method = "delete";
        for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        out.insert(method + " " + (*it)[2].str());
    }
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(security_headers)

// Every page and asset route (everything in routes.cpp outside /api/), plus JSON answers
// and a 404: nosniff and no-referrer everywhere; on HTML a CSP with no inline script,
// never framed, no <base>, forms to this server only; SVG gets a CSP too.
BOOST_AUTO_TEST_CASE(every_page_route_carries_the_security_headers) {
    Shop s;
    const std::string serial(s.card.at("serial").as_string());
    const auto form_post =
        std::map<std::string, std::string>{{"Content-Type", "application/x-www-form-urlencoded"}};
    struct Fetch {
        std::string route;  // as registered; "" for extra checks
        verb method;
        std::string target;
        std::map<std::string, std::string> headers;
    };
    const std::vector<Fetch> fetches = {
        {"GET /healthz", verb::get, "/healthz", {}},
        {"GET /readyz", verb::get, "/readyz", {}},
        {"GET /metrics", verb::get, "/metrics", {}},
        {"GET /p/{file}", verb::get, "/p/" + serial + ".pkpass", {}},
        {"GET /c/{serial}", verb::get, "/c/" + serial, {}},
        {"GET /g/{serial}", verb::get, "/g/" + serial, {}},  // Google off: the 404 page
        {"POST /google/callback", verb::post, "/google/callback", {}},
        {"GET /assets/cardsmith.css", verb::get, "/assets/cardsmith.css", {}},
        {"GET /console", verb::get, "/console", {}},
        {"GET /assets/console.js", verb::get, "/assets/console.js", {}},
        {"GET /assets/console.css", verb::get, "/assets/console.css", {}},
        {"GET /images/{slug}/{file}", verb::get, "/images/bean/logo@2x.png", {}},
        {"GET /join/{slug}", verb::get, "/join/bean", {}},
        {"POST /join/{slug}", verb::post, "/join/bean", form_post},  // no csrf: the form again
        {"POST /join/{slug}/verify", verb::post, "/join/bean/verify", form_post},
        {"GET /join/{slug}/poster", verb::get, "/join/bean/poster", {}},
        {"GET /join/{slug}/qr.svg", verb::get, "/join/bean/qr.svg", {}},
        {"GET /join/{slug}/qr.png", verb::get, "/join/bean/qr.png", {}},
        {"", verb::get, "/c/nosuch", {}},              // an HTML error page
        {"", verb::get, "/api/v1/programs/bean", {}},  // JSON (401 without a key)
        {"", verb::get, "/no/such/route", {}},         // the server's own 404
        {"", verb::get, "/apple/v1/devices/x/registrations/pass.dev.cardsmith", {}},
    };
    std::set<std::string> covered;
    for (const auto& f : fetches) {
        covered.insert(f.route);
        BOOST_TEST_CONTEXT(f.method << " " << f.target) {
            auto res = s.client.request(f.method, f.target, f.method == verb::post ? "x=1" : "",
                                        f.headers);
            BOOST_TEST(res.result_int() != 500u);
            BOOST_TEST(res["X-Content-Type-Options"] == "nosniff");
            BOOST_TEST(res["Referrer-Policy"] == "no-referrer");
            // Plain HTTP here: HSTS only comes over TLS (test_tls_integration).
            BOOST_TEST(res[test::bhttp::field::strict_transport_security].empty());
            const std::string type(res[test::bhttp::field::content_type]);
            const bool html = type.starts_with("text/html");
            if (!html && !type.starts_with("image/svg+xml")) {
                continue;
            }
            auto csp = csp_directives(std::string(res["Content-Security-Policy"]));
            BOOST_TEST_REQUIRE(!csp.empty());
            const std::string scripts =
                csp.count("script-src") ? csp["script-src"] : csp["default-src"];
            BOOST_TEST(!scripts.empty());
            BOOST_TEST(scripts.find("'unsafe-inline'") == std::string::npos);
            BOOST_TEST(scripts.find("'unsafe-eval'") == std::string::npos);
            BOOST_TEST(csp["frame-ancestors"] == "'none'");
            BOOST_TEST(csp["base-uri"] == "'none'");
            if (res.body().find("<form") != std::string::npos) {
                BOOST_TEST(csp["form-action"] == "'self'");
            } else {
                BOOST_TEST((csp["form-action"] == "'self'" || csp["form-action"] == "'none'"));
            }
            if (html) {
                BOOST_TEST(res.body().find("<script>") == std::string::npos);  // nothing inline
            }
        }
    }
    // A page route added to routes.cpp must be added above.
    const auto routes = registered_routes();
    BOOST_TEST_REQUIRE(routes.size() > 20u);  // the pattern still reads routes.cpp
    for (const auto& route : routes) {
        if (route.find(" /api/") == std::string::npos) {
            BOOST_TEST(covered.count(route) == 1u, route << " is not checked here");
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
