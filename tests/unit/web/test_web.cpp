#include <sys/wait.h>

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "web/assets.hpp"
#include "web/html.hpp"
#include "web/i18n.hpp"
#include "web/pages.hpp"
#include "web_samples.hpp"

using namespace cardsmith::web;
using namespace cardsmith::web::test;

BOOST_AUTO_TEST_SUITE(web_html)

BOOST_AUTO_TEST_CASE(escaping) {
    BOOST_TEST(escape_text("a<b>&\"'") == "a&lt;b&gt;&amp;\"'");
    BOOST_TEST(escape_attr("a<b>&\"'") == "a&lt;b&gt;&amp;&quot;&#39;");
    BOOST_TEST(escape_attr("\"><img src=x onerror=1>") == "&quot;&gt;&lt;img src=x onerror=1&gt;");
    BOOST_TEST(escape_text("Анна ☕") == "Анна ☕");
}

BOOST_AUTO_TEST_CASE(safe_urls) {
    BOOST_TEST(is_safe_url("https://example.com/terms"));
    BOOST_TEST(is_safe_url("HTTP://example.com"));
    BOOST_TEST(is_safe_url("/join/x?ref=1"));
    BOOST_TEST(is_safe_url("terms.html"));
    BOOST_TEST(is_safe_url("//cdn.example.com/logo.png"));
    BOOST_TEST(!is_safe_url(""));
    BOOST_TEST(!is_safe_url("javascript:alert(1)"));
    BOOST_TEST(!is_safe_url("JavaScript:alert(1)"));
    BOOST_TEST(!is_safe_url("java\tscript:alert(1)"));
    BOOST_TEST(!is_safe_url(" javascript:alert(1)"));
    BOOST_TEST(!is_safe_url("data:text/html,<b>"));
}

BOOST_AUTO_TEST_CASE(builder_escapes_and_nests) {
    Html html;
    html.open("p", {{"title", "a\"b"}, Attr::flag("hidden"), Attr::if_set("id", "")})
        .text("<b>")
        .text_with("sent to {}.", "strong", "<x>")
        .close("p");
    BOOST_TEST(std::move(html).finish() ==
               "<p title=\"a&quot;b\" hidden>&lt;b&gt;sent to <strong>&lt;x&gt;</strong>.</p>");
}

BOOST_AUTO_TEST_CASE(stylesheet_and_version) {
    BOOST_TEST(stylesheet_version().size() == 16U);
    BOOST_TEST(stylesheet_version().find_first_not_of("0123456789abcdef") == std::string::npos);
    BOOST_TEST(stylesheet_url() == "/assets/cardsmith.css?v=" + std::string{stylesheet_version()});
    BOOST_TEST(has(std::string{stylesheet()}, "@page{size:A4"));
    BOOST_TEST(has(std::string{stylesheet()}, "@page a5{size:A5"));
    BOOST_TEST(!has(std::string{stylesheet()}, "@import"));
    BOOST_TEST(!has(std::string{stylesheet()}, "url("));  // nothing external, no web fonts
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(web_i18n)

BOOST_AUTO_TEST_CASE(languages_and_fallback) {
    BOOST_TEST((parse_lang("ru") == Lang::ru));
    BOOST_TEST((parse_lang("ru-RU") == Lang::ru));
    BOOST_TEST((parse_lang("RU") == Lang::ru));
    BOOST_TEST((parse_lang("rus") == Lang::en));
    BOOST_TEST((parse_lang("de") == Lang::en));
    BOOST_TEST((parse_lang("") == Lang::en));
    BOOST_TEST(message(Lang::ru, "join.submit") == "Получить карту");
    BOOST_TEST(message(Lang::en, "join.submit") == "Get my card");
    BOOST_TEST(message(Lang::ru, "no.such.key") == "no.such.key");
    BOOST_TEST(!find_message(Lang::en, "no.such.key").has_value());
    BOOST_TEST(*find_message(Lang::ru, "card.apple_big") == "Apple Wallet");
}

BOOST_AUTO_TEST_CASE(russian_plurals) {
    const std::string nb = "\u00a0";
    BOOST_TEST(format_points("ru", 0) == "0 баллов");
    BOOST_TEST(format_points("ru", 1) == "1 балл");
    BOOST_TEST(format_points("ru", 2) == "2 балла");
    BOOST_TEST(format_points("ru", 4) == "4 балла");
    BOOST_TEST(format_points("ru", 5) == "5 баллов");
    BOOST_TEST(format_points("ru", 11) == "11 баллов");
    BOOST_TEST(format_points("ru", 12) == "12 баллов");
    BOOST_TEST(format_points("ru", 14) == "14 баллов");
    BOOST_TEST(format_points("ru", 21) == "21 балл");
    BOOST_TEST(format_points("ru", 22) == "22 балла");
    BOOST_TEST(format_points("ru", 25) == "25 баллов");
    BOOST_TEST(format_points("ru", 111) == "111 баллов");
    BOOST_TEST(format_points("ru", 101) == "101 балл");
    BOOST_TEST(format_points("ru", 1250) == "1" + nb + "250 баллов");
    BOOST_TEST(format_points("ru", -3) == "-3 балла");
}

BOOST_AUTO_TEST_CASE(english_points_and_numbers) {
    BOOST_TEST(format_points("en", 1) == "1 point");
    BOOST_TEST(format_points("en", 0) == "0 points");
    BOOST_TEST(format_points("en", 21) == "21 points");
    BOOST_TEST(format_points("en", 1250) == "1,250 points");
    BOOST_TEST(format_number(Lang::en, 1234567) == "1,234,567");
    BOOST_TEST(format_number(Lang::en, 100) == "100");
    BOOST_TEST(format_number(Lang::en, -1000) == "-1,000");
    BOOST_TEST(format_number(Lang::en, INT64_MIN) == "-9,223,372,036,854,775,808");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(web_pages)

BOOST_AUTO_TEST_CASE(every_page_is_an_html5_document_without_inline_code) {
    const std::regex handler{R"( on[a-z]+=)", std::regex::icase};
    for (std::string_view lang : {"en", "ru"}) {
        for (const std::string& page : every_page(lang)) {
            BOOST_TEST(page.starts_with("<!doctype html>\n<html lang=\"" + std::string{lang} +
                                        "\"><head><meta charset=\"utf-8\">"));
            BOOST_TEST(has(page, R"(<meta name="viewport" content="width=device-width, )"
                                 R"(initial-scale=1">)"));
            BOOST_TEST(has(page, "<link rel=\"stylesheet\" href=\"" + stylesheet_url() + "\">"));
            BOOST_TEST(has(page, "<title>"));
            BOOST_TEST(!has(page, "<script"));
            BOOST_TEST(!has(page, " style="));
            BOOST_TEST(!std::regex_search(page, handler));
            BOOST_TEST(page.ends_with("</body></html>\n"));
        }
    }
}

BOOST_AUTO_TEST_CASE(program_colours_in_a_nonced_style_element) {
    const std::string page = render_join(sample_join());
    BOOST_TEST(has(page,
                   "<style nonce=\"n0nce\">:root{--brand-bg:#3B2418;--brand-fg:#FFFFFF;"
                   "--brand-label:#E8C39E}</style>"));
    BOOST_TEST(has(page, R"(<meta name="theme-color" content="#3B2418">)"));

    JoinPage hostile = sample_join();
    hostile.look.colors.background = "red}</style><script>alert(1)</script>";
    hostile.style_nonce = "\"><x";
    const std::string bad = render_join(hostile);
    BOOST_TEST(has(bad, "--brand-bg:#ffffff;"));
    BOOST_TEST(!has(bad, "<script"));
    BOOST_TEST(has(bad, "<style nonce=\"&quot;&gt;&lt;x\">"));
    // The error page has no program and so no <style> at all.
    BOOST_TEST(!has(render_error_page("en", 404, "program_not_found"), "<style"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(web_validation)

namespace {

// The lines of a tidy report other than known-valid attributes tidy 5.6 does not know.
std::string unexpected_tidy_warnings(const std::string& report) {
    static const std::regex known{
        R"re(Warning: <[a-z]+> proprietary attribute "(nonce|inputmode|autocapitalize|)re"
        R"re(minlength|shape-rendering|fill|stroke|stroke-width|stroke-linejoin|)re"
        R"re(stroke-linecap)")re"};
    std::string unexpected;
    std::istringstream lines{report};
    for (std::string line; std::getline(lines, line);) {
        if (!line.empty() && !std::regex_search(line, known)) {
            unexpected += line + "\n";
        }
    }
    return unexpected;
}

}  // namespace

// Every kind of page through the HTML checker of Debian's tidy package (scripts/deps.sh
// installs it): no errors, and no warnings but tidy 5.6's "proprietary attribute" for
// attributes that HTML5 and SVG define and that tidy predates. The pages are left in the
// build directory (tests/web-pages/) for a look in a browser.
BOOST_AUTO_TEST_CASE(tidy_finds_nothing) {
    if (std::system("command -v tidy > /dev/null 2>&1") != 0) {
        BOOST_TEST_MESSAGE("tidy is not installed: skipped");
        return;
    }
    const std::filesystem::path dir =
        std::filesystem::path{CARDSMITH_BINARY_DIR} / "tests" / "web-pages";
    std::filesystem::create_directories(dir);
    std::ofstream{dir / "cardsmith.css"} << stylesheet();
    const std::vector<std::string> names{"join", "verify", "card", "poster", "error"};
    for (std::string_view lang : {"en", "ru"}) {
        const std::vector<std::string> pages = every_page(lang);
        for (std::size_t i = 0; i < pages.size(); ++i) {
            const auto file = dir / (names[i] + "-" + std::string{lang} + ".html");
            std::string local = pages[i];
            local.replace(local.find(stylesheet_url()), stylesheet_url().size(), "cardsmith.css");
            std::ofstream{file} << local;
            const auto report = dir / (names[i] + "-" + std::string{lang} + ".tidy.txt");
            const std::string command = "tidy -q -errors --show-warnings yes " + file.string() +
                                        " > " + report.string() + " 2>&1";
            const int status = std::system(command.c_str());
            std::ifstream in{report};
            const std::string output{std::istreambuf_iterator<char>{in}, {}};
            BOOST_TEST_INFO(file.string() << ":\n" << output);
            BOOST_TEST((status == 0 || WEXITSTATUS(status) == 1));  // 1: warnings only
            BOOST_TEST(unexpected_tidy_warnings(output).empty());
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
