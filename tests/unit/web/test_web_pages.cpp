#include <boost/test/unit_test.hpp>
#include <regex>
#include <string>

#include "web/assets.hpp"
#include "web/pages.hpp"
#include "web_samples.hpp"

using namespace cardsmith::web;
using namespace cardsmith::web::test;

BOOST_AUTO_TEST_SUITE(web_join)

BOOST_AUTO_TEST_CASE(fields_follow_the_program) {
    const std::string page = render_join(sample_join());
    // name: required
    const std::string name = tag_with(page, "name=\"name\"");
    BOOST_TEST(has(name, " required"));
    BOOST_TEST(has(name, "autocomplete=\"name\""));
    BOOST_TEST(has(name, "id=\"f-name\""));
    BOOST_TEST(has(page, "<label for=\"f-name\">Name</label>"));
    // phone: optional, tel keyboard, hint linked
    const std::string phone = tag_with(page, "name=\"phone\"");
    BOOST_TEST(!has(phone, " required"));
    BOOST_TEST(has(phone, "type=\"tel\""));
    BOOST_TEST(has(phone, "inputmode=\"tel\""));
    BOOST_TEST(has(phone, "autocomplete=\"tel\""));
    BOOST_TEST(has(phone, "aria-describedby=\"f-phone-hint\""));
    BOOST_TEST(has(page, "id=\"f-phone-hint\""));
    BOOST_TEST(has(page, "<label for=\"f-phone\">Phone <span class=\"opt\">(optional)</span>"));
    // email: off
    BOOST_TEST(!has(page, "name=\"email\""));
    BOOST_TEST(!has(page, "f-email"));
    // birthday: required date
    const std::string birthday = tag_with(page, "name=\"birthday\"");
    BOOST_TEST(has(birthday, "type=\"date\""));
    BOOST_TEST(has(birthday, "autocomplete=\"bday\""));
    BOOST_TEST(has(birthday, " required"));

    JoinPage all_optional = sample_join();
    all_optional.form.email = FieldMode::optional;
    const std::string email = tag_with(render_join(all_optional), "name=\"email\"");
    BOOST_TEST(has(email, "type=\"email\""));
    BOOST_TEST(has(email, "inputmode=\"email\""));
    BOOST_TEST(has(email, "autocomplete=\"email\""));
    BOOST_TEST(!has(email, " required"));
}

BOOST_AUTO_TEST_CASE(consent_csrf_and_carried_inputs) {
    const std::string page = render_join(sample_join());
    const std::string consent = tag_with(page, "name=\"consent\"");
    BOOST_TEST(has(consent, "type=\"checkbox\""));
    BOOST_TEST(has(consent, " required"));
    BOOST_TEST(!has(consent, " checked"));
    BOOST_TEST(has(page, "<label for=\"f-consent\">"));
    BOOST_TEST(has(page,
                   "<a href=\"https://bean-there.example/terms\" target=\"_blank\" "
                   "rel=\"noopener noreferrer\">Terms and privacy</a>"));
    BOOST_TEST(has(page, R"(<form method="post" action="/join/bean-there">)"));
    BOOST_TEST(has(page, R"(<input type="hidden" name="csrf" value="csrf-token-123">)"));
    BOOST_TEST(has(page, R"(<input type="hidden" name="src" value="poster">)"));
    BOOST_TEST(has(page, R"(<input type="hidden" name="ref" value="R3F">)"));
    BOOST_TEST(has(page, R"(<button class="btn btn-primary" type="submit">Get my card</button>)"));

    JoinPage plain = sample_join();
    plain.src.clear();
    plain.ref.clear();
    plain.form.terms_url = "javascript:alert(1)";
    plain.values["consent"] = "on";
    const std::string no_extras = render_join(plain);
    BOOST_TEST(!has(no_extras, "name=\"src\""));
    BOOST_TEST(!has(no_extras, "name=\"ref\""));
    BOOST_TEST(!has(no_extras, "javascript:"));
    BOOST_TEST(has(tag_with(no_extras, "name=\"consent\""), " checked"));
}

BOOST_AUTO_TEST_CASE(errors_are_translated_linked_and_values_kept) {
    JoinPage page = sample_join();
    page.values = {{"name", "Anna"}, {"phone", "0151 1234"}};
    page.errors = {
        {"phone", "invalid_phone"}, {"consent", "consent_required"}, {"form", "<b>mystery</b>"}};
    const std::string html = render_join(page);
    const std::string phone = tag_with(html, "name=\"phone\"");
    BOOST_TEST(has(phone, "value=\"0151 1234\""));
    BOOST_TEST(has(phone, "aria-invalid=\"true\""));
    BOOST_TEST(has(phone, "aria-describedby=\"f-phone-hint f-phone-err\""));
    BOOST_TEST(has(html, "<p class=\"err\" id=\"f-phone-err\">Enter an international number"));
    BOOST_TEST(has(tag_with(html, "name=\"name\""), "value=\"Anna\""));
    BOOST_TEST(has(tag_with(html, "name=\"consent\""), "aria-describedby=\"f-consent-err\""));
    BOOST_TEST(has(html, "id=\"f-consent-err\">Please agree"));
    BOOST_TEST(has(html, "<div class=\"alert\" role=\"alert\"><p>Please check the fields"));
    BOOST_TEST(has(html, "<p>&lt;b&gt;mystery&lt;/b&gt;</p>"));  // unknown key, escaped
    BOOST_TEST(!has(html, "<b>"));

    page.lang = "ru";
    const std::string ru = render_join(page);
    BOOST_TEST(has(ru, "id=\"f-phone-err\">Введите номер в международном формате"));
    BOOST_TEST(has(ru, ">Получить карту</button>"));
    BOOST_TEST(has(ru, "<html lang=\"ru\">"));
    BOOST_TEST(has(ru, "<span class=\"opt\">(необязательно)</span>"));
}

BOOST_AUTO_TEST_CASE(hostile_strings_are_escaped) {
    JoinPage page = sample_join();
    page.look.name = "<script>alert(1)</script>";
    page.look.description = "Tom & Jerry's \"caf\u00e9\"";
    page.look.logo_url = "/logo.png\"onerror=\"alert(1)";
    page.values = {{"name", "\"><img src=x onerror=1>"}};
    page.notice = "<i>soon</i>";
    page.csrf_token = "\"><x";
    page.src = "'><y";
    const std::string html = render_join(page);
    BOOST_TEST(has(html, "<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>"));
    BOOST_TEST(has(html, "<title>Get your loyalty card · &lt;script&gt;"));
    BOOST_TEST(has(html, "Tom &amp; Jerry's \"caf\u00e9\""));
    BOOST_TEST(has(html, "value=\"&quot;&gt;&lt;img src=x onerror=1&gt;\""));
    BOOST_TEST(has(html, "src=\"/logo.png&quot;onerror=&quot;alert(1)\""));
    BOOST_TEST(has(html, "&lt;i&gt;soon&lt;/i&gt;"));
    BOOST_TEST(!has(html, "<script"));
    BOOST_TEST(!has(html, "<img src=x"));
    BOOST_TEST(!has(html, "<i>"));
    // With every quoted attribute value taken out, no event handler is left in any tag.
    const std::string bare = std::regex_replace(html, std::regex{R"("[^"]*")"}, "\"\"");
    BOOST_TEST(!std::regex_search(bare, std::regex{R"(\son[a-z]+=)", std::regex::icase}));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(web_verify)

BOOST_AUTO_TEST_CASE(code_entry) {
    VerifyPage page = sample_verify();
    page.errors = {{"code", "code_expired"}};
    const std::string html = render_verify(page);
    BOOST_TEST(has(html, "We sent a code to <strong>+49151…78</strong>."));
    const std::string code = tag_with(html, "name=\"code\"");
    BOOST_TEST(has(code, "inputmode=\"numeric\""));
    BOOST_TEST(has(code, "autocomplete=\"one-time-code\""));
    BOOST_TEST(has(code, "pattern=\"[0-9]{6}\""));
    BOOST_TEST(has(code, "maxlength=\"6\""));
    BOOST_TEST(has(code, " required"));
    BOOST_TEST(has(code, "aria-describedby=\"f-code-err\""));
    BOOST_TEST(has(html, "<label for=\"f-code\">6-digit code</label>"));
    BOOST_TEST(has(html, "id=\"f-code-err\">This code has expired."));
    BOOST_TEST(!has(html, "class=\"alert\""));  // the field's own message is enough
    BOOST_TEST(has(html, R"(<input type="hidden" name="csrf" value="csrf-token-123">)"));
    BOOST_TEST(has(html, R"(<input type="hidden" name="pending" value="p-42">)"));
    BOOST_TEST(has(html, R"(<form method="post" action="/join/bean-there/verify">)"));
    const std::string resend = tag_with(html, "name=\"resend\"");
    BOOST_TEST(has(resend, "type=\"submit\""));
    BOOST_TEST(has(resend, " formnovalidate"));
    // Enter submits the first button: Confirm comes before Resend.
    BOOST_TEST(html.find(">Confirm</button>") < html.find(">Send a new code</button>"));
    BOOST_TEST(has(html, R"(<meta name="referrer" content="no-referrer">)"));

    page.lang = "ru";
    page.errors = {{"form", "too_many_attempts"}};
    page.destination_masked = "<b>";
    const std::string ru = render_verify(page);
    BOOST_TEST(has(ru, "Мы отправили код на <strong>&lt;b&gt;</strong>."));
    BOOST_TEST(has(ru, "<p>Слишком много попыток. Попробуйте позже.</p>"));
    BOOST_TEST(has(ru, ">Подтвердить</button>"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(web_card)

BOOST_AUTO_TEST_CASE(the_card_front) {
    CardPage page = sample_card();
    const std::string html = render_card(page);
    BOOST_TEST(
        has(html, "<div class=\"qr\" role=\"img\" aria-label=\"QR code of the card number\">" +
                      kQr + "</div>"));
    BOOST_TEST(has(html, ">5204 1873 9405 5128</span>"));
    BOOST_TEST(has(html, "<span class=\"pass-points\">1,250</span>"));
    BOOST_TEST(has(html, "<span class=\"pass-unit\">points</span>"));
    BOOST_TEST(has(html, "<span class=\"pass-value\">Gold</span>"));
    BOOST_TEST(has(html, "<span class=\"pass-value\">Anna</span>"));
    BOOST_TEST(has(html, "<span class=\"pass-value\">Free cake on Fridays</span>"));
    BOOST_TEST(has(html, "<h1 class=\"pass-name\">Bean There</h1>"));
    BOOST_TEST(has(html, R"(<img class="pass-logo" src="/images/bean-there/logo.png" )"
                         R"(alt="Bean There GmbH">)"));
    BOOST_TEST(has(html, R"(<meta name="robots" content="noindex, nofollow">)"));
    BOOST_TEST(has(html, R"(<meta name="referrer" content="no-referrer">)"));
    BOOST_TEST(!has(html, "Welcome back"));
    BOOST_TEST(has(html, "<a class=\"invite-link\" href=\"" + page.invite_url + "\">"));

    page.restored = true;
    page.invite_url.clear();
    page.lang = "ru";
    page.balance = 22;
    page.qr_svg = "<?xml version=\"1.0\"?>\n" + kQr;
    const std::string ru = render_card(page);
    BOOST_TEST(has(ru, "С возвращением! Это ваша карта."));
    BOOST_TEST(!has(ru, "invite"));
    BOOST_TEST(
        has(ru, "<span class=\"pass-points\">22</span><span class=\"pass-unit\">балла</span>"));
    BOOST_TEST(!has(ru, "<?xml"));
    BOOST_TEST(has(ru, "Добавить в Google Кошелёк"));
}

BOOST_AUTO_TEST_CASE(wallet_buttons_follow_the_platform) {
    CardPage page = sample_card();
    const auto apple = [](const std::string& h) { return h.find("class=\"btn btn-apple\""); };
    const auto google = [](const std::string& h) { return h.find("class=\"btn btn-google\""); };
    const auto file = [](const std::string& h) { return h.find("class=\"btn btn-file\""); };
    constexpr auto npos = std::string::npos;

    page.platform = Platform::ios;
    std::string html = render_card(page);
    BOOST_TEST(apple(html) != npos);
    BOOST_TEST(google(html) != npos);
    BOOST_TEST(apple(html) < google(html));
    BOOST_TEST(file(html) == npos);
    BOOST_TEST(has(html, "<a class=\"btn btn-apple\" href=\"" + page.pkpass_url + "\">"));
    BOOST_TEST(has(html,
                   "<span class=\"btn-small\">Add to</span> "
                   "<span class=\"btn-big\">Apple Wallet</span>"));

    page.platform = Platform::android;
    html = render_card(page);
    BOOST_TEST(google(html) != npos);
    BOOST_TEST(file(html) != npos);
    BOOST_TEST(google(html) < file(html));
    BOOST_TEST(apple(html) == npos);
    BOOST_TEST(has(html, "<a class=\"btn btn-file\" href=\"" + page.pkpass_url + "\">"));
    BOOST_TEST(has(html, "WalletPasses, Wallet Union"));

    page.platform = Platform::other;
    html = render_card(page);
    BOOST_TEST(apple(html) < google(html));
    BOOST_TEST(google(html) != npos);

    page.google_save_url.clear();
    for (Platform p : {Platform::ios, Platform::android, Platform::other}) {
        page.platform = p;
        html = render_card(page);
        BOOST_TEST(google(html) == npos);
        BOOST_TEST(!has(html, "Google"));
        BOOST_TEST(has(html, "href=\"" + page.pkpass_url + "\""));
    }
}

BOOST_AUTO_TEST_CASE(platforms_from_real_user_agents) {
    BOOST_TEST(
        (platform_from_user_agent(
             "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
             "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1") == Platform::ios));
    BOOST_TEST(
        (platform_from_user_agent(
             "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
             "like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1") == Platform::ios));
    BOOST_TEST((platform_from_user_agent(
                    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, "
                    "like Gecko) Mobile/15E148 Instagram 312.0") == Platform::ios));
    BOOST_TEST((platform_from_user_agent(
                    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like "
                    "Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36") == Platform::android));
    BOOST_TEST((platform_from_user_agent(
                    "Mozilla/5.0 (Linux; Android 10; HarmonyOS; ELS-AN00; HMSCore 6.1.0.314) "
                    "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/92.0.4515.105 "
                    "HuaweiBrowser/12.0.4.300 Mobile Safari/537.36") == Platform::android));
    BOOST_TEST(
        (platform_from_user_agent(
             "Mozilla/5.0 (Phone; OpenHarmony 4.1) AppleWebKit/537.36 (KHTML, like Gecko) "
             "Chrome/114.0.0.0 Safari/537.36 ArkWeb/4.1.6.1 Mobile HuaweiBrowser/5.0.3.300") ==
         Platform::android));
    BOOST_TEST((platform_from_user_agent("Mozilla/5.0 (X11; Linux x86_64; rv:125.0) "
                                         "Gecko/20100101 Firefox/125.0") == Platform::other));
    BOOST_TEST((platform_from_user_agent(
                    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
                    "Gecko) Chrome/124.0.0.0 Safari/537.36") == Platform::other));
    BOOST_TEST((platform_from_user_agent(
                    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, "
                    "like Gecko) Version/17.4 Safari/605.1.15") == Platform::other));
    BOOST_TEST((platform_from_user_agent("") == Platform::other));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(web_poster_and_errors)

BOOST_AUTO_TEST_CASE(poster) {
    PosterPage page = sample_poster();
    const std::string html = render_poster(page);
    BOOST_TEST(has(html, "<main class=\"poster\">"));
    BOOST_TEST(has(html, "<h1 class=\"poster-name\">Bean There</h1>"));
    BOOST_TEST(has(html, kQr));
    BOOST_TEST(has(html, "<strong>Scan</strong>"));
    BOOST_TEST(has(html, "<strong>Fill the form</strong>"));
    BOOST_TEST(has(html, "<strong>Add to Wallet</strong>"));
    BOOST_TEST(has(html, "<strong>https://cards.example.com/join/bean-there?src=poster</strong>"));
    // The print rules live in the linked stylesheet.
    BOOST_TEST(has(html, stylesheet_url()));
    BOOST_TEST(has(std::string{stylesheet()}, "@page{size:A4 portrait;margin:0}"));
    page.paper = PaperSize::a5;
    page.lang = "ru";
    const std::string a5 = render_poster(page);
    BOOST_TEST(has(a5, "<main class=\"poster poster-a5\">"));
    BOOST_TEST(has(std::string{stylesheet()}, ".poster-a5{--u:.7048mm;page:a5}"));
    BOOST_TEST(has(a5, "<strong>Отсканируйте</strong>"));
}

BOOST_AUTO_TEST_CASE(error_pages) {
    const std::string en = render_error_page("en", 404, "program_not_found");
    BOOST_TEST(has(en, "<title>Not found</title>"));
    BOOST_TEST(has(en, "<h1>Not found</h1>"));
    BOOST_TEST(has(en, "This loyalty program does not exist"));
    const std::string ru = render_error_page("ru", 429, "too_many_attempts");
    BOOST_TEST(has(ru, "<h1>Слишком много запросов</h1>"));
    BOOST_TEST(has(ru, "Слишком много попыток"));
    const std::string odd = render_error_page("en", 418, "<teapot>");
    BOOST_TEST(has(odd, "<h1>Something went wrong</h1>"));
    BOOST_TEST(has(odd, "<p>&lt;teapot&gt;</p>"));
}

BOOST_AUTO_TEST_SUITE_END()
